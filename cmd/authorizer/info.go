package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/seed-d44eba79/authorizer/internal/endpoint"
	"github.com/seed-d44eba79/authorizer/verify"
)

// maxTokenInput caps what info reads from stdin.
const maxTokenInput = 64 << 10

// errInvalidToken makes info exit 1.
var errInvalidToken = errors.New("the token is not valid")

// errUnverified makes info exit 7: the token decodes and is in time, but
// no key checked its signature, so it is not known to be valid.
var errUnverified = errors.New("the token's signature was not verified")

// runInfo decodes a JWT (argument, or stdin for "-" or none), prints its
// header, claims and time left, and verifies it when its issuer is that of
// a configured environment (or, with --discover, its own discovery).
func runInfo(ctx context.Context, g *globals, args []string) error {
	if len(args) > 1 {
		return usageError("info takes one token")
	}
	raw, err := readToken(args)
	if err != nil {
		return err
	}
	header, claims, err := decodeJWT(raw)
	if err != nil {
		return err
	}
	printPart(g, "header", header)
	printPart(g, "claims", claims)
	valid := printExpiry(g, claims)
	iss, _ := claims["iss"].(string)
	if _, err := loadConfig(g.config); err != nil {
		return err // a broken configuration must not turn into "not verified"
	}
	unverified := false
	switch verr, checked := verifyToken(ctx, g, iss, raw); {
	case !checked:
		fmt.Fprintln(g.stdout, "signature: not verified (the issuer is not a configured environment; --discover to fetch its keys)")
		unverified = true
	case verr != nil:
		fmt.Fprintln(g.stdout, "signature: INVALID: "+oneLine(verr.Error()))
		valid = false
	default:
		fmt.Fprintln(g.stdout, "signature: verified against "+iss)
	}
	if !valid {
		return fmt.Errorf("%w", errInvalidToken)
	}
	if unverified {
		return errUnverified
	}
	return nil
}

// readToken takes the argument, or reads stdin.
func readToken(args []string) (string, error) {
	if len(args) == 1 && args[0] != "-" {
		return strings.TrimSpace(args[0]), nil
	}
	b, err := io.ReadAll(io.LimitReader(bufio.NewReader(os.Stdin), maxTokenInput))
	if err != nil {
		return "", err
	}
	s := strings.TrimSpace(string(b))
	s = strings.TrimPrefix(strings.TrimPrefix(s, "Authorization: "), "Bearer ")
	return s, nil
}

// decodeJWT splits and decodes the header and claims (no verification).
func decodeJWT(raw string) (header, claims map[string]any, err error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return nil, nil, fmt.Errorf("%w: not a JWT (%d parts, want 3)", errInvalidToken, len(parts))
	}
	if header, err = decodePart(parts[0]); err != nil {
		return nil, nil, fmt.Errorf("%w: header: %v", errInvalidToken, err)
	}
	if claims, err = decodePart(parts[1]); err != nil {
		return nil, nil, fmt.Errorf("%w: claims: %v", errInvalidToken, err)
	}
	return header, claims, nil
}

func decodePart(p string) (map[string]any, error) {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(p, "="))
	if err != nil {
		return nil, errors.New("not base64url")
	}
	var m map[string]any
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil || m == nil {
		return nil, errors.New("not a JSON object")
	}
	return m, nil
}

func printPart(g *globals, name string, m map[string]any) {
	b, _ := json.MarshalIndent(m, "", "  ")
	fmt.Fprintf(g.stdout, "%s: %s\n", name, escapeTerminal(string(b)))
}

// escapeTerminal writes, as JSON \u escapes, the runes that json.Marshal
// leaves raw but a terminal may act on: C1 controls (U+009B is CSI) and
// the bidirectional overrides that reorder what is shown. In JSON text
// they can only be inside strings, so the result is the same JSON.
func escapeTerminal(s string) string {
	var b strings.Builder
	for _, r := range s {
		if (r >= 0x80 && r <= 0x9f) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) {
			fmt.Fprintf(&b, "\\u%04x", r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// printExpiry prints exp in UTC and the time left; false when expired or
// when exp is there but not a NumericDate (RFC 7519 §2: a JSON number).
func printExpiry(g *globals, claims map[string]any) bool {
	v, present := claims["exp"]
	if !present {
		fmt.Fprintln(g.stdout, "expires: never (no exp claim)")
		return true
	}
	n, _ := v.(json.Number)
	f, err := n.Float64()
	if err != nil || f != f || f > 1<<62 || f < -(1<<62) {
		fmt.Fprintln(g.stdout, "expires: invalid (the exp claim is not a NumericDate)")
		return false
	}
	at := time.Unix(int64(f), 0).UTC()
	left := time.Until(at).Truncate(time.Second)
	if left <= 0 {
		fmt.Fprintf(g.stdout, "expires: %s (expired %s ago)\n", at.Format(time.RFC3339), -left)
		return false
	}
	fmt.Fprintf(g.stdout, "expires: %s (%s left)\n", at.Format(time.RFC3339), left)
	return true
}

// verifyToken checks raw with the verify package when iss is a configured
// environment's issuer (or --discover); checked is false otherwise.
func verifyToken(ctx context.Context, g *globals, iss, raw string) (err error, checked bool) {
	if iss == "" {
		return nil, false
	}
	known := g.discover
	if envs, lerr := loadConfig(g.config); lerr == nil {
		for _, c := range envs {
			known = known || (c.Flow != flowSRP && c.OAuth.Issuer == iss)
		}
	}
	if !known {
		return nil, false
	}
	var srcOpts []verify.Option
	if u, perr := url.Parse(iss); perr == nil && u.Scheme == "http" && isLoopback(u.Hostname()) {
		srcOpts = append(srcOpts, verify.InsecureAllowHTTP())
	}
	// The audience is the API's, not known here: issuer, signature and expiry are checked.
	v, err := verify.New(verify.Discover(iss, srcOpts...), verify.Expect{Issuer: iss}, verify.InsecureSkipAudienceCheck())
	if err != nil {
		return err, true
	}
	defer v.Close()
	_, err = v.Verify(ctx, raw)
	return err, true
}

func isLoopback(host string) bool { return endpoint.IsLoopback(host) }
