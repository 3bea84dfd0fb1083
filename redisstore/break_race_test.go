package redisstore

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
)

// holder is one lease as the test saw it: the epoch (count of forced
// lease expiries) read before Lock was called and after it returned.
type holder struct {
	before, after int64
	fence         int64
}

// keyBook is what the test knows about one cache key.
type keyBook struct {
	mu       sync.Mutex
	active   map[*holder]bool
	fences   map[int64]bool  // fences handed out by Lock
	stored   map[string]bool // every token given to Store for this key
	maxSeen  int64           // highest fence seen in a Load so far
	problems []string
}

func (b *keyBook) fail(format string, args ...any) {
	b.problems = append(b.problems, fmt.Sprintf(format, args...))
}

// raceSeed returns the seeds to run: AUTHORIZER_BREAK_SEED, or a fixed
// set plus one from the clock (logged, so that a failure is replayable).
func raceSeeds(t *testing.T) []uint64 {
	if v := os.Getenv("AUTHORIZER_BREAK_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		return []uint64{n}
	}
	return []uint64{1, 2, 3, uint64(time.Now().UnixNano())}
}

// Several Stores (replicas) × several keys share one miniredis; workers
// lock, load, "fetch" (a random pause), store and unlock, and sometimes
// die holding the lease (no unlock). A chaos goroutine expires every
// lease at random moments (miniredis time moves only by FastForward, so
// lease expiry is under the test's control, not the machine's speed).
// Invariants:
//   - exclusivity: two live holders of a key never took their leases in
//     one epoch (with no forced expiry between the two SETs);
//   - fences are unique per key;
//   - the fence of the token in Redis never goes down (a late holder
//     never overwrites a newer token);
//   - Load returns only tokens stored for that key;
//   - a waiting Lock backs off: at most 30 Redis calls per Lock with
//     WithMaxWait(300ms) (a spin makes hundreds).
func TestBreakRandomizedFleet(t *testing.T) {
	for _, seed := range raceSeeds(t) {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
			mr := miniredis.RunT(t)
			leaseTTL := 60 * time.Millisecond
			runFleet(t, seed, mr.Addr(), leaseTTL, func() { mr.FastForward(leaseTTL + time.Millisecond) })
		})
	}
}

// The same against a real redis-server (AUTHORIZER_REDIS_ADDR). Leases
// last 5 s and are renewed, so they end only when the chaos goroutine
// deletes them (a forced expiry), not because the machine is slow.
func TestBreakRandomizedFleetRealRedis(t *testing.T) {
	addr := peerEnv(t, "AUTHORIZER_REDIS_ADDR")
	c := newClient(t, addr)
	for _, seed := range raceSeeds(t) {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
			prefix := fmt.Sprintf("break-%d-%d:", seed, time.Now().UnixNano())
			var locks []string
			for ki := range 3 {
				locks = append(locks, (&Store{cfg: config{prefix: prefix}}).keys("key-"+strconv.Itoa(ki)).lock)
			}
			runFleet(t, seed, addr, 5*time.Second, func() { c.Del(context.Background(), locks...) },
				WithPrefix(prefix))
		})
	}
}

func runFleet(t *testing.T, seed uint64, addr string, leaseTTL time.Duration, expire func(), opts ...Option) {
	t.Logf("seed %d (AUTHORIZER_BREAK_SEED=%d replays it)", seed, seed)
	const replicas, nkeys, perWorker = 5, 3, 25
	ep := &epochs{}
	books := make([]*keyBook, nkeys)
	for i := range books {
		books[i] = &keyBook{active: map[*holder]bool{}, fences: map[int64]bool{}, stored: map[string]bool{}}
	}
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		orphans  []func() error // unlocks of workers that "died"
		maxCalls atomic.Int64
	)
	stop := make(chan struct{})
	chaosDone := make(chan struct{})
	go func() { // chaos: expire all leases now and then
		defer close(chaosDone)
		r := rand.New(rand.NewPCG(seed, 99))
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Duration(r.IntN(15)) * time.Millisecond):
			}
			ep.mu.Lock() // the expiry and the count move together for readers
			expire()
			ep.n++
			ep.mu.Unlock()
		}
	}()
	for rep := range replicas {
		for ki := range nkeys {
			// one worker per (replica, key) and a second one on the same
			// Store for key 0: two goroutines of one replica compete too
			n := 1
			if ki == 0 {
				n = 2
			}
			for w := range n {
				s, cc := countedStore(t, addr, append([]Option{WithLeaseTTL(leaseTTL),
					WithMaxWait(300 * time.Millisecond)}, opts...)...)
				_ = w
				wg.Add(1)
				go func(s *Store, cc *callCounter, rep, ki, w int) {
					defer wg.Done()
					r := rand.New(rand.NewPCG(seed, uint64(rep*100+ki*10+w)))
					key := "key-" + strconv.Itoa(ki)
					b := books[ki]
					for i := range perWorker {
						if orphan := fleetStep(t, s, cc, r, key, b, ep, &maxCalls, fmt.Sprintf("r%dw%d-%d", rep, w, i)); orphan != nil {
							mu.Lock()
							orphans = append(orphans, orphan)
							mu.Unlock()
						}
					}
				}(s, cc, rep, ki, w)
			}
		}
	}
	wg.Wait()
	close(stop)
	<-chaosDone
	expire() // the dead holders' leases end; their renewals stop
	for _, u := range orphans {
		_ = u()
	}
	for i, b := range books {
		for _, p := range b.problems {
			t.Errorf("key-%d: %s", i, p)
		}
		if len(b.fences) == 0 {
			t.Errorf("key-%d: no lease was ever taken: the test tested nothing", i)
		}
	}
	t.Logf("seed %d: max Redis calls in one Lock: %d; orphaned leases: %d", seed, maxCalls.Load(), len(orphans))
	if m := maxCalls.Load(); m > 30 {
		t.Errorf("a Lock made %d Redis calls; waiters spin", m)
	}
}

