package web

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed-d44eba79/authorizer/data"
	"go.uber.org/goleak"
)

// TestRandomScenario drives many simulated browsers at once against the
// middleware, in cookie mode and in store mode, with a provider whose
// refresh grants fail, refuse, are slow and rotate with reuse detection,
// while back-channel logouts, sign-outs, clock jumps, secret rotations and
// Close (a restart: a new Login takes over) happen at random. Choices are
// seeded: WEB_RANDOM_SEED=n reruns a seed, WEB_RANDOM_ITER=k runs k seeds.
//
// Invariants, checked on every request the app sees and at the end:
//   - the app never sees another browser's identity;
//   - once a sign-out or a back-channel logout is acknowledged, no request
//     sent after it reaches the app signed in to that session (cookie
//     mode: within the process that acknowledged it, as documented);
//   - once the provider refuses a session's refresh, no request sent after
//     it reaches the app signed in to that session;
//   - no refresh token is presented after it was redeemed (a strict
//     provider revokes the grant), and no refresh happens before the
//     access token is due (so: one grant per session per expiry);
//   - statuses are 200, 302 (browser to login) or 401 (API, non-GET);
//     never a 5xx;
//   - no session is ended by anything but a logout or a refusal;
//   - nothing is left running after Close (goleak), and -race is silent.
func TestRandomScenario(t *testing.T) {
	if testing.Short() {
		t.Skip("long randomized scenario")
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("WEB_RANDOM_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	iters := 1
	if s := os.Getenv("WEB_RANDOM_ITER"); s != "" {
		iters, _ = strconv.Atoi(s)
	}
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	for i := range iters {
		for _, store := range []bool{false, true} {
			s := seed + uint64(i)
			name := fmt.Sprintf("seed=%d/store=%v", s, store)
			t.Run(name, func(t *testing.T) {
				t.Cleanup(func() {
					if t.Failed() {
						t.Logf("reproduce: WEB_RANDOM_SEED=%d go test -race -run 'TestRandomScenario/seed=%d/store=%v' ./web/", s, s, store)
					}
				})
				runScenario(t, s, store)
			})
		}
	}
	http.DefaultTransport.(*http.Transport).CloseIdleConnections()
}

// Scenario size: kept to a few seconds under -race on a loaded machine.
const (
	rndUsers    = 3
	rndBrowsers = 8
	rndRounds   = 14
	rndWorkers  = 3 // concurrent request loops per browser per round
	rndRequests = 5 // requests per loop
)

type ended struct {
	seq int64 // event number of the acknowledgement
	gen int   // the Login generation that acknowledged it
}

type scenario struct {
	t     *testing.T
	seed  uint64
	store *countingStore
	clock *clock
	idp   *fakeIdP
	prov  *rndProvider
	front *httptest.Server
	tr    *http.Transport // the browsers'
	logs  *logBuffer

	seqN           atomic.Int64 // orders acknowledgements and request starts
	pendingRestart atomic.Int32 // a restart for the end of the round

	// clockMu keeps clock jumps out of a back-channel logout (a logout
	// token lives 2 minutes): jumps hold it, logouts read-hold it.
	clockMu sync.RWMutex

	genMu   sync.Mutex // guards gen, login, secrets
	gen     int
	genN    atomic.Int64 // gen, for readers that must not wait for a restart
	origin  string
	login   *Login
	secrets []string
	handler atomic.Pointer[http.Handler]

	mu         sync.Mutex       // guards the fields below
	ended      map[string]ended // sid → logout acknowledged
	ending     map[string]bool  // sid → a logout of it was sent
	logins     map[string]int64 // sid → event number when the login completed
	violations []string
	stats      map[string]int
}

func (sc *scenario) seq() int64 { return sc.seqN.Add(1) }

func (sc *scenario) violate(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if len(sc.violations) < 20 {
		sc.violations = append(sc.violations, msg)
	}
	sc.stats["VIOLATION"]++
}

func (sc *scenario) count(what string) {
	sc.mu.Lock()
	sc.stats[what]++
	sc.mu.Unlock()
}

func runScenario(t *testing.T, seed uint64, withStore bool) {
	c := newClock()
	sc := &scenario{t: t, seed: seed, clock: c, logs: &logBuffer{},
		ended: map[string]ended{}, ending: map[string]bool{}, logins: map[string]int64{}, stats: map[string]int{}}
	sc.idp = newFakeIdP(t, c)
	sc.idp.editID = hintClaims
	sc.prov = newRndProvider(sc.idp, seed, func() ended { return ended{seq: sc.seq(), gen: int(sc.genN.Load())} })
	sc.idp.srv.Config.Handler = sc.prov
	if withStore {
		sc.store = &countingStore{MemoryStore: NewMemoryStore(c.Now), sc: sc, sids: map[string]string{}}
	}
	sc.front = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		(*sc.handler.Load()).ServeHTTP(w, r)
	}))
	sc.tr = &http.Transport{MaxIdleConnsPerHost: 64}
	idpTr := &http.Transport{MaxIdleConnsPerHost: 64}
	sc.secrets = []string{randomString(32)}
	sc.origin = "http://" + sc.front.Listener.Addr().String()
	sc.restart(idpTr, false)
	sc.front.Start()

	rng := rand.New(rand.NewPCG(seed, 1))
	browsers := make([]*rndBrowser, rndBrowsers)
	for i := range browsers {
		browsers[i] = sc.newBrowser(i, fmt.Sprintf("user%d", i%rndUsers), rng.Uint64())
	}
	for round := range rndRounds {
		sc.round(round, rng, browsers, idpTr)
	}

	sc.genMu.Lock()
	sc.login.Close()
	sc.genMu.Unlock()
	sc.front.Close()
	sc.tr.CloseIdleConnections()
	idpTr.CloseIdleConnections()
	sc.report(t)
}

