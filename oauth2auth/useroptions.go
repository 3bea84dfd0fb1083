package oauth2auth

import (
	"context"
	"html/template"
	"slices"
	"strings"
	"time"

	"github.com/seed-d44eba79/authorizer/base"
)

// userOptions holds the settings of the user sign-in flows (device code,
// browser with PKCE). The With… functions below set them; each says which
// flow reads it.
type userOptions struct {
	cache             base.TokenCache
	cacheKey          string
	interactiveReauth bool
	devicePrompt      DevicePrompter
	pollInterval      time.Duration // test hook: replaces the 5 s default and floor
	openBrowser       BrowserOpener
	landing           *template.Template
	signInTimeout     time.Duration
	extraScopes       []string
	extraResources    []string
}

// DefaultSignInTimeout bounds an interactive sign-in (the user's part of
// the browser flow) when [WithSignInTimeout] is not given.
const DefaultSignInTimeout = 5 * time.Minute

// WithTokenCache keeps the user's tokens in cache (e.g. a *filecache.Cache,
// so the user stays signed in across runs) instead of in memory. When cache
// also implements [base.CacheLocker], an interactive sign-in or a refresh
// holds its lock, so that processes sharing the cache sign in once.
// Device and browser flows. nil means the default, a memory cache
// ([base.NewMemoryCache]): the user signs in once per process.
func WithTokenCache(cache base.TokenCache) Option {
	return func(o *options) {
		if o.only("WithTokenCache", flowDevice, flowBrowser) {
			o.user.cache = cache
		}
	}
}

// WithCacheKey overrides the key the tokens are cached under. Default:
// filecache.Key(issuer, client id, scopes + resources + audience). Device
// and browser flows. An empty key is an error.
func WithCacheKey(key string) Option {
	return func(o *options) {
		if !o.only("WithCacheKey", flowDevice, flowBrowser) {
			return
		}
		if key == "" {
			o.fail("WithCacheKey", "is empty")
			return
		}
		o.user.cacheKey = key
	}
}

// WithInteractiveReauth lets Authorize and Refresh start a new interactive
// sign-in when the refresh token of an existing session is refused (or the
// session has none). Default false: they return the
// *[authorizer.InvalidCredentialsError] and the tool decides (e.g. tells the
// user to run its "login" command, which calls SignIn). A first sign-in,
// with nothing cached, is always interactive. Device and browser flows.
func WithInteractiveReauth(allow bool) Option {
	return func(o *options) {
		if o.only("WithInteractiveReauth", flowDevice, flowBrowser) {
			o.user.interactiveReauth = allow
		}
	}
}

// WithDevicePrompt sets how the user is shown the device flow's
// verification URI and user code. Device flow. nil means the default,
// [DevicePromptWriter](os.Stderr).
func WithDevicePrompt(p DevicePrompter) Option {
	return func(o *options) {
		if o.only("WithDevicePrompt", flowDevice) {
			o.user.devicePrompt = p
		}
	}
}

// withPollInterval replaces the device flow's polling default (RFC 8628's
// 5 s) and minimum (1 s). For tests only.
func withPollInterval(d time.Duration) Option {
	return func(o *options) {
		if !o.only("withPollInterval", flowDevice) {
			return
		}
		if d <= 0 {
			o.fail("withPollInterval", "must be positive")
			return
		}
		o.user.pollInterval = d
	}
}

// WithBrowserOpener sets how the authorization URL is opened. Browser
// flow. nil means the default: [OpenSystemBrowser], and the URL is printed
// to stderr when it fails.
func WithBrowserOpener(open BrowserOpener) Option {
	return func(o *options) {
		if o.only("WithBrowserOpener", flowBrowser) {
			o.user.openBrowser = open
		}
	}
}

// WithLandingPage sets the page the user's browser shows once the
// redirect arrives. tmpl is executed with a [Landing] value. Browser
// flow. nil means the default: a plain page saying whether sign-in
// succeeded.
func WithLandingPage(tmpl *template.Template) Option {
	return func(o *options) {
		if o.only("WithLandingPage", flowBrowser) {
			o.user.landing = tmpl
		}
	}
}

// WithSignInTimeout bounds the user's part of an interactive sign-in.
// Device and browser flows. d must be positive. Default:
// [DefaultSignInTimeout] for the browser flow; the device flow ends when
// the device code expires.
func WithSignInTimeout(d time.Duration) Option {
	return func(o *options) {
		if !o.only("WithSignInTimeout", flowDevice, flowBrowser) {
			return
		}
		if d <= 0 {
			o.fail("WithSignInTimeout", "must be positive")
			return
		}
		o.user.signInTimeout = d
	}
}

// WithExtraScopes asks for scopes beyond Environment.Scopes, e.g. "openid"
// (the ID token is then verified) or "offline_access" (for a refresh token;
// the browser flow then also sends prompt=consent). Device, browser and
// token-exchange flows (there: the exchanged token's scope). An empty scope
// or one with a space is an error.
func WithExtraScopes(scopes ...string) Option {
	return func(o *options) {
		if !o.only("WithExtraScopes", flowDevice, flowBrowser, flowTokenExchange) {
			return
		}
		for _, s := range scopes {
			if s == "" || strings.ContainsAny(s, " \t\r\n") {
				o.fail("WithExtraScopes", "has an empty scope or one with white space")
				return
			}
		}
		o.user.extraScopes = append(o.user.extraScopes, scopes...)
	}
}

// WithExtraResources asks for RFC 8707 resource indicators beyond
// Environment.Resources. Device, browser and token-exchange flows. An empty
// resource is an error.
func WithExtraResources(resources ...string) Option {
	return func(o *options) {
		if !o.only("WithExtraResources", flowDevice, flowBrowser, flowTokenExchange) {
			return
		}
		if slices.Contains(resources, "") {
			o.fail("WithExtraResources", "has an empty resource")
			return
		}
		o.user.extraResources = append(o.user.extraResources, resources...)
	}
}

// BrowserOpener opens url in the user's browser. It returns once the
// browser was asked to open the page, not when the user is done; ctx bounds
// the whole sign-in.
type BrowserOpener func(ctx context.Context, url string) error

// DevicePrompter shows the user where to go and which code to enter. It is
// called once per device sign-in, before polling starts; an error ends the
// sign-in. It must not block longer than the user needs to read the prompt
// (polling starts when it returns) and must honour ctx.
type DevicePrompter func(ctx context.Context, p DevicePrompt) error

// DevicePrompt is what the user needs to approve a device sign-in
// (RFC 8628 §3.3). It holds no secret: the device code stays inside the
// authorizer.
type DevicePrompt struct {
	// UserCode is the code the user enters, e.g. "WDJB-MJHT".
	UserCode string
	// VerificationURI is where the user enters it.
	VerificationURI string
	// VerificationURIComplete, when the server sends it, includes the user
	// code (for a link or a QR code).
	VerificationURIComplete string
	// ExpiresAt is when the code stops working.
	ExpiresAt time.Time
}
