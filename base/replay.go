package base

import (
	"io"
	"net/http"
)

// maxDrain bounds how much of a 401 body is read so that its connection can
// be reused.
const maxDrain = 4 << 10

// retryUnauthorized handles a 401 to a request sent with st. If st is still
// the current token, it is marked invalid, so that however many requests
// get a 401 for it, one token request replaces it. The request is then sent
// once more with the new token when its body can be replayed (no body, or
// GetBody). If no new token can be had, or the body cannot be replayed,
// the caller gets the 401 as it came.
func (t *Transport) retryUnauthorized(req *http.Request, st *tokenState, resp *http.Response) (*http.Response, error) {
	if !replayable(req) {
		return resp, nil
	}
	if t.cur.CompareAndSwap(st, st.invalidated()) {
		t.emit(Event{Kind: EventInvalidated})
	}
	next, err := t.state(req.Context())
	if err != nil || next == st {
		return resp, nil
	}
	r2 := t.withCredentials(req, next)
	if req.GetBody != nil && req.Body != nil && req.Body != http.NoBody {
		body, err := req.GetBody()
		if err != nil {
			return resp, nil
		}
		r2.Body = body
	}
	io.CopyN(io.Discard, resp.Body, maxDrain)
	resp.Body.Close()
	return t.cfg.next.RoundTrip(r2)
}

// replayable reports whether req can be sent a second time.
func replayable(req *http.Request) bool {
	return req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
}