// restart makes a new Login (a new process): rotate gives it a new session
// secret, keeping the old ones for reading. The old Login is closed while
// its requests may still be running.
func (sc *scenario) restart(idpTr *http.Transport, rotate bool) {
	sc.genMu.Lock()
	defer sc.genMu.Unlock()
	if rotate {
		sc.secrets = append([]string{randomString(32)}, sc.secrets...)
		if len(sc.secrets) > 3 {
			sc.secrets = sc.secrets[:3]
		}
	}
	cfg := Config{
		Issuer: sc.idp.issuer(), Client: data.ClientInfo{ClientID: "web-app", ClientSecret: "web-secret"},
		ExternalURL: "http://" + sc.front.Listener.Addr().String(), ProtectedPaths: []string{"/private/"},
		SessionSecret: sc.secrets[0], OlderSessionSecrets: sc.secrets[1:], Now: sc.clock.Now,
		HTTPClient: &http.Client{Transport: idpTr, Timeout: 30 * time.Second},
		Logger:     slog.New(slog.NewTextHandler(sc.logs, nil)),
	}
	if sc.store != nil {
		cfg.SessionStore = sc.store
	}
	l, err := New(cfg)
	if err != nil {
		sc.t.Fatal(err)
	}
	old := sc.login
	sc.gen++
	sc.genN.Store(int64(sc.gen))
	sc.login = l
	inner, gen := l.Wrap(sc.app(sc.gen)), strconv.Itoa(sc.gen)
	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Rnd-Gen", gen) // which process answered
		inner.ServeHTTP(w, r)
	})
	sc.handler.Store(&h)
	if old != nil {
		// A rolling restart: the grants in flight finish (Close would
		// cut them after the provider may have rotated the token).
		old.Shutdown(context.Background())
	}
}

// app checks every request it sees signed in.
func (sc *scenario) app(gen int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, ok := IdentityFrom(r.Context())
		if !ok {
			w.Write([]byte("anonymous"))
			return
		}
		bid := r.Header.Get("X-Rnd-Browser")
		start, _ := strconv.ParseInt(r.Header.Get("X-Rnd-Start"), 10, 64)
		if sc.check(gen, bid, start, id.Subject, id.SessionID, sc.prov.grantOf(id.s.Load().refresh)) {
			s := id.s.Load()
			sc.violate("  (that request: session %s issued %v expiry %v due %v, denied now %v, refresh token %s, now %v)", s.id, s.issued.Unix(), s.expiry.Unix(),
				s.refreshDue(sc.clock.Now()), id.l.denied.denies(s), data.Fingerprint(s.refresh), sc.clock.Now().Unix())
		}
		if _, err := id.Authorize(r.Context()); err != nil {
			sc.count("app: Authorize failed")
		}
		fmt.Fprintf(w, "hello %s %s", id.Subject, id.SessionID)
	})
}

