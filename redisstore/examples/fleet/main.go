// Command fleet runs N replicas of a service as separate processes, each
// with its own base.Transport, against one token endpoint that counts its
// token requests; first without a shared store, then sharing one token
// through redisstore. It prints the token requests of each run.
//
//	go run ./examples/fleet -redis 127.0.0.1:6410 -replicas 10 -for 12s
//
// With -replica it is one replica (the fleet test runs it that way): it
// calls -api every -every until SIGTERM or the end of its standard input
// (its parent's pipe closing), then prints {"ok":N,"failed":M}.
package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/seed-d44eba79/authorizer/base"
	"github.com/seed-d44eba79/authorizer/data"
	"github.com/seed-d44eba79/authorizer/oauth2auth"
	"github.com/seed-d44eba79/authorizer/redisstore"
	"github.com/seed-d44eba79/authorizer/redisstore/internal/countingidp"
)

func main() {
	replica := flag.Bool("replica", false, "run as one replica")
	tokenURL := flag.String("token-url", "", "token endpoint (replica)")
	api := flag.String("api", "", "protected API (replica)")
	addr := flag.String("redis", "", "Redis address; empty: no shared store")
	every := flag.Duration("every", 50*time.Millisecond, "interval between API calls (replica)")
	leaseTTL := flag.Duration("lease-ttl", time.Second, "redisstore lease TTL")
	callTimeout := flag.Duration("call-timeout", redisstore.DefaultCallTimeout, "redisstore call timeout")
	n := flag.Int("replicas", 10, "replicas")
	lifetime := flag.Duration("lifetime", 4*time.Second, "token lifetime")
	runFor := flag.Duration("for", 12*time.Second, "length of each run")
	flag.Parse()
	if *replica {
		if err := runReplica(*tokenURL, *api, *addr, *every, *leaseTTL, *callTimeout); err != nil {
			log.Fatal(err)
		}
		return
	}
	if err := demo(*addr, *n, *lifetime, *runFor); err != nil {
		log.Fatal(err)
	}
}

// Config shared by every replica of the fleet.
const (
	clientID     = "fleet"
	clientSecret = "fleet-secret"
	refreshAhead = 1500 * time.Millisecond
)

// sealKey derives the demo's AES key. A real service loads 32 random bytes
// from its secret store instead.
func sealKey() []byte {
	k := sha256.Sum256([]byte("fleet example key; use 32 random bytes from a secret store"))
	return k[:]
}

// newTransport builds one replica's Transport, sharing its token through
// Redis when addr is set.
func newTransport(tokenURL, addr string, leaseTTL, callTimeout time.Duration) (*base.Transport, func(), error) {
	hc := &http.Client{Timeout: 10 * time.Second, Transport: replicaHeader{http.DefaultTransport}}
	a, err := oauth2auth.NewServiceAccountAuthorizer(data.ClientInfo{ClientID: clientID, ClientSecret: clientSecret},
		oauth2auth.Environment{TokenURL: tokenURL}, oauth2auth.WithHTTPClient(hc))
	if err != nil {
		return nil, nil, err
	}
	opts := []base.Option{base.WithRefreshAhead(refreshAhead)}
	closeAll := func() {}
	if addr != "" {
		client := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true,
			MaxRetries: -1, DialTimeout: 250 * time.Millisecond})
		store, err := redisstore.New(client, sealKey(), redisstore.WithLeaseTTL(leaseTTL), redisstore.WithCallTimeout(callTimeout),
			redisstore.WithMaxWait(5*time.Second), redisstore.WithBreaker(2, time.Second))
		if err != nil {
			return nil, nil, err
		}
		key := redisstore.Key(redisstore.Identity{TokenURL: tokenURL, ClientID: clientID, ClientSecret: clientSecret})
		opts = append(opts, base.WithCache(store, key))
		closeAll = func() { _ = client.Close() }
	}
	return base.NewTransport(a, opts...), closeAll, nil
}

// replicaHeader names the replica in its token requests, for the counts.
type replicaHeader struct{ next http.RoundTripper }

func (h replicaHeader) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set(countingidp.ReplicaHeader, strconv.Itoa(os.Getpid()))
	return h.next.RoundTrip(r)
}

// runReplica calls api until SIGTERM and prints its counts.
func runReplica(tokenURL, api, addr string, every, leaseTTL, callTimeout time.Duration) error {
	redis.SetLogger(quiet{})
	t, closeStore, err := newTransport(tokenURL, addr, leaseTTL, callTimeout)
	if err != nil {
		return err
	}
	defer closeStore()
	defer t.Close()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	go func() { // ends with the process; stops it when its parent goes away
		_, _ = io.Copy(io.Discard, os.Stdin)
		stop()
	}()
	client := &http.Client{Transport: t, Timeout: 30 * time.Second}
	var ok, failed int
	fmt.Println("ready")
	for tick := time.NewTicker(every); ctx.Err() == nil; <-tick.C {
		if err := call(ctx, client, api); err == nil {
			ok++
		} else if ctx.Err() == nil {
			failed++
			slog.Error("request failed", "error", err)
		}
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]int{"ok": ok, "failed": failed})
}

func call(ctx context.Context, client *http.Client, api string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, api, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return errors.New("status " + resp.Status)
	}
	return nil
}

type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

// demo runs the fleet without and with the store and prints the counts.
func demo(addr string, n int, lifetime, runFor time.Duration) error {
	idp := countingidp.New(lifetime)
	srv := httptest.NewServer(idp)
	defer srv.Close()
	self, err := os.Executable()
	if err != nil {
		return err
	}
	runs := []string{""}
	if addr != "" {
		runs = append(runs, addr)
	} else {
		fmt.Println("no -redis address: running without the store only")
	}
	alone := 0.0 // one replica's own token requests in a run
	for _, a := range runs {
		before := len(idp.Requests())
		res, err := runFleet(self, srv.URL, a, n, runFor)
		if err != nil {
			return err
		}
		got := len(idp.Requests()) - before
		name := "without a shared store"
		if a == "" {
			alone = float64(got) / float64(n)
		} else {
			name = "with redisstore       "
		}
		fmt.Printf("%s: %d replicas, %v, %v tokens: %3d token requests (%.1f per renewal of one replica), %d API calls, %d failed\n",
			name, n, runFor, lifetime, got, float64(got)/alone, res.ok, res.failed)
	}
	return nil
}

type counts struct{ ok, failed int }

// runFleet starts n replicas, lets them run, stops them and sums their counts.
func runFleet(self, url, addr string, n int, runFor time.Duration) (counts, error) {
	var cmds []*exec.Cmd
	var outs []*bufio.Scanner
	for range n {
		cmd := exec.Command(self, "-replica", "-token-url", url+"/token", "-api", url+"/api", "-redis", addr)
		cmd.Stderr = os.Stderr
		if _, err := cmd.StdinPipe(); err != nil { // closed when we exit: the replica ends
			return counts{}, err
		}
		out, err := cmd.StdoutPipe()
		if err != nil {
			return counts{}, err
		}
		if err := cmd.Start(); err != nil {
			return counts{}, err
		}
		sc := bufio.NewScanner(out)
		sc.Scan() // "ready"
		cmds, outs = append(cmds, cmd), append(outs, sc)
	}
	time.Sleep(runFor)
	var c counts
	for i, cmd := range cmds {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		var r struct{ OK, Failed int }
		if outs[i].Scan() {
			_ = json.Unmarshal(outs[i].Bytes(), &r)
		}
		_ = cmd.Wait()
		c.ok, c.failed = c.ok+r.OK, c.failed+r.Failed
	}
	return c, nil
}
