package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/oauth2auth"
	"github.com/seed-d44eba79/authorizer/srp"
)

// Flows an environment can use.
const (
	flowClientCredentials = "client_credentials"
	flowDevice            = "device"
	flowBrowser           = "browser"
	flowSRP               = "srp"
)

// envConfig is one named environment of the configuration: an
// oauth2auth.Environment (or an srp.Environment) plus the flow, the client
// and where its secrets are. Secrets themselves are never in the file.
type envConfig struct {
	Name             string
	Flow             string
	ClientID         string
	ClientSecretEnv  string
	ClientSecretFile string
	APIKeyEnv        string
	APIKeyFile       string
	UserName         string
	PasswordEnv      string
	PasswordFile     string
	OAuth            oauth2auth.Environment
	SRP              srp.Environment
	// secret values read from the process environment (the env-var source)
	clientSecret, apiKey string
}

// cliFields are the keys this command adds to the JSON that
// oauth2auth.LoadEnvironments reads.
var cliFields = map[string]func(c *envConfig) *string{
	"flow":               func(c *envConfig) *string { return &c.Flow },
	"client_id":          func(c *envConfig) *string { return &c.ClientID },
	"client_secret_env":  func(c *envConfig) *string { return &c.ClientSecretEnv },
	"client_secret_file": func(c *envConfig) *string { return &c.ClientSecretFile },
	"api_key_env":        func(c *envConfig) *string { return &c.APIKeyEnv },
	"api_key_file":       func(c *envConfig) *string { return &c.APIKeyFile },
	"username":           func(c *envConfig) *string { return &c.UserName },
	"password_env":       func(c *envConfig) *string { return &c.PasswordEnv },
	"password_file":      func(c *envConfig) *string { return &c.PasswordFile },
	"region":             func(c *envConfig) *string { return &c.SRP.Region },
	"user_pool_id":       func(c *envConfig) *string { return &c.SRP.UserPoolID },
	"endpoint":           func(c *envConfig) *string { return &c.SRP.Endpoint },
}

// configPath is the file named by the flag, else $AUTHORIZER_CONFIG, else
// <user config dir>/authorizer/environments.json; explicit says whether it
// must exist.
func configPath(flagValue string) (path string, explicit bool) {
	if flagValue != "" {
		return flagValue, true
	}
	if p := os.Getenv("AUTHORIZER_CONFIG"); p != "" {
		return p, true
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", false
	}
	return filepath.Join(dir, "authorizer", "environments.json"), false
}

// loadConfig reads the environments of the file and of the process
// environment (AUTHORIZER_ISSUER …, see --help).
func loadConfig(flagValue string) (map[string]*envConfig, error) {
	envs := map[string]*envConfig{}
	path, explicit := configPath(flagValue)
	if path != "" {
		raw, err := readConfigFile(path)
		var ice *authorizer.InvalidConfigError
		switch {
		case errors.As(err, &ice):
			return nil, err
		case err == nil:
			if envs, err = parseConfig(raw); err != nil {
				return nil, err
			}
		case explicit || !errors.Is(err, os.ErrNotExist):
			return nil, &authorizer.InvalidConfigError{Setting: "config file " + path, Problem: "cannot be read"}
		}
	}
	if c, ok, err := configFromProcessEnv(); err != nil {
		return nil, err
	} else if ok {
		envs[c.Name] = c
	}
	return envs, nil
}

// maxConfigSize caps the environments file.
const maxConfigSize = 1 << 20

// readConfigFile reads the environments file, refusing what is not a
// regular file (a FIFO or a device would block or never end) or is larger
// than maxConfigSize.
func readConfigFile(path string) ([]byte, error) {
	st, err := os.Stat(path) // does not block on a FIFO, unlike open
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, &authorizer.InvalidConfigError{Setting: "config file " + path, Problem: "is not a regular file"}
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	raw, err := io.ReadAll(io.LimitReader(f, maxConfigSize+1))
	if err == nil && len(raw) > maxConfigSize {
		return nil, &authorizer.InvalidConfigError{Setting: "config file " + path, Problem: "is larger than 1 MiB"}
	}
	return raw, err
}

// parseConfig decodes the file: one object of named environments.
func parseConfig(raw []byte) (map[string]*envConfig, error) {
	var top map[string]map[string]json.RawMessage
	if err := json.Unmarshal(raw, &top); err != nil {
		return nil, &authorizer.InvalidConfigError{Setting: "config file", Problem: "is not a JSON object of environments"}
	}
	envs := make(map[string]*envConfig, len(top))
	for name, fields := range top {
		c, err := parseEnv(name, fields)
		if err != nil {
			return nil, err
		}
		envs[name] = c
	}
	return envs, nil
}

