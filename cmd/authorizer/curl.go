package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
)

// runCurl runs curl with the headers given in a config read from a file
// descriptor (-K /dev/fd/3): the token is never on curl's command line.
// curl's exit status is passed through.
func runCurl(ctx context.Context, g *globals, args []string) error {
	s, tok, err := fetch(ctx, g)
	if err != nil {
		return err
	}
	defer s.close()
	var cfg strings.Builder
	for _, h := range headerLines(s, tok) {
		cfg.WriteString("header = \"" + curlQuote(h) + "\"\n")
	}
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	// -q first: curl reads no ~/.curlrc, whose trace or verbose options
	// would write the Authorization header out.
	cmd := exec.CommandContext(ctx, "curl", append([]string{"-q", "-K", "/dev/fd/3"}, args...)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, g.stdout, g.stderr
	cmd.Env = childEnv(s.cfg)
	cmd.ExtraFiles = []*os.File{r}
	if err := cmd.Start(); err != nil {
		r.Close()
		w.Close()
		return err
	}
	r.Close()
	go func() {
		_, _ = w.WriteString(cfg.String())
		w.Close()
	}()
	err = cmd.Wait()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return passThrough(ee.ExitCode())
	}
	return err
}

// curlQuote escapes for a double-quoted curl config value.
func curlQuote(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s)
}
