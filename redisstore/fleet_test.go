//go:build linux

package redisstore

import (
	"bufio"
	"context"
	"encoding/json"
	"github.com/redis/go-redis/v9"
	"math"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/seed-d44eba79/authorizer/redisstore/internal/countingidp"
)

// The fleet: 10 OS processes (examples/fleet -replica), each with its own
// base.Transport, against one counting token endpoint with 4 s tokens.
const (
	fleetSize     = 10
	fleetLifetime = 4 * time.Second
)

type replica struct {
	cmd *exec.Cmd
	out *bufio.Scanner
}

type fleet struct {
	t        *testing.T
	bin, url string
	replicas []*replica
}

func buildFleet(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "fleet")
	out, err := exec.Command("go", "build", "-o", bin, "./examples/fleet").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func (f *fleet) start(redisAddr string) {
	f.t.Helper()
	for range fleetSize {
		cmd := exec.Command(f.bin, "-replica", "-token-url", f.url+"/token", "-api", f.url+"/api",
			"-redis", redisAddr, "-lease-ttl", "1s", "-every", "50ms",
			"-call-timeout", "500ms") // a loaded machine may be slow; a paused Redis is slower
		cmd.Stderr = os.Stderr
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if _, err := cmd.StdinPipe(); err != nil { // closed when the test exits: the replica ends
			f.t.Fatal(err)
		}
		out, err := cmd.StdoutPipe()
		if err != nil {
			f.t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			f.t.Fatal(err)
		}
		r := &replica{cmd: cmd, out: bufio.NewScanner(out)}
		if !r.out.Scan() || r.out.Text() != "ready" {
			f.t.Fatalf("replica did not start: %q", r.out.Text())
		}
		f.replicas = append(f.replicas, r)
	}
}

// stop ends every replica still running and returns their failed calls
// and successful ones.
func (f *fleet) stop() (ok, failed int) {
	for _, r := range f.replicas {
		if r.cmd.Process == nil {
			continue
		}
		_ = r.cmd.Process.Signal(syscall.SIGTERM)
		var c struct{ OK, Failed int }
		if r.out.Scan() {
			_ = json.Unmarshal(r.out.Bytes(), &c)
		}
		_ = r.cmd.Wait()
		ok, failed = ok+c.OK, failed+c.Failed
	}
	f.replicas = nil
	return ok, failed
}

// kill SIGKILLs the replica with pid.
func (f *fleet) kill(pid int) {
	for i, r := range f.replicas {
		if r.cmd.Process.Pid == pid {
			_ = r.cmd.Process.Kill()
			_ = r.cmd.Wait()
			f.replicas = slices.Delete(f.replicas, i, i+1)
			return
		}
	}
	f.t.Fatalf("no replica with pid %d", pid)
}

// renewal returns how often one replica alone renews its token: the mean
// gap between its successive token requests.
func renewal(reqs []countingidp.Request) time.Duration {
	last := map[string]time.Time{}
	var sum time.Duration
	n := 0
	for _, r := range reqs {
		if prev, ok := last[r.Replica]; ok {
			sum += r.At.Sub(prev)
			n++
		}
		last[r.Replica] = r.At
	}
	if n == 0 {
		return fleetLifetime
	}
	return sum / time.Duration(n)
}

// perLifetime is the fleet's token requests per renewal round in
// [from, to): the requests divided by the rounds they span. A round is
// measured in the phase itself, so a busy machine that slows every
// replica's pace does not skew it: the median gap between successive
// requests that are at least a second apart (a duplicate of a round comes
// sooner), or fallback when there is none.
func perLifetime(reqs []countingidp.Request, from, to time.Time, fallback time.Duration) (int, float64) {
	var in []time.Time
	for _, r := range reqs {
		if !r.At.Before(from) && r.At.Before(to) {
			in = append(in, r.At)
		}
	}
	if len(in) == 0 {
		return 0, 0
	}
	var gaps []time.Duration
	for i := 1; i < len(in); i++ {
		if g := in[i].Sub(in[i-1]); g >= time.Second {
			gaps = append(gaps, g)
		}
	}
	period := fallback
	if len(gaps) > 0 {
		slices.Sort(gaps)
		period = gaps[len(gaps)/2]
	}
	rounds := 1 + math.Round(float64(in[len(in)-1].Sub(in[0]))/float64(period))
	return len(in), float64(len(in)) / rounds
}

func TestFleetSharesOneToken(t *testing.T) {
	peerEnv(t, "AUTHORIZER_REDIS_SPARE_PORT")
	if testing.Short() {
		t.Skip("-short: the fleet test runs ~55 s")
	}
	idp := countingidp.New(fleetLifetime)
	srv := httptest.NewServer(idp)
	defer srv.Close()
	f := &fleet{t: t, bin: buildFleet(t), url: srv.URL}
	defer f.stop()
	r := runPhases(t, f, idp)
	r.check(t, idp)
}

// fleetRun holds the boundaries of the phases of one fleet run, and what
// the replicas and Redis counted.
type fleetRun struct {
	period                     time.Duration // one replica's own renewal period
	alone0, alone1             time.Time     // no store
	shared0, shared1           time.Time     // with the store
	restarted, converged, end3 time.Time     // paused until restarted; then resumed
	killedAt, end4             time.Time     // lease holder killed
	redisCalls                 int64         // during shared0..shared1
	ok, failed, failedAlone    int
}

