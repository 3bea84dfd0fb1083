package oauth2auth_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/seed-d44eba79/authorizer/base"
	"github.com/seed-d44eba79/authorizer/data"
	"github.com/seed-d44eba79/authorizer/filecache"
	"github.com/seed-d44eba79/authorizer/oauth2auth"
)

// exampleProvider is a device-flow provider whose user approves at once.
func exampleProvider() *httptest.Server {
	mux := http.NewServeMux()
	reply := func(w http.ResponseWriter, v any) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(v)
	}
	mux.HandleFunc("POST /device/auth", func(w http.ResponseWriter, r *http.Request) {
		reply(w, map[string]any{"device_code": "dc", "user_code": "WDJB-MJHT", "expires_in": 600, "interval": 1,
			"verification_uri": "https://id.example.com/device"})
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		reply(w, map[string]any{"access_token": "at", "refresh_token": "rt", "token_type": "Bearer", "expires_in": 3600})
	})
	mux.HandleFunc("GET /api", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "hello, ", r.Header.Get("Authorization") != "")
	})
	return httptest.NewServer(mux)
}

// A command-line tool signs its user in with the device flow and keeps
// them signed in across runs with a file cache.
func ExampleNewDeviceAuthorizer() {
	idp := exampleProvider()
	defer idp.Close()
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)

	cache, err := filecache.New(filecache.WithDir(dir)) // default: the user's cache directory
	if err != nil {
		fmt.Println(err)
		return
	}
	authz, err := oauth2auth.NewDeviceAuthorizer(data.ClientInfo{ClientID: "my-cli"},
		oauth2auth.Environment{TokenURL: idp.URL + "/token", DeviceAuthURL: idp.URL + "/device/auth"},
		oauth2auth.WithTokenCache(cache),
		oauth2auth.WithDevicePrompt(oauth2auth.DevicePromptWriter(os.Stdout))) // default: os.Stderr
	if err != nil {
		fmt.Println(err)
		return
	}
	client := base.NewClient(authz)
	resp, err := client.Get(idp.URL + "/api")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	fmt.Println(resp.Status)
	// Output:
	// To sign in, open https://id.example.com/device and enter the code WDJB-MJHT
	// (the code expires in 10 minutes)
	// 200 OK
}

// The default prompt shows the verification address, the code, and the
// direct link when the provider gives one.
func ExampleDevicePromptWriter() {
	prompt := oauth2auth.DevicePromptWriter(os.Stdout)
	_ = prompt(context.Background(), oauth2auth.DevicePrompt{
		UserCode:                "WDJB-MJHT",
		VerificationURI:         "https://id.example.com/device",
		VerificationURIComplete: "https://id.example.com/device?user_code=WDJB-MJHT",
	})
	// Output:
	// To sign in, open https://id.example.com/device and enter the code WDJB-MJHT
	// or open https://id.example.com/device?user_code=WDJB-MJHT directly
}