func (sc *scenario) check(gen int, bid string, start int64, sub, sid, grant string) (bad bool) {
	hint := strings.TrimPrefix(sid, "sid-")
	parts := strings.Split(hint, "~")
	if len(parts) != 3 || parts[0] != sub || parts[1] != bid {
		sc.violate("browser %s (request %d) reached the app as sub %q sid %q: another browser's session", bid, start, sub, sid)
		return true
	}
	sc.mu.Lock()
	e, isEnded := sc.ended[sid]
	sc.mu.Unlock()
	if isEnded && e.seq < start && (sc.store != nil || e.gen == gen) {
		sc.violate("request %d of browser %s reached the app signed in as %s after its logout was acknowledged (event %d, generation %d; served by generation %d)", start, bid, sid, e.seq, e.gen, gen)
		bad = true
	}
	sc.prov.mu.Lock()
	r, refused := sc.prov.refused[grant]
	sc.prov.mu.Unlock()
	if refused && r.seq < start && (sc.store != nil || r.gen == gen) {
		sc.violate("request %d of browser %s reached the app signed in as %s after the provider refused its refresh (event %d, generation %d; served by generation %d)", start, bid, sid, r.seq, r.gen, gen)
		bad = true
	}
	return bad
}

// endSession records that the process gen acknowledged the end of sid.
func (sc *scenario) endSession(sid string, seq int64, gen int) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if _, ok := sc.ended[sid]; !ok {
		sc.ended[sid] = ended{seq: seq, gen: gen}
	}
}

// round runs every browser's request loops, and the round's random events
// alongside them.
func (sc *scenario) round(round int, rng *rand.Rand, browsers []*rndBrowser, idpTr *http.Transport) {
	var wg sync.WaitGroup
	for _, b := range browsers {
		brng := rand.New(rand.NewPCG(rng.Uint64(), uint64(b.n)))
		wg.Go(func() { b.act(brng) })
	}
	events := 2 + rng.IntN(4)
	for range events {
		ev := rng.IntN(10)
		erng := rand.New(rand.NewPCG(rng.Uint64(), 7))
		wg.Go(func() { sc.event(ev, erng, browsers, idpTr) })
	}
	wg.Wait()
	if p := sc.pendingRestart.Swap(0); p != 0 {
		sc.restart(idpTr, p == 1)
	}
	sc.jump(time.Duration(rng.IntN(300)) * time.Second)
}

// hotRestart restarts while requests are in flight (a rolling restart, or
// two replicas); by default restarts happen between rounds. Hot restarts
// show the open findings of TestRandomFinding….
var hotRestart = os.Getenv("WEB_RANDOM_HOT_RESTART") != ""

func (sc *scenario) jump(d time.Duration) {
	sc.clockMu.Lock()
	sc.clock.Add(d)
	sc.clockMu.Unlock()
}

func (sc *scenario) markEnding(sids ...string) {
	sc.mu.Lock()
	for _, s := range sids {
		sc.ending[s] = true
	}
	sc.mu.Unlock()
}

func genOf(resp *http.Response) int {
	n, _ := strconv.Atoi(resp.Header.Get("X-Rnd-Gen"))
	return n
}

func (sc *scenario) event(ev int, rng *rand.Rand, browsers []*rndBrowser, idpTr *http.Transport) {
	switch {
	case ev < 3:
		sc.backChannel(rng, browsers)
	case ev < 5:
		browsers[rng.IntN(len(browsers))].signOut()
	case ev < 7:
		sc.jump(time.Duration(rng.IntN(400)) * time.Second)
	case ev < 9:
		sc.count("event: restart (Close, a new Login), secret rotated: " + strconv.FormatBool(ev == 7))
		if hotRestart {
			sc.restart(idpTr, ev == 7)
		} else {
			sc.pendingRestart.Store(int32(ev - 6)) // 1: rotate, 2: same secret
		}
	default:
		browsers[rng.IntN(len(browsers))].replayOld(rng)
	}
}