// runPhases runs the fleet through its phases, counting calls and
// failures; the token endpoint records when each token request came.
func runPhases(t *testing.T, f *fleet, idp *countingidp.IdP) (r fleetRun) {
	// 1. Without the store: every replica renews its own token.
	r.alone0 = time.Now()
	f.start("")
	time.Sleep(5 * time.Second)
	_, r.failedAlone = f.stop()
	r.alone1 = time.Now()
	r.period = renewal(idp.Requests())

	// 2. With the store.
	rp := startRedis(t)
	f.start(rp.addr())
	time.Sleep(time.Second)
	r.shared0 = time.Now()
	calls0 := commands(t, rp.addr())
	time.Sleep(20 * time.Second) // 8 rounds: one duplicate (a slow call on a busy machine) is 1.12
	r.shared1 = time.Now()
	r.redisCalls = commands(t, rp.addr()) - calls0

	// 3. Redis paused 5 s, then killed and restarted empty.
	rp.pause()
	time.Sleep(5 * time.Second)
	rp.kill()
	rp.start()
	r.restarted = time.Now()
	time.Sleep(r.period + time.Second) // one round to converge on one token again
	r.converged = time.Now()
	time.Sleep(3 * r.period)
	r.end3 = time.Now()

	// 4. The lease holder dies mid-request.
	stalled, release := idp.StallNext()
	var held countingidp.Request
	select {
	case held = <-stalled:
	case <-time.After(3 * fleetLifetime):
		t.Fatal("no token request to stall")
	}
	f.kill(held.PID())
	r.killedAt = time.Now()
	release()
	time.Sleep(r.period * 3 / 2)
	r.end4 = time.Now()
	r.ok, r.failed = f.stop()
	return r
}

// check reports the counts of each phase and asserts them.
func (r fleetRun) check(t *testing.T, idp *countingidp.IdP) {
	reqs := idp.Requests()
	nAlone := countingidp.Count(reqs, r.alone0, r.alone1)
	requesters := map[string]bool{}
	for _, q := range reqs[:nAlone] {
		requesters[q.Replica] = true
	}
	// Each replica renews on its own: the fleet makes one request per
	// replica per round, i.e. len(requesters) per lifetime.
	alone := float64(len(requesters))
	nShared, shared := perLifetime(reqs, r.shared0, r.shared1, r.period)
	nPaused := countingidp.Count(reqs, r.shared1, r.restarted)
	nConverge := countingidp.Count(reqs, r.restarted, r.converged)
	nResumed, resumed := perLifetime(reqs, r.converged, r.end3, r.period)
	nTakeover := countingidp.Count(reqs, r.killedAt, r.killedAt.Add(r.period))
	var takeoverAfter time.Duration
	if i := slices.IndexFunc(reqs, func(q countingidp.Request) bool { return q.At.After(r.killedAt) }); i >= 0 {
		takeoverAfter = reqs[i].At.Sub(r.killedAt)
	}
	t.Logf("without the store: %d token requests by %d replicas, each renewing its own every %v: %.0f per lifetime",
		nAlone, len(requesters), r.period.Round(10*time.Millisecond), alone)
	t.Logf("with the store: %d token requests in %v, %.2f per lifetime; Redis calls: %d, %.1f per replica per lifetime",
		nShared, r.shared1.Sub(r.shared0).Round(time.Second), shared, r.redisCalls,
		float64(r.redisCalls)/fleetSize/(float64(r.shared1.Sub(r.shared0))/float64(r.period)))
	t.Logf("Redis paused 5 s, then killed: %d token requests; restarted: %d while converging, then %d, %.2f per lifetime",
		nPaused, nConverge, nResumed, resumed)
	t.Logf("lease holder killed: %d token requests in the round after, the first %v after the kill (lease TTL 1s)",
		nTakeover, takeoverAfter.Round(10*time.Millisecond))
	for _, q := range reqs {
		if !q.At.Before(r.shared0) && q.At.Before(r.shared1) {
			t.Logf("  shared phase: token request by replica %s at %.2fs", q.Replica, q.At.Sub(r.shared0).Seconds())
		}
	}
	t.Logf("API calls: %d ok, %d failed (without the store: %d failed); refused tokens: %d",
		r.ok, r.failed, r.failedAlone, idp.Refused())

	if len(requesters) != fleetSize || nAlone < 2*fleetSize {
		t.Errorf("without the store: %d token requests by %d replicas; want each of %d renewing (is the fleet running?)",
			nAlone, len(requesters), fleetSize)
	}
	if shared > 1.2 {
		t.Errorf("with the store: %.2f token requests per lifetime; want at most 1.2", shared)
	}
	if nPaused == 0 {
		t.Error("no token request while Redis was paused: the replicas did not go on alone")
	}
	if resumed > 1.5 { // 3 rounds: one duplicate is 1.33, and no sharing is 10
		t.Errorf("after the restart: %.2f per lifetime; want sharing again (at most 1.5)", resumed)
	}
	if nTakeover < 1 || nTakeover > 2 {
		t.Errorf("in the round after the holder died: %d token requests; want 1 or 2 (one taking over)", nTakeover)
	}
	if r.failed != 0 || r.failedAlone != 0 {
		t.Errorf("failed API calls: %d with the store, %d without; want 0", r.failed, r.failedAlone)
	}
}

// commands returns how many calls clients made to the server: EVALSHA,
// EVAL and HMGET (not the commands the scripts run inside).
func commands(t *testing.T, addr string) int64 {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	info, err := c.Info(context.Background(), "commandstats").Result()
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, line := range strings.Split(info, "\r\n") {
		for _, cmd := range []string{"evalsha", "eval", "hmget"} {
			if v, ok := strings.CutPrefix(line, "cmdstat_"+cmd+":calls="); ok {
				v, _, _ = strings.Cut(v, ",")
				k, _ := strconv.ParseInt(v, 10, 64)
				n += k
			}
		}
	}
	return n
}
