package tokenwire

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/data"
)

// RetryInvalidClient: an invalid_client answer makes Send ask Assertion
// again and send once more; other refusals, or the field unset, do not.
func TestRetryInvalidClient(t *testing.T) {
	tests := []struct {
		name     string
		retry    bool
		answer   string // the first answer; the second succeeds
		requests int
		wantErr  bool
	}{
		{"invalid_client retried", true, `{"error":"invalid_client"}`, 2, false},
		{"invalid_grant not retried", true, `{"error":"invalid_grant"}`, 1, true},
		{"retry off", false, `{"error":"invalid_client"}`, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			var got []string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_ = r.ParseForm()
				mu.Lock()
				got = append(got, r.PostForm.Get("client_assertion"))
				n := len(got)
				mu.Unlock()
				w.Header().Set("Content-Type", "application/json")
				if n == 1 {
					w.WriteHeader(http.StatusUnauthorized)
					fmt.Fprint(w, tt.answer)
					return
				}
				fmt.Fprint(w, `{"access_token":"at","token_type":"Bearer"}`)
			}))
			defer srv.Close()
			calls := 0
			_, err := Do(context.Background(), Request{URL: srv.URL, Client: data.ClientInfo{ClientID: "c"},
				Auth: AuthPrivateKeyJWT, RetryInvalidClient: tt.retry, Form: map[string][]string{"grant_type": {"client_credentials"}},
				Assertion: func(string, string, time.Time) (string, error) {
					calls++
					return fmt.Sprintf("assertion-%d", calls), nil
				}})
			if (err != nil) != tt.wantErr {
				t.Fatalf("got error %v; want error %v", err, tt.wantErr)
			}
			if len(got) != tt.requests {
				t.Fatalf("got %d requests; want %d", len(got), tt.requests)
			}
			if tt.requests == 2 && got[1] != "assertion-2" {
				t.Errorf("got %q on the retry; want a new assertion", got[1])
			}
			var ic *authorizer.InvalidClientError
			if tt.name == "retry off" && !errors.As(err, &ic) {
				t.Errorf("got %v; want *authorizer.InvalidClientError", err)
			}
		})
	}
}
