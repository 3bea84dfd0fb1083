package main

import (
	"sort"
	"strings"
)

// helpText is "authorizer help".
func helpText() string {
	var b strings.Builder
	b.WriteString(`authorizer: get, show and use tokens for configured environments.

usage: authorizer <command> [flags] [args]

commands:
`)
	ns := make([]string, 0, len(commands))
	for n := range commands {
		ns = append(ns, n)
	}
	sort.Strings(ns)
	for _, n := range ns {
		b.WriteString("  " + commands[n].usage + "\n")
	}
	b.WriteString(helpBody)
	return b.String()
}

const helpBody = `
Run "authorizer <command> -h" for a command's flags (-e, --format, --refresh,
--quiet, --config, --cache-dir, --device, --discover).

Output: tokens (and info's report) on stdout; progress, prompts, the device
code and errors on stderr. Each error is one line ending in [code], the
provider's RFC 6749 error code or the SDK error's kind.

Configuration: a JSON file of named environments, from --config, else
$AUTHORIZER_CONFIG, else <user config dir>/authorizer/environments.json. Each
is what oauth2auth.LoadEnvironments reads (issuer, token_url, scopes,
resources, audience, params, client_auth, ...) plus:
  flow                client_credentials (default), device, browser, srp
  client_id           the client's id (required)
  client_secret_env   env variable holding the client secret
  client_secret_file  file holding the client secret
  api_key_env, api_key_file   an X-Api-Key for the API gateway
  srp: region, user_pool_id, endpoint, username, password_env, password_file
Secrets are never read from flags or from the file itself. An SRP password
not named by password_env/password_file is asked for on the terminal with
echo off.
One more environment comes from the process: AUTHORIZER_ISSUER or
AUTHORIZER_TOKEN_URL (and the other oauth2auth.EnvironmentFromEnv variables
with prefix AUTHORIZER_), AUTHORIZER_FLOW, AUTHORIZER_CLIENT_ID,
AUTHORIZER_CLIENT_SECRET, AUTHORIZER_API_KEY; for srp AUTHORIZER_REGION,
AUTHORIZER_USER_POOL_ID, AUTHORIZER_ENDPOINT, AUTHORIZER_USERNAME,
AUTHORIZER_PASSWORD or AUTHORIZER_PASSWORD_FILE. Its name is $AUTHORIZER_NAME
(default "env"). -e defaults to $AUTHORIZER_ENV, or the only environment.

Cache: tokens are kept in an encrypted file cache (AES-GCM, files 0600 in a
0700 directory) in --cache-dir, else $AUTHORIZER_CACHE_DIR, else
<user cache dir>/authorizer. The encryption key is $AUTHORIZER_CACHE_KEY
(32 bytes, hex or base64) when set; otherwise the key file "cache.key"
beside the cache, created 0600 with 32 random bytes on first use (whoever can
read it and the cache can read the tokens: keep the key in a secret store and
set AUTHORIZER_CACHE_KEY for more). A cached token is reused across runs
until it expires; --refresh gets a new one; "authorizer reset" forgets it.
Runs started at once share one sign-in (device, browser: the second waits
on the cache's file lock); client-credentials and SRP runs wait for it at
most 2 s (base.Transport's rule) and may then each ask for a token. The cache key
is the issuer, token URL, client id, scopes, flow, audience, resources, params,
the SRP endpoint and the user.

Sign-in (device, browser): login opens the browser (authorization code with
PKCE on a loopback redirect); with --device, or when no browser can be opened
(no DISPLAY/WAYLAND_DISPLAY/BROWSER, an SSH session, or the opener fails), it
shows a device code instead. token/header/curl sign in only when nothing
cached or refreshable is left. logout revokes the tokens and forgets them.

curl: the headers reach curl through a config on file descriptor 3
(-K /dev/fd/3), never on its command line; curl's exit status is passed
through.

Exit codes:
  0  success (info: the token is valid: in time and its signature verified)
  1  failure (info: the token is expired, malformed or its signature invalid)
  2  bad command line
  3  configuration error (*authorizer.InvalidConfigError)
  4  the provider refused the client (*authorizer.InvalidClientError)
  5  the provider refused the credentials (*authorizer.InvalidCredentialsError)
  6  temporary failure: network, timeout, 5xx, 429 (retrying may help)
  7  info: the token is in time but its signature was not checked (issuer not
     configured; --discover to fetch its keys)
  129, 130, 143  ended by SIGHUP, SIGINT (Ctrl-C) or SIGTERM (128 + the
     signal): the run stops at once, even at the password prompt, after its
     clean-up (terminal echo back on, cache lock released, curl killed); a
     second signal ends it without clean-up; a signal ignored when the run
     started (nohup) stays ignored
  curl: curl's own exit status
`
