package data

import (
	"encoding/json"
	"fmt"
	"log/slog"
)

// UserCredentials are a person's sign-in name and password.
//
// Password is a secret: it is redacted when the value is printed, logged or
// marshalled to JSON.
type UserCredentials struct {
	// UserName is the sign-in name (or an alias such as an email address).
	UserName string `json:"username"`
	// Password is the user's password.
	Password string `json:"password,omitempty"`
}

type userCredentialsView struct {
	UserName string `json:"username"`
	Password string `json:"password,omitempty"`
}

func (u UserCredentials) redacted() userCredentialsView {
	return userCredentialsView{UserName: u.UserName, Password: redact(u.Password)}
}

// String returns the user name and whether a password is set.
func (u UserCredentials) String() string {
	return fmt.Sprintf("%+v", u.redacted())
}

// GoString implements [fmt.GoStringer] for %#v, without the password.
func (u UserCredentials) GoString() string {
	return fmt.Sprintf("data.UserCredentials%+v", u.redacted())
}

// Format implements [fmt.Formatter] so that every verb prints the redacted form.
func (u UserCredentials) Format(f fmt.State, verb rune) {
	formatRedacted(f, verb, u.String(), u.GoString())
}

// LogValue implements [slog.LogValuer].
func (u UserCredentials) LogValue() slog.Value {
	v := u.redacted()
	return slog.GroupValue(slog.String("username", v.UserName), slog.String("password", v.Password))
}

// MarshalJSON implements [json.Marshaler] with the password redacted.
func (u UserCredentials) MarshalJSON() ([]byte, error) {
	return json.Marshal(u.redacted())
}

// formatRedacted writes s for every verb but %#v, which gets goS.
func formatRedacted(f fmt.State, verb rune, s, goS string) {
	if verb == 'v' && f.Flag('#') {
		fmt.Fprint(f, goS)
		return
	}
	fmt.Fprint(f, s)
}
