package main

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/seed-d44eba79/authorizer/verify"
)

// permissionClaims are the claims of a dgp-style permission token beyond
// the registered ones.
type permissionClaims struct {
	UserID      string   `json:"userid"`
	Service     string   `json:"service"`
	Permissions []string `json:"permissions"`
}

// ordersService is a service that trusts the permission service: it
// verifies each token with the key at /auth/public-key (verify.PEMURL:
// iss, aud = its own name, exp, RS256 signature) and then checks the
// permission the route needs.
func ordersService(v *verify.Verifier) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /orders", needs("orders:read", func(w http.ResponseWriter, c permissionClaims) {
		fmt.Fprintf(w, "orders of %s (permissions %s)\n", c.UserID, strings.Join(c.Permissions, " "))
	}))
	mux.Handle("POST /orders", needs("orders:write", func(w http.ResponseWriter, _ permissionClaims) {
		w.WriteHeader(http.StatusCreated)
	}))
	return verify.Middleware(v)(mux)
}

// needs runs h when the verified token grants permission, and answers 403
// otherwise.
func needs(permission string, h func(http.ResponseWriter, permissionClaims)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var c permissionClaims
		if err := verify.ClaimsFrom(r.Context()).Decode(&c); err != nil {
			http.Error(w, "unreadable permissions", http.StatusUnauthorized)
			return
		}
		if !slices.Contains(c.Permissions, permission) {
			http.Error(w, "needs permission "+permission, http.StatusForbidden)
			return
		}
		h(w, c)
	})
}