// backChannel posts a logout token for a random login's sid, or for all of
// a user's sessions (sub), and records what it ended once acknowledged.
func (sc *scenario) backChannel(rng *rand.Rand, browsers []*rndBrowser) {
	b := browsers[rng.IntN(len(browsers))]
	sid := b.anySid(rng)
	var sub, tokSid string
	switch rng.IntN(3) {
	case 0:
		if sid == "" {
			return
		}
		tokSid = sid
	case 1:
		sub = b.user
	default:
		if sid == "" {
			return
		}
		tokSid, sub = sid, b.user
	}
	sc.clockMu.RLock()
	defer sc.clockMu.RUnlock()
	sent := sc.seq()
	if tokSid != "" {
		sc.markEnding(tokSid)
	} else {
		sc.markEnding("sub:" + sub) // and any login of sub in progress
	}
	tok := sc.idp.logoutToken(sub, tokSid, nil)
	var resp *http.Response
	for try := 0; ; try++ {
		var err error
		resp, err = http.PostForm(sc.front.URL+"/backchannel-logout", url.Values{"logout_token": {tok}})
		if err != nil {
			sc.violate("back-channel logout: %v", err)
			return
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable || try == 20 {
			break
		}
		// A Login closing for a restart: the provider retries, as
		// Retry-After asks (without waiting: nothing here is timed).
		sc.count("event: back-channel logout answered 503, retried")
		if resp.Header.Get("Retry-After") == "" {
			sc.violate("back-channel logout answered 503 without Retry-After")
		}
	}
	if resp.StatusCode != 200 {
		sc.violate("back-channel logout answered %d", resp.StatusCode)
		return
	}
	ack, gen := sc.seq(), genOf(resp)
	sc.count("event: back-channel logout")
	if tokSid != "" {
		sc.endSession(tokSid, ack, gen)
	} else {
		for _, s := range sc.sidsOf(sub, sent) {
			sc.endSession(s, ack, gen)
		}
	}
}

// sidsOf: the sids of sub's logins completed before event before.
func (sc *scenario) sidsOf(sub string, before int64) []string {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	var sids []string
	for s, done := range sc.logins {
		if strings.HasPrefix(s, "sid-"+sub+"~") && done < before {
			sids = append(sids, s)
		}
	}
	return sids
}

func (sc *scenario) report(t *testing.T) {
	t.Helper()
	sc.mu.Lock()
	defer sc.mu.Unlock()
	p := sc.prov
	p.mu.Lock()
	defer p.mu.Unlock()
	var lines []string
	for k, v := range sc.stats {
		lines = append(lines, fmt.Sprintf("%s: %d", k, v))
	}
	for k, v := range p.stats {
		lines = append(lines, fmt.Sprintf("provider: %s: %d", k, v))
	}
	sort.Strings(lines)
	t.Logf("seed %d:\n  %s", sc.seed, strings.Join(lines, "\n  "))
	for _, v := range sc.violations {
		t.Error(v)
	}
	for _, line := range strings.Split(sc.logs.String(), "\n") {
		if strings.Contains(line, "back-channel logout refused") || strings.Contains(line, "level=ERROR") || strings.Contains(line, "refresh refused") {
			t.Log(line)
		}
	}
	for k, v := range p.stats {
		if strings.HasPrefix(k, "REUSE") || strings.HasPrefix(k, "PREMATURE") {
			t.Errorf("provider saw %d × %s", v, k)
		}
	}
	for k, v := range sc.stats {
		if strings.Contains(k, "SPURIOUS") {
			t.Errorf("provider saw %d × %s", v, k)
		}
	}
	for _, line := range strings.Split(sc.logs.String(), "\n") {
		if strings.Contains(line, "refresh refused") && (strings.Contains(line, "closed") || strings.Contains(line, "context canceled")) {
			t.Errorf("a session ended because the Login was closed (not a refusal): %s", line)
		}
	}
}

// countingStore is the MemoryStore, remembering each id's sid so that a
// deletion of a session no logout or refusal ended shows.
type countingStore struct {
	*MemoryStore
	sc *scenario

	mu   sync.Mutex        // guards sids
	sids map[string]string // session id → sid
}

func (s *countingStore) Put(ctx context.Context, id string, value []byte, tags []string, ttl time.Duration) error {
	for _, tag := range tags {
		if sid, ok := strings.CutPrefix(tag, "sid:"); ok {
			s.mu.Lock()
			s.sids[id] = sid
			s.mu.Unlock()
		}
	}
	return s.MemoryStore.Put(ctx, id, value, tags, ttl)
}

func (s *countingStore) Delete(ctx context.Context, id string) error {
	s.mu.Lock()
	sid := s.sids[id]
	s.mu.Unlock()
	s.sc.mu.Lock()
	user, _, _ := strings.Cut(strings.TrimPrefix(sid, "sid-"), "~")
	isEnded := s.sc.ending[sid] || s.sc.ending["sub:"+user]
	s.sc.mu.Unlock()
	s.sc.prov.mu.Lock()
	revoked := s.sc.prov.sidRevoked[sid]
	s.sc.prov.mu.Unlock()
	if !isEnded && !revoked {
		s.sc.count("store: SPURIOUS delete of a session no logout or refusal ended")
	}
	return s.MemoryStore.Delete(ctx, id)
}

type snap struct {
	value string
	gen   int
}

// rndBrowser is one browser: a cookie jar shared by concurrent requests.
type rndBrowser struct {
	sc   *scenario
	n    int
	id   string
	user string
	jar  *cookiejar.Jar
	hint atomic.Pointer[string] // login_hint for the next login

	loginMu sync.Mutex // serialises sign-in and sign-out
	mu      sync.Mutex // guards sid, logins, old
	sid     string     // the current login's sid ("" when signed out)
	count   int        // logins so far
	sids    []string   // every login's sid
	old     []snap     // snapshots of the session cookie
}

func (sc *scenario) newBrowser(n int, user string, _ uint64) *rndBrowser {
	jar, _ := cookiejar.New(nil)
	b := &rndBrowser{sc: sc, n: n, id: strconv.Itoa(n), user: user, jar: jar}
	h := ""
	b.hint.Store(&h)
	return b
}

// RoundTrip adds the login hint to the provider's authorize requests.
func (b *rndBrowser) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Path == "/authorize" {
		r = r.Clone(r.Context())
		q := r.URL.Query()
		q.Set("login_hint", *b.hint.Load())
		r.URL.RawQuery = q.Encode()
	}
	return b.sc.tr.RoundTrip(r)
}

