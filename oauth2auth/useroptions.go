package oauth2auth

// userOptions holds the settings of the user sign-in flows (device code,
// browser with PKCE).
type userOptions struct{}
