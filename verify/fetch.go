package verify

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	authorizer "github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/internal/endpoint"
)

// fetcher makes the GET requests of remote key sources: one timeout per
// request (from the loader's context), a 1 MiB body cap, no redirect to
// another host or down to http.
type fetcher struct {
	client *http.Client
}

func newFetcher(c *config) fetcher {
	hc := http.Client{}
	if c.client != nil {
		hc = *c.client
	}
	hc.CheckRedirect = sameHostRedirects
	return fetcher{client: &hc}
}

func sameHostRedirects(req *http.Request, via []*http.Request) error {
	if len(via) >= 5 {
		return errors.New("verify: too many redirects")
	}
	first := via[0].URL
	if req.URL.Host != first.Host || (first.Scheme == "https" && req.URL.Scheme != "https") {
		return errors.New("verify: refusing a redirect to another host or to plain http")
	}
	return nil
}

// get fetches u and returns the body and the answer's max-age (0 if none).
func (f fetcher) get(ctx context.Context, u, accept string) ([]byte, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, 0, &authorizer.AuthorizationError{Message: "verify: bad key URL", Err: err}
	}
	req.Header.Set("Accept", accept)
	resp, err := f.client.Do(req)
	if err != nil {
		var ue *url.Error // its URL would carry the query
		if errors.As(err, &ue) {
			ue.URL = redactURL(ue.URL)
		}
		return nil, 0, &authorizer.AuthorizationError{Message: "verify: fetching " + redactURL(u) + " failed", Err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxKeySetSize+1))
	if err != nil {
		return nil, 0, &authorizer.AuthorizationError{StatusCode: resp.StatusCode, Message: "verify: reading " + redactURL(u) + " failed", Err: err}
	}
	if resp.StatusCode != http.StatusOK {
		return nil, 0, &authorizer.AuthorizationError{StatusCode: resp.StatusCode, Message: "verify: fetching " + redactURL(u) + " failed", RetryAfter: retryAfter(resp.Header)}
	}
	if len(body) > maxKeySetSize {
		return nil, 0, &authorizer.AuthorizationError{StatusCode: resp.StatusCode, Message: "verify: " + redactURL(u) + " answered more than 1 MiB"}
	}
	return body, maxAge(resp.Header.Get("Cache-Control")), nil
}

// maxAge reads Cache-Control max-age; no-store and no-cache mean 0.
func maxAge(cc string) time.Duration {
	var age time.Duration
	for part := range strings.SplitSeq(cc, ",") {
		name, val, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch strings.ToLower(name) {
		case "no-store", "no-cache":
			return 0 // wherever it stands among the directives
		case "max-age":
			n, err := strconv.ParseInt(strings.Trim(val, `"`), 10, 64)
			if err == nil && n > 0 && n < 1<<31 {
				age = time.Duration(n) * time.Second
			}
		}
	}
	return age
}

func retryAfter(h http.Header) time.Duration {
	n, err := strconv.Atoi(h.Get("Retry-After"))
	if err != nil || n < 0 {
		return 0
	}
	return time.Duration(n) * time.Second
}

// redactURL drops userinfo, query and fragment, which may carry secrets.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "the key URL"
	}
	return u.Scheme + "://" + u.Host + u.Path
}

// checkURL accepts https, and http to a loopback host or with insecure:
// the SDK's one rule, [endpoint.Check].
func checkURL(ctor, raw string, insecure bool) error {
	if p := endpoint.Check(raw, endpoint.Rule{AllowHTTP: insecure}); p != endpoint.OK {
		return &authorizer.InvalidConfigError{Setting: ctor, Problem: p.Explain("verify.InsecureAllowHTTP")}
	}
	return nil
}
