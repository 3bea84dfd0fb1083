package srp

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	authorizer "github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/internal/endpoint"
)

// Environment says which Cognito user pool a client signs in to. The user's
// deployments name theirs ("dev", "staging", "prod").
type Environment struct {
	// Name labels the environment in errors and logs. Optional.
	Name string `json:"name,omitempty"`
	// Region is the AWS region of the user pool, e.g. "eu-west-1". Required.
	Region string `json:"region"`
	// UserPoolID is the pool's id, "<region>_<id>", e.g. "eu-west-1_AbCdEf123".
	// Required; its region part must equal Region.
	UserPoolID string `json:"user_pool_id"`
	// Endpoint overrides the Cognito endpoint (a VPC endpoint, a local
	// stand-in in tests). Optional; by default the SDK resolves the regional
	// endpoint. Plain http is accepted for loopback hosts only, unless the
	// InsecureAllowHTTP option is given.
	Endpoint string `json:"endpoint,omitempty"`
}

// Environment variable suffixes read by EnvironmentFromEnv.
const (
	envName       = "_NAME"
	envRegion     = "_REGION"
	envUserPoolID = "_USER_POOL_ID"
	envEndpoint   = "_ENDPOINT"
)

// EnvironmentFromEnv reads an Environment from the process environment,
// from variables named prefix + "_" + field, as
// [oauth2auth.EnvironmentFromEnv] does:
//
//	<PREFIX>_NAME          Name (default: prefix in lower case)
//	<PREFIX>_REGION        Region (default: the region part of the pool id)
//	<PREFIX>_USER_POOL_ID  UserPoolID, "<region>_<id>"
//	<PREFIX>_ENDPOINT      Endpoint
//
// E.g. EnvironmentFromEnv("COGNITO") reads COGNITO_USER_POOL_ID. Variable
// names are case-sensitive (on every system but Windows), so the prefix is
// used exactly as given. Values are trimmed of surrounding spaces. It
// returns an [*authorizer.InvalidConfigError] naming the variable when
// <PREFIX>_USER_POOL_ID is unset (with the Environment read so far). The
// rest is checked by [NewAuthorizer].
//
// [oauth2auth.EnvironmentFromEnv]: https://pkg.go.dev/github.com/seed-d44eba79/authorizer/oauth2auth#EnvironmentFromEnv
func EnvironmentFromEnv(prefix string) (Environment, error) {
	get := func(suffix string) string { return strings.TrimSpace(os.Getenv(prefix + suffix)) }
	e := Environment{
		Name:       get(envName),
		Region:     get(envRegion),
		UserPoolID: get(envUserPoolID),
		Endpoint:   get(envEndpoint),
	}
	if e.Name == "" {
		e.Name = strings.ToLower(prefix)
	}
	if e.Region == "" {
		e.Region, _, _ = strings.Cut(e.UserPoolID, "_")
	}
	if e.UserPoolID == "" {
		return e, &authorizer.InvalidConfigError{Setting: "srp: " + prefix + envUserPoolID, Problem: "is unset"}
	}
	return e, nil
}

// maxEnvironmentsFile caps the size of an environments file.
const maxEnvironmentsFile = 1 << 20

// LoadEnvironments reads named environments from a JSON file holding one
// object keyed by name:
//
//	{"dev": {"region": "eu-west-1", "user_pool_id": "eu-west-1_AbC"}, "prod": {...}}
//
// An entry without a "name" gets its key. Entries are not validated here:
// NewAuthorizer does.
func LoadEnvironments(path string) (map[string]Environment, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &authorizer.InvalidConfigError{Setting: "srp: environments file", Problem: "cannot be opened: " + err.Error()}
	}
	defer f.Close()
	return decodeEnvironments(io.LimitReader(f, maxEnvironmentsFile+1))
}

func decodeEnvironments(r io.Reader) (map[string]Environment, error) {
	b, err := io.ReadAll(r)
	if err == nil && len(b) > maxEnvironmentsFile {
		err = fmt.Errorf("is larger than %d bytes", maxEnvironmentsFile)
	}
	var envs map[string]Environment
	if err == nil {
		err = json.Unmarshal(b, &envs)
	}
	if err != nil {
		return nil, &authorizer.InvalidConfigError{Setting: "srp: environments file", Problem: "is not valid: " + err.Error()}
	}
	for k, e := range envs {
		if e.Name == "" {
			e.Name = k
			envs[k] = e
		}
	}
	return envs, nil
}

// poolName returns the part of the pool id after "_", which SRP hashes.
func (e Environment) poolName() string {
	_, name, _ := strings.Cut(e.UserPoolID, "_")
	return name
}

// validate checks e; insecure allows a plain-http endpoint anywhere.
func (e Environment) validate(insecure bool) error {
	switch {
	case e.Region == "":
		return configError("Environment.Region", "is empty")
	case e.UserPoolID == "":
		return configError("Environment.UserPoolID", "is empty")
	}
	region, name, ok := strings.Cut(e.UserPoolID, "_")
	if !ok || region == "" || name == "" || strings.Contains(name, "_") {
		return configError("Environment.UserPoolID", `is not of the form "<region>_<id>"`)
	}
	if region != e.Region {
		return configError("Environment.UserPoolID", fmt.Sprintf("is in region %q, not Environment.Region %q", region, e.Region))
	}
	if e.Endpoint == "" {
		return nil
	}
	return checkEndpoint(e.Endpoint, insecure)
}

// checkEndpoint accepts https, and http to a loopback host (or anywhere
// when insecure): the SDK's one rule, [endpoint.Check].
func checkEndpoint(raw string, insecure bool) error {
	if p := endpoint.Check(raw, endpoint.Rule{AllowHTTP: insecure}); p != endpoint.OK {
		return configError("Environment.Endpoint", p.Explain("srp.InsecureAllowHTTP"))
	}
	return nil
}

func configError(setting, problem string) error {
	return &authorizer.InvalidConfigError{Setting: "srp: " + setting, Problem: problem}
}

// Issuer returns the issuer (iss) of the pool's tokens,
// https://cognito-idp.<region>.amazonaws.com/<pool id>, for a receiving
// service that checks them (verify.Cognito applies the same rule).
func (e Environment) Issuer() string {
	return "https://cognito-idp." + e.Region + ".amazonaws.com/" + e.UserPoolID
}

// JWKSURL returns the URL of the pool's signing keys (a JWKS, for
// verify.JWKS): the issuer's /.well-known/jwks.json, or the same path
// under Endpoint when one is set (a local stand-in such as moto).
func (e Environment) JWKSURL() string {
	if e.Endpoint != "" {
		return strings.TrimRight(e.Endpoint, "/") + "/" + e.UserPoolID + "/.well-known/jwks.json"
	}
	return e.Issuer() + "/.well-known/jwks.json"
}