// parseEnv takes this command's fields out and decodes the rest as an
// oauth2auth.Environment, refusing unknown fields as LoadEnvironments does.
func parseEnv(name string, fields map[string]json.RawMessage) (*envConfig, error) {
	c := &envConfig{Name: name}
	for k, get := range cliFields {
		v, ok := fields[k]
		if !ok {
			continue
		}
		if err := json.Unmarshal(v, get(c)); err != nil {
			return nil, &authorizer.InvalidConfigError{Setting: "environment " + name + ": " + k, Problem: "is not a string"}
		}
		delete(fields, k)
	}
	rest, _ := json.Marshal(fields)
	dec := json.NewDecoder(bytes.NewReader(rest))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c.OAuth); err != nil && !errors.Is(err, io.EOF) {
		return nil, &authorizer.InvalidConfigError{Setting: "environment " + name, Problem: "has an unknown or mistyped field"}
	}
	if c.OAuth.Name == "" {
		c.OAuth.Name = name
	}
	c.SRP.Name = name
	return c, c.check()
}

// configFromProcessEnv reads the environment AUTHORIZER_* describes, if any.
func configFromProcessEnv() (*envConfig, bool, error) {
	if os.Getenv("AUTHORIZER_ISSUER") == "" && os.Getenv("AUTHORIZER_TOKEN_URL") == "" &&
		os.Getenv("AUTHORIZER_USER_POOL_ID") == "" {
		return nil, false, nil
	}
	c := &envConfig{
		Name:         os.Getenv("AUTHORIZER_NAME"),
		Flow:         os.Getenv("AUTHORIZER_FLOW"),
		ClientID:     os.Getenv("AUTHORIZER_CLIENT_ID"),
		UserName:     os.Getenv("AUTHORIZER_USERNAME"),
		PasswordEnv:  "AUTHORIZER_PASSWORD",
		PasswordFile: os.Getenv("AUTHORIZER_PASSWORD_FILE"),
		clientSecret: os.Getenv("AUTHORIZER_CLIENT_SECRET"),
		apiKey:       os.Getenv("AUTHORIZER_API_KEY"),
		SRP: srp.Environment{Region: os.Getenv("AUTHORIZER_REGION"),
			UserPoolID: os.Getenv("AUTHORIZER_USER_POOL_ID"), Endpoint: os.Getenv("AUTHORIZER_ENDPOINT")},
	}
	if c.Name == "" {
		c.Name = "env"
	}
	if c.Flow != flowSRP {
		e, err := oauth2auth.EnvironmentFromEnv("AUTHORIZER")
		if err != nil {
			return nil, false, err
		}
		e.Name = c.Name
		c.OAuth = e
	}
	c.SRP.Name = c.Name
	return c, true, c.check()
}

// check validates what this command adds; the SDK checks the rest.
func (c *envConfig) check() error {
	if c.Flow == "" {
		c.Flow = flowClientCredentials
		if c.SRP.UserPoolID != "" {
			c.Flow = flowSRP
		}
	}
	switch c.Flow {
	case flowClientCredentials, flowDevice, flowBrowser, flowSRP:
	default:
		return &authorizer.InvalidConfigError{Setting: "environment " + c.Name + ": flow",
			Problem: "is not one of client_credentials, device, browser, srp"}
	}
	if c.ClientID == "" {
		return &authorizer.InvalidConfigError{Setting: "environment " + c.Name + ": client_id", Problem: "is unset"}
	}
	for k := range c.OAuth.Params {
		if secretParams[strings.ToLower(k)] {
			return &authorizer.InvalidConfigError{Setting: "environment " + c.Name + ": params." + k,
				Problem: "would put a secret in the file: name it with client_secret_env / client_secret_file instead"}
		}
	}
	return nil
}

// secretParams are request parameters that carry a secret: refused in
// params, so that the file never holds one (and no cache key names one).
var secretParams = map[string]bool{"client_secret": true, "client_assertion": true, "password": true,
	"refresh_token": true, "code": true, "code_verifier": true, "assertion": true, "subject_token": true,
	"actor_token": true, "device_code": true, "api_key": true}

// issuer is what envs shows and what info verifies against.
func (c *envConfig) issuer() string {
	if c.Flow == flowSRP {
		return c.SRP.Issuer()
	}
	if c.OAuth.Issuer != "" {
		return c.OAuth.Issuer
	}
	return c.OAuth.TokenURL
}

// pick returns the environment named, or $AUTHORIZER_ENV, or the only one.
func pick(envs map[string]*envConfig, name string) (*envConfig, error) {
	if name == "" {
		name = os.Getenv("AUTHORIZER_ENV")
	}
	if name == "" && len(envs) == 1 {
		for _, c := range envs {
			return c, nil
		}
	}
	if name == "" {
		return nil, &authorizer.InvalidConfigError{Setting: "-e", Problem: fmt.Sprintf("is needed: %d environments are configured (see authorizer envs)", len(envs))}
	}
	c, ok := envs[name]
	if !ok {
		return nil, &authorizer.InvalidConfigError{Setting: "-e " + name, Problem: "names no configured environment (see authorizer envs)"}
	}
	return c, nil
}

// names lists the environments in order.
func names(envs map[string]*envConfig) []string {
	out := make([]string, 0, len(envs))
	for n := range envs {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// secret reads a secret from the env variable, else the file; "" when neither is named.
func secret(envName, file, what string) (string, error) {
	if envName != "" {
		if v := os.Getenv(envName); v != "" {
			return v, nil
		}
	}
	if file == "" {
		return "", nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", &authorizer.InvalidConfigError{Setting: what + " file " + file, Problem: "cannot be read"}
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}
