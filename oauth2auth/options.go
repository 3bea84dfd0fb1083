package oauth2auth

// Option configures an authorizer of this package.
type Option func(*options)

// options holds what the Options set. Fields shared by every authorizer live
// here; those of the user sign-in flows live in userOptions (useroptions.go).
type options struct {
	user userOptions
}
