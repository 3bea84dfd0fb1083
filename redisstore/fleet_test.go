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

// perLifetime is the fleet's token requests per renewal round: requests
// in [from, to) divided by the rounds they span at one replica's pace.
func perLifetime(reqs []countingidp.Request, from, to time.Time, period time.Duration) (int, float64) {
	var in []time.Time
	for _, r := range reqs {
		if !r.At.Before(from) && r.At.Before(to) {
			in = append(in, r.At)
		}
	}
	if len(in) == 0 {
		return 0, 0
	}
	rounds := 1 + math.Round(float64(in[len(in)-1].Sub(in[0]))/float64(period))
	return len(in), float64(len(in)) / rounds
}

func TestFleetSharesOneToken(t *testing.T) {
	peerEnv(t, "AUTHORIZER_REDIS_SPARE_PORT")
	if testing.Short() {
		t.Skip("-short: the fleet test runs ~45 s")
	}
	bin := buildFleet(t)
	idp := countingidp.New(fleetLifetime)
	srv := httptest.NewServer(idp)
	defer srv.Close()
	f := &fleet{t: t, bin: bin, url: srv.URL}
	defer f.stop()
	mark := func() time.Time { return time.Now() }

	// 1. Without the store: every replica renews its own token.
	t0 := mark()
	f.start("")
	time.Sleep(6 * time.Second)
	_, failedAlone := f.stop()
	t1 := mark()
	alone := idp.Requests()
	period := renewal(alone)
	nAlone, ratioAlone := perLifetime(alone, t0, t1, period)
	t.Logf("without the store: %d token requests, %.1f per lifetime (one replica renews every %v)",
		nAlone, ratioAlone, period.Round(10*time.Millisecond))

	// 2. With the store.
	rp := startRedis(t)
	f.start(rp.addr())
	time.Sleep(time.Second)
	t2 := mark()
	cmds0 := commands(t, rp.addr())
	time.Sleep(12 * time.Second)
	t3 := mark()
	cmds := commands(t, rp.addr()) - cmds0
	// 3. Redis paused 5 s, then killed and restarted empty.
	rp.pause()
	time.Sleep(5 * time.Second)
	rp.kill()
	rp.start()
	t4 := mark()
	time.Sleep(period + time.Second) // one round to converge on one token again
	t5 := mark()
	time.Sleep(3 * period)
	t6 := mark()
	// 4. The lease holder dies mid-request.
	stalled, release := idp.StallNext()
	var held countingidp.Request
	select {
	case held = <-stalled:
	case <-time.After(3 * fleetLifetime):
		t.Fatal("no token request to stall")
	}
	f.kill(held.PID())
	killedAt := mark()
	release()
	time.Sleep(2 * period)
	t7 := mark()
	ok, failed := f.stop()

	reqs := idp.Requests()
	nShared, ratioShared := perLifetime(reqs, t2, t3, period)
	nPaused := countingidp.Count(reqs, t3, t4)
	nConverge := countingidp.Count(reqs, t4, t5)
	nResumed, ratioResumed := perLifetime(reqs, t5, t6, period)
	nTakeover := countingidp.Count(reqs, killedAt, t7)
	var takeoverAfter time.Duration
	for _, r := range reqs {
		if r.At.After(killedAt) {
			takeoverAfter = r.At.Sub(killedAt)
			break
		}
	}
	t.Logf("with the store: %d token requests in %v, %.2f per lifetime; Redis calls: %d, %.1f per replica per lifetime",
		nShared, t3.Sub(t2).Round(time.Second), ratioShared, cmds,
		float64(cmds)/fleetSize/(float64(t3.Sub(t2))/float64(period)))
	t.Logf("Redis paused 5 s, then killed: %d token requests; restarted: %d while converging, then %d, %.2f per lifetime",
		nPaused, nConverge, nResumed, ratioResumed)
	t.Logf("lease holder killed: %d token requests after, the first %v after the kill (lease TTL 1s)",
		nTakeover, takeoverAfter.Round(10*time.Millisecond))
	t.Logf("API calls: %d ok, %d failed (without the store: %d failed); refused tokens: %d",
		ok, failed, failedAlone, idp.Refused())

	if ratioAlone < fleetSize/2 {
		t.Errorf("without the store: %.1f per lifetime; want about %d (is the fleet running?)", ratioAlone, fleetSize)
	}
	if ratioShared > 1.2 {
		t.Errorf("with the store: %.2f token requests per lifetime; want at most 1.2", ratioShared)
	}
	if nPaused == 0 {
		t.Error("no token request while Redis was paused: the replicas did not go on alone")
	}
	if ratioResumed > 1.2 {
		t.Errorf("after the restart: %.2f per lifetime; want sharing again (at most 1.2)", ratioResumed)
	}
	if nTakeover < 1 || nTakeover > 2 {
		t.Errorf("after the holder died: %d token requests; want 1 or 2 (one taking over)", nTakeover)
	}
	if failed != 0 || failedAlone != 0 {
		t.Errorf("failed API calls: %d with the store, %d without; want 0", failed, failedAlone)
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