func (b *rndBrowser) client(follow bool) *http.Client {
	c := &http.Client{Jar: b.jar, Transport: b}
	if !follow {
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	return c
}

func (b *rndBrowser) anySid(rng *rand.Rand) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.sids) == 0 {
		return ""
	}
	if b.sid != "" && rng.IntN(2) == 0 {
		return b.sid
	}
	return b.sids[rng.IntN(len(b.sids))]
}

// act: sign in when signed out, then concurrent request loops.
func (b *rndBrowser) act(rng *rand.Rand) {
	if !b.signedIn() {
		b.signIn()
	}
	var wg sync.WaitGroup
	for w := range rndWorkers {
		wrng := rand.New(rand.NewPCG(rng.Uint64(), uint64(w)))
		wg.Go(func() {
			for range rndRequests {
				b.request(wrng)
			}
		})
	}
	wg.Wait()
}

// signedIn: the browser's login has not been ended (as far as the test
// knows).
func (b *rndBrowser) signedIn() bool {
	b.mu.Lock()
	sid := b.sid
	b.mu.Unlock()
	if sid == "" {
		return false
	}
	b.sc.mu.Lock()
	_, isEnded := b.sc.ended[sid]
	b.sc.mu.Unlock()
	b.sc.prov.mu.Lock()
	revoked := b.sc.prov.sidRevoked[sid]
	b.sc.prov.mu.Unlock()
	return !isEnded && !revoked
}

func (b *rndBrowser) signIn() {
	b.loginMu.Lock()
	defer b.loginMu.Unlock()
	b.mu.Lock()
	b.count++
	h := fmt.Sprintf("%s~%d~%d", b.user, b.n, b.count)
	b.mu.Unlock()
	b.hint.Store(&h)
	status, body, err := b.do(b.client(true), "GET", "/private/home", "text/html")
	if err != nil {
		b.sc.count("sign-in did not finish: " + shortErr(err))
		return
	}
	want := "hello " + b.user + " sid-" + h
	if status != 200 || body != want {
		b.sc.count(fmt.Sprintf("sign-in ended in %d (not signed in)", status))
		return
	}
	done := b.sc.seq()
	b.sc.mu.Lock()
	b.sc.logins["sid-"+h] = done
	b.sc.mu.Unlock()
	b.mu.Lock()
	b.sid = "sid-" + h
	b.sids = append(b.sids, b.sid)
	b.mu.Unlock()
	b.snapshot()
	b.sc.count("sign-in")
}

func shortErr(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 {
		s = s[i+2:]
	}
	return s
}

