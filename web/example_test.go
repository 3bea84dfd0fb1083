package web_test

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/base"
	"github.com/seed-d44eba79/authorizer/data"
	"github.com/seed-d44eba79/authorizer/web"
)

// Wrap an app once; the pages under /account/ need a signed-in user, and
// the app calls an API as that user.
func ExampleLogin_Wrap() {
	login, err := web.New(web.Config{
		Issuer:         "https://id.example.com",
		Client:         data.ClientInfo{ClientID: "my-app", ClientSecret: "from your secret store"},
		ExternalURL:    "https://app.example.com",
		ProtectedPaths: []string{"/account/"},
		SessionSecret:  "32 or more random bytes from your secret store",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer login.Close()
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, ok := web.IdentityFrom(r.Context())
		if !ok {
			fmt.Fprintln(w, "welcome, guest")
			return
		}
		api := base.NewClient(id) // sends the user's access token, refreshed when due
		_ = api
		fmt.Fprintln(w, "welcome,", id.Name)
	})
	handler := login.Wrap(app)
	_ = handler // http.ListenAndServe(":8080", handler)
	fmt.Println("ready")
	// Output: ready
}

// Without a session secret there is no middleware: the seed's default
// secret ("secret") is gone.
func ExampleNew_noSecret() {
	_, err := web.New(web.Config{Issuer: "https://id.example.com", Client: data.ClientInfo{ClientID: "my-app"},
		ExternalURL: "https://app.example.com"})
	var bad *authorizer.InvalidConfigError
	fmt.Println(errors.As(err, &bad), bad.Setting)
	// Output: true web: Config.SessionSecret
}
