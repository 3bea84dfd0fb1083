package oauth2auth

import (
	"bytes"
	"encoding/json"
	"io"
	"net/url"
	"os"
	"strings"

	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/data"
)

// maxEnvironmentsFile caps the size of an environments file.
const maxEnvironmentsFile = 1 << 20

// EnvironmentFromEnv reads an Environment from the process environment,
// from variables named prefix + "_" + field:
//
//	<PREFIX>_NAME            Name (default: prefix in lower case)
//	<PREFIX>_ISSUER          Issuer
//	<PREFIX>_TOKEN_URL       TokenURL
//	<PREFIX>_AUTH_URL        AuthURL
//	<PREFIX>_DEVICE_AUTH_URL DeviceAuthURL
//	<PREFIX>_REVOCATION_URL  RevocationURL
//	<PREFIX>_JWKS_URL        JWKSURL
//	<PREFIX>_SCOPES          Scopes, separated by spaces or commas
//	<PREFIX>_AUDIENCE        Audience
//	<PREFIX>_RESOURCES       Resources, separated by spaces or commas
//	<PREFIX>_PARAMS          Params, as a query string: "a=1&b=2"
//	<PREFIX>_CLIENT_AUTH     ClientAuth: client_secret_basic (basic), client_secret_post (post),
//	                         private_key_jwt or none
//	<PREFIX>_CLIENT_KEY_FILE ClientKeyFile: PEM private key for private_key_jwt
//	<PREFIX>_CLIENT_KEY_ID   ClientKeyID: the key's "kid"
//
// E.g. EnvironmentFromEnv("PROD") reads PROD_ISSUER. The prefix is used as
// given and variable names are case-sensitive (on every system but
// Windows): EnvironmentFromEnv("prod") reads prod_ISSUER, not PROD_ISSUER.
// It returns an *[authorizer.InvalidConfigError] when neither
// <PREFIX>_ISSUER nor <PREFIX>_TOKEN_URL is set, or when <PREFIX>_PARAMS
// does not parse, or <PREFIX>_CLIENT_AUTH is not a known method. URLs and
// the key file are checked by the authorizer constructors (see
// [Environment.Validate]).
func EnvironmentFromEnv(prefix string) (Environment, error) {
	get := func(field string) string { return strings.TrimSpace(os.Getenv(prefix + "_" + field)) }
	e := Environment{
		Name:          get("NAME"),
		Issuer:        get("ISSUER"),
		TokenURL:      get("TOKEN_URL"),
		AuthURL:       get("AUTH_URL"),
		DeviceAuthURL: get("DEVICE_AUTH_URL"),
		RevocationURL: get("REVOCATION_URL"),
		JWKSURL:       get("JWKS_URL"),
		Scopes:        splitList(get("SCOPES")),
		Audience:      get("AUDIENCE"),
		Resources:     splitList(get("RESOURCES")),
		ClientAuth:    get("CLIENT_AUTH"),
		ClientKeyFile: get("CLIENT_KEY_FILE"),
		ClientKeyID:   get("CLIENT_KEY_ID"),
	}
	if _, ok := clientAuthNames[strings.ToLower(e.ClientAuth)]; e.ClientAuth != "" && !ok {
		return e, &authorizer.InvalidConfigError{Setting: "oauth2auth: " + prefix + "_CLIENT_AUTH",
			Problem: "is not one of client_secret_basic, client_secret_post, private_key_jwt, none"}
	}
	if e.Name == "" {
		e.Name = strings.ToLower(prefix)
	}
	if p := get("PARAMS"); p != "" {
		params, err := url.ParseQuery(p)
		if err != nil {
			return e, &authorizer.InvalidConfigError{Setting: "oauth2auth: " + prefix + "_PARAMS", Problem: "is not a query string"}
		}
		e.Params = params
	}
	if e.Issuer == "" && e.TokenURL == "" {
		return e, &authorizer.InvalidConfigError{Setting: "oauth2auth: " + prefix + "_ISSUER",
			Problem: "and " + prefix + "_TOKEN_URL are both unset"}
	}
	return e, nil
}

// ClientInfoFromEnv reads a [data.ClientInfo] from <PREFIX>_CLIENT_ID,
// <PREFIX>_CLIENT_SECRET and <PREFIX>_API_KEY. It returns an
// *[authorizer.InvalidConfigError] when <PREFIX>_CLIENT_ID is unset.
func ClientInfoFromEnv(prefix string) (data.ClientInfo, error) {
	info := data.ClientInfo{
		ClientID:     strings.TrimSpace(os.Getenv(prefix + "_CLIENT_ID")),
		ClientSecret: os.Getenv(prefix + "_CLIENT_SECRET"),
		APIKey:       os.Getenv(prefix + "_API_KEY"),
	}
	if info.ClientID == "" {
		return info, &authorizer.InvalidConfigError{Setting: "oauth2auth: " + prefix + "_CLIENT_ID", Problem: "is unset"}
	}
	return info, nil
}

// splitList splits on spaces and commas, dropping empty items.
func splitList(s string) []string {
	f := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' })
	if len(f) == 0 {
		return nil
	}
	return f
}

// LoadEnvironments reads named environments from a JSON file holding one
// object whose keys are names and whose values are Environments (the JSON
// field names are Environment's tags):
//
//	{
//	  "dev":  {"issuer": "https://dev-idp.example.com", "scopes": ["api"]},
//	  "prod": {"token_url": "https://idp.example.com/oauth2/token",
//	           "audience": "https://api.example.com"}
//	}
//
// An environment without a "name" gets its key. Unknown fields are refused,
// so a typo does not silently drop a setting. "client_auth",
// "client_key_file" and "client_key_id" choose the client authentication
// (see [Environment].ClientAuth). The file holds no secrets (see
// [ClientInfoFromEnv] for those; a private key stays in its own file). Errors are
// *[authorizer.InvalidConfigError] naming the file.
func LoadEnvironments(path string) (map[string]Environment, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &authorizer.InvalidConfigError{Setting: "oauth2auth: environments file " + path, Problem: "cannot be read: " + err.Error()}
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxEnvironmentsFile+1))
	if err != nil || len(b) > maxEnvironmentsFile {
		return nil, &authorizer.InvalidConfigError{Setting: "oauth2auth: environments file " + path, Problem: "cannot be read or is larger than 1 MiB"}
	}
	return parseEnvironments(path, b)
}

func parseEnvironments(path string, b []byte) (map[string]Environment, error) {
	var envs map[string]Environment
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&envs); err != nil {
		return nil, &authorizer.InvalidConfigError{Setting: "oauth2auth: environments file " + path, Problem: "is not valid: " + err.Error()}
	}
	for name, e := range envs {
		if strings.TrimSpace(name) == "" {
			return nil, &authorizer.InvalidConfigError{Setting: "oauth2auth: environments file " + path,
				Problem: "has an environment with an empty name"}
		}
		if e.Name == "" {
			e.Name = name
		}
		if e.Issuer == "" && e.TokenURL == "" {
			return nil, &authorizer.InvalidConfigError{Setting: "oauth2auth: environments file " + path,
				Problem: "environment " + `"` + name + `"` + " needs an issuer or a token_url"}
		}
		envs[name] = e
	}
	return envs, nil
}