func (b *rndBrowser) snapshot() {
	u, _ := url.Parse(b.sc.front.URL)
	for _, c := range b.jar.Cookies(u) {
		if c.Name == DefaultCookieName {
			b.mu.Lock()
			b.old = append(b.old, snap{c.Value, int(b.sc.genN.Load())})
			b.mu.Unlock()
		}
	}
}

func (b *rndBrowser) signOut() {
	b.loginMu.Lock()
	defer b.loginMu.Unlock()
	b.mu.Lock()
	sid := b.sid
	b.mu.Unlock()
	if sid == "" {
		return
	}
	b.sc.markEnding(sid)
	req, _ := http.NewRequest("POST", b.sc.front.URL+"/sign-out", strings.NewReader("rd=%2Fbye"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.sc.origin)
	resp, err := b.client(false).Do(req)
	if err != nil {
		b.sc.violate("sign-out: %v", err)
		return
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		b.sc.violate("sign-out answered %d; want 303", resp.StatusCode)
		return
	}
	b.sc.endSession(sid, b.sc.seq(), genOf(resp))
	b.mu.Lock()
	b.sid = ""
	b.mu.Unlock()
	b.sc.count("event: sign-out")
}

// replayOld sends one request with an old session cookie of this browser
// (an attacker's copy, or a tab that kept it).
func (b *rndBrowser) replayOld(rng *rand.Rand) {
	b.mu.Lock()
	if len(b.old) == 0 {
		b.mu.Unlock()
		return
	}
	old := b.old[rng.IntN(len(b.old))]
	b.mu.Unlock()
	if b.sc.store == nil && old.gen != int(b.sc.genN.Load()) {
		// Cookie mode: the refreshed sessions a process remembers (so an old
		// cookie does not redeem a rotated token) are lost on restart; see
		// TestRandomFindingOldCookieAfterRestart.
		return
	}
	value := old.value
	jar, _ := cookiejar.New(nil)
	u, _ := url.Parse(b.sc.front.URL)
	jar.SetCookies(u, []*http.Cookie{{Name: DefaultCookieName, Value: value, Path: "/"}})
	c := &http.Client{Jar: jar, Transport: b.sc.tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	status, _, err := b.do(c, "GET", "/private/replay", "application/json")
	if err != nil {
		b.sc.violate("replay: %v", err)
		return
	}
	b.sc.count("event: old cookie replayed")
	if status != 200 && status != 401 {
		b.sc.violate("old cookie replayed: %d; want 200 or 401", status)
	}
}

func (b *rndBrowser) request(rng *rand.Rand) {
	c := b.client(false)
	var method, path, accept string
	var want []int
	switch rng.IntN(5) {
	case 0, 1:
		method, path, accept, want = "GET", "/private/page", "text/html", []int{200, 302}
	case 2:
		method, path, accept, want = "GET", "/private/api", "application/json", []int{200, 401}
	case 3:
		method, path, accept, want = "POST", "/private/form", "text/html", []int{200, 401}
	default:
		method, path, accept, want = "GET", "/open", "text/html", []int{200}
	}
	status, body, err := b.do(c, method, path, accept)
	if err != nil {
		b.sc.violate("%s %s: %v", method, path, err)
		return
	}
	if !contains(intsToStrings(want), strconv.Itoa(status)) {
		b.sc.violate("%s %s (%s): status %d; want one of %v (body %.80q)", method, path, accept, status, want, body)
		return
	}
	b.sc.count(fmt.Sprintf("%s %s → %d", method, path, status))
	if status == 200 && strings.HasPrefix(body, "hello ") {
		b.snapshotSometimes(rng)
	}
}

func (b *rndBrowser) snapshotSometimes(rng *rand.Rand) {
	if rng.IntN(8) == 0 {
		b.snapshot()
	}
}

func intsToStrings(v []int) []string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = strconv.Itoa(n)
	}
	return s
}

// do sends one request, stamped with the browser and the request's event
// number (taken just before it leaves).
func (b *rndBrowser) do(c *http.Client, method, path, accept string) (int, string, error) {
	req, _ := http.NewRequest(method, b.sc.front.URL+path, nil)
	req.Header.Set("Accept", accept)
	req.Header.Set("X-Rnd-Browser", b.id)
	req.Header.Set("X-Rnd-Start", strconv.FormatInt(b.sc.seq(), 10))
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	buf.ReadFrom(resp.Body)
	return resp.StatusCode, buf.String(), nil
}
