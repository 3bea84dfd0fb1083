package oauth2auth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"time"
)

// stderr is where the default prompts go; tests swap it.
var stderr io.Writer = os.Stderr

// openTimeout bounds the command that opens the browser.
const openTimeout = 10 * time.Second

// OpenSystemBrowser opens url in the user's default browser: xdg-open on
// Linux and BSDs, open on macOS, the URL protocol handler on Windows. It
// fails when no browser can be opened (e.g. over SSH without a display).
func OpenSystemBrowser(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, openTimeout)
	defer cancel()
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.CommandContext(ctx, "open", url)
	case "windows":
		cmd = exec.CommandContext(ctx, "rundll32", "url.dll,FileProtocolHandler", url)
	default:
		if os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
			return errors.New("oauth2auth: no display to open a browser on")
		}
		cmd = exec.CommandContext(ctx, "xdg-open", url)
	}
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("oauth2auth: opening the browser: %w", err)
	}
	return nil
}

// openOrPrint opens url with open; when that fails it prints url to
// stderr so that the user can open it by hand.
func openOrPrint(ctx context.Context, open BrowserOpener, url string) {
	if err := open(ctx, url); err != nil {
		fmt.Fprintf(stderr, "Could not open a browser (%v).\nTo sign in, open this address in a browser on this machine:\n\n  %s\n\n", err, url)
	}
}
