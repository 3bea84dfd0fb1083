package base

import (
	"bytes"
	"errors"
	"io"
	"net/http"

	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/dpop"
)

// maxKeptBody bounds how much of a 401 body is kept in memory for the
// caller while the next token is obtained; the connection is released
// before the wait.
const maxKeptBody = 64 << 10

// maxRefused bounds how many refused tokens the Transport remembers, to
// never adopt them again from a shared cache.
const maxRefused = 16

// retryUnauthorized handles a 401 to a request sent with st. st is retired
// first, whatever the body (see invalidate). The request is then sent once
// more with a new token when its body can be replayed (no body, or
// GetBody); the 401's body is read (up to maxKeptBody) and its connection
// released before waiting for that token. If no new token can be had, or
// the body cannot be replayed, the caller gets the 401 as it came. A new
// DPoP token whose replay meets a nonce challenge is sent once more with
// the nonce (answerNonce); nothing is sent a fourth time.
func (t *Transport) retryUnauthorized(req *http.Request, st *tokenState, resp *http.Response) (*http.Response, error) {
	t.invalidate(st)
	if !replayable(req) {
		return resp, nil
	}
	keepBody(resp)
	next, err := t.state(req.Context())
	if err != nil || next.tok.AccessToken == st.tok.AccessToken {
		return resp, nil
	}
	again, err := t.replay(req, next, "")
	if err == errNoReplay {
		return resp, nil
	}
	unanswered := false
	if err == nil && next.bound != nil && again.StatusCode == http.StatusUnauthorized {
		again, unanswered, err = t.answerNonce(req, next, again) // at most once more
	}
	switch {
	case err != nil || unanswered:
	case again.StatusCode == http.StatusUnauthorized:
		t.invalidate(next) // refused too: never sent again, but not replayed twice
	default:
		next.accept()
	}
	return again, err
}

// replay sends req once more with st: its body from GetBody (when it has
// one), and for a DPoP token a new proof carrying nonce (the newest
// remembered when ""). It returns errNoReplay when GetBody or the proof
// fails, so that the caller gets the answer it replays.
func (t *Transport) replay(req *http.Request, st *tokenState, nonce string) (*http.Response, error) {
	var r2 *http.Request
	origin := ""
	if st.bound == nil {
		r2 = t.withCredentials(req, st)
	} else {
		origin = dpop.Origin(proofTarget(req))
		var err error
		if r2, err = t.withProof(req, st, origin, nonce); err != nil {
			return nil, errNoReplay
		}
	}
	if req.GetBody != nil && req.Body != nil && req.Body != http.NoBody {
		body, err := req.GetBody()
		if err != nil {
			return nil, errNoReplay
		}
		r2.Body = body
	}
	if st.bound != nil {
		return t.sendBound(r2, origin)
	}
	return t.cfg.next.RoundTrip(r2)
}

// invalidate retires st after a 401: it is remembered as refused (never
// adopted again, from the cache either), and if it is still the current
// token it is marked invalid, so that however many requests get a 401 for
// it, one token request replaces it. A current token refused before any
// request with it was accepted was useless from the start (a wrong
// audience, a clock far off, an API that refuses every token), not
// revoked: that counts toward the backoff like a failed token request, so
// an API that refuses every token costs a handful of token requests, not
// one per request.
func (t *Transport) invalidate(st *tokenState) {
	t.mu.Lock()
	t.remember(st.tok.AccessToken)
	// the current state if it carries st's token: a copy of st (one that
	// kept a rotated refresh token) is retired all the same
	cur := t.cur.Load()
	swapped := cur != nil && !cur.invalid && cur.tok.AccessToken == st.tok.AccessToken &&
		t.cur.CompareAndSwap(cur, cur.invalidated())
	var quick error
	if swapped && !st.accepted.Load() {
		quick = &authorizer.AuthorizationError{StatusCode: http.StatusUnauthorized,
			Message: "base: a resource server refused a new token before accepting any request with it"}
		t.recordFailure(quick, st.prior+1, t.now())
	}
	attempt := t.failures
	t.mu.Unlock()
	if !swapped {
		return
	}
	t.emit(Event{Kind: EventInvalidated})
	if quick != nil {
		t.emitBackoff(attempt, quick)
	}
}

// remember records a refused access token. mu must be held.
func (t *Transport) remember(access string) { t.refused.add(access, maxRefused) }

// isRefused reports whether a resource server refused access.
func (t *Transport) isRefused(access string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.refused.has(access)
}

// keepBody reads resp's body into memory (up to maxKeptBody) and closes it,
// so that its connection is free while the caller waits; resp.Body then
// reads the kept bytes, followed by errBodyCut when the body was longer.
func keepBody(resp *http.Response) {
	if resp.Body == nil || resp.Body == http.NoBody {
		return
	}
	kept, err := io.ReadAll(io.LimitReader(resp.Body, maxKeptBody+1))
	resp.Body.Close()
	var tail io.Reader = eofReader{}
	if err != nil {
		tail = errReader{err}
	} else if len(kept) > maxKeptBody {
		kept, tail = kept[:maxKeptBody], errReader{errBodyCut}
	}
	resp.Body = io.NopCloser(io.MultiReader(bytes.NewReader(kept), tail))
}

// errBodyCut ends a kept 401 body that was longer than maxKeptBody.
var errBodyCut = errors.New("base: 401 response body cut at 64 KiB")

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

// replayable reports whether req can be sent a second time.
func replayable(req *http.Request) bool {
	return req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
}