// fleetStep is one round of one worker; it returns the unlock of a lease
// the worker "died" holding.
func fleetStep(t *testing.T, s *Store, cc *callCounter, r *rand.Rand, key string, b *keyBook,
	ep *epochs, maxCalls *atomic.Int64, name string) func() error {
	ctx := context.Background()
	lockKey := s.keys(key).lock
	h := &holder{before: ep.load()}
	calls := cc.n.Load()
	old := s.leaseOf(lockKey)
	unlock, err := s.Lock(ctx, key)
	if err != nil {
		t.Errorf("Lock: %v", err)
		return nil
	}
	h.after = ep.load()
	if d := cc.n.Load() - calls; d > maxCalls.Load() {
		maxCalls.Store(d) // racy max: good enough, each worker only raises it
	}
	if l := s.leaseOf(lockKey); l.value != old.value {
		h.fence = l.fence // a new lease (an orphan's stays in the map)
	}
	b.mu.Lock()
	if h.fence > 0 {
		if b.fences[h.fence] {
			b.fail("fence %d handed out twice", h.fence)
		}
		b.fences[h.fence] = true
		for o := range b.active {
			early, late := o, h // fences follow the order of the SETs
			if late.fence < early.fence {
				early, late = late, early
			}
			if late.after == early.before { // no expiry between the two SETs
				b.fail("two holders in one epoch %d: fences %d [%d,%d] and %d [%d,%d]", h.after, o.fence, o.before, o.after, h.fence, h.before, h.after)
			}
		}
		b.active[h] = true
	}
	b.mu.Unlock()

	loadCheck(ctx, s, key, b)
	time.Sleep(time.Duration(r.IntN(3)) * time.Millisecond) // the token request
	// the fence Store will seal with: this lease's, or, going ahead
	// alone, that of a lease this Store holds (or orphaned) on the key
	tokName := key + "|" + name + "|" + strconv.FormatInt(s.heldFence(lockKey), 10)
	b.mu.Lock()
	b.stored[tokName] = true
	b.mu.Unlock()
	if err := s.Store(ctx, key, token(tokName, time.Now().Add(time.Hour))); err != nil &&
		!errors.Is(err, ErrUnavailable) { // a loaded machine may time a call out
		t.Errorf("Store: %v", err)
	}
	loadCheck(ctx, s, key, b)

	b.mu.Lock()
	delete(b.active, h)
	b.mu.Unlock()
	if r.IntN(10) == 0 {
		return unlock // dies holding the lease
	}
	if err := unlock(); err != nil && !errors.Is(err, ErrUnavailable) {
		t.Errorf("unlock: %v", err)
	}
	return nil
}

// loadCheck loads key (under the book's lock, so that successive loads are
// ordered) and checks the token was stored for key and its fence has not
// gone down.
func loadCheck(ctx context.Context, s *Store, key string, b *keyBook) {
	b.mu.Lock()
	defer b.mu.Unlock()
	tok, err := s.Load(ctx, key)
	if err != nil {
		if !errors.Is(err, ErrUnavailable) {
			b.fail("Load: %v", err)
		}
		return
	}
	if tok == nil {
		return
	}
	if !b.stored[tok.AccessToken] || !strings.HasPrefix(tok.AccessToken, key+"|") {
		b.fail("Load returned %q, never stored for %s", tok.AccessToken, key)
		return
	}
	f, _ := strconv.ParseInt(tok.AccessToken[strings.LastIndexByte(tok.AccessToken, '|')+1:], 10, 64)
	if f < b.maxSeen {
		b.fail("stored fence went down: %d after %d (a late holder overwrote a newer token)", f, b.maxSeen)
	}
	b.maxSeen = max(b.maxSeen, f)
}

// epochs counts forced lease expiries; a reader sees the count of those
// done.
type epochs struct {
	mu sync.RWMutex
	n  int64
}

func (e *epochs) load() int64 { e.mu.RLock(); defer e.mu.RUnlock(); return e.n }

func (s *Store) leaseOf(lockKey string) lease {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.leases[lockKey]
}
