package grpcauth

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed-d44eba79/authorizer/base"
	"github.com/seed-d44eba79/authorizer/verify"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// flakyAuthorizer issues numbered JWTs; with probability failP a request
// fails, and with probability slowP it yields for a while first. It
// records the most token requests ever in flight at once.
type flakyAuthorizer struct {
	mu            sync.Mutex
	rng           *rand.Rand
	failP, slowP  float64
	inflight, max atomic.Int32
	issued        atomic.Int32
	failed        atomic.Int32
}

func (a *flakyAuthorizer) Authorize(ctx context.Context) (*oauth2.Token, error) {
	n := a.inflight.Add(1)
	for m := a.max.Load(); n > m && !a.max.CompareAndSwap(m, n); m = a.max.Load() {
	}
	defer a.inflight.Add(-1)
	a.mu.Lock()
	fail, slow := a.rng.Float64() < a.failP, a.rng.Float64() < a.slowP
	a.mu.Unlock()
	if slow {
		for range 50 {
			runtime.Gosched()
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if fail {
		a.failed.Add(1)
		return nil, errors.New("token endpoint down")
	}
	id := a.issued.Add(1)
	exp := time.Now().Add(time.Hour)
	raw := signJWT(`{"alg":"RS256","typ":"JWT"}`, claims(fmt.Sprint("t", id), exp, ""))
	return &oauth2.Token{AccessToken: raw, TokenType: "Bearer", Expiry: exp}, nil
}

func (a *flakyAuthorizer) Refresh(ctx context.Context, _ *oauth2.Token) (*oauth2.Token, error) {
	return a.Authorize(ctx)
}

func (a *flakyAuthorizer) Expired(tok *oauth2.Token) bool {
	return tok == nil || !time.Now().Before(tok.Expiry)
}

// revokingServer refuses revoked tokens with Unauthenticated, and records
// every attempt of every call (named by its "x-call" metadata).
type revokingServer struct {
	healthpb.UnimplementedHealthServer
	mu       sync.Mutex
	revoked  map[string]bool
	attempts map[int][]attempt
	lastJTI  string
}

type attempt struct {
	jti     string
	refused bool
}

func (s *revokingServer) serve(ctx context.Context) error {
	jti := verify.ClaimsFrom(ctx).ID
	md, _ := metadata.FromIncomingContext(ctx)
	id, _ := strconv.Atoi(md.Get("x-call")[0])
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastJTI = jti
	refused := s.revoked[jti]
	s.attempts[id] = append(s.attempts[id], attempt{jti, refused})
	if refused {
		return status.Error(codes.Unauthenticated, "revoked")
	}
	return nil
}

func (s *revokingServer) revokeLast() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lastJTI != "" {
		s.revoked[s.lastJTI] = true
	}
}

func (s *revokingServer) Check(ctx context.Context, _ *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	if err := s.serve(ctx); err != nil {
		return nil, err
	}
	return &healthpb.HealthCheckResponse{}, nil
}

func (s *revokingServer) Watch(_ *healthpb.HealthCheckRequest, ws healthpb.Health_WatchServer) error {
	if err := s.serve(ws.Context()); err != nil {
		return err
	}
	return ws.Send(&healthpb.HealthCheckResponse{})
}

func breakSeed(t *testing.T) uint64 {
	if s := os.Getenv("BREAK_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		require.NoError(t, err)
		return n
	}
	return uint64(time.Now().UnixNano())
}

// Many goroutines make unary and streaming calls while the server
// revokes the current token, the token endpoint fails and slows, and the
// credentials are closed at a random point.
func TestBreakRandomRevocationsAndClose(t *testing.T) {
	for round := range 3 {
		seed := breakSeed(t) + uint64(round)
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) { randomRound(t, seed) })
	}
}

func randomRound(t *testing.T, seed uint64) {
	t.Logf("seed %d (rerun with BREAK_SEED=%d)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	srv := &revokingServer{revoked: map[string]bool{}, attempts: map[int][]attempt{}}
	addr := startServer(t, srv, nil)
	a := &flakyAuthorizer{rng: rand.New(rand.NewPCG(seed+1, seed)), failP: 0.2, slowP: 0.3}
	creds, err := PerRPC(a, InsecureLoopback(), WithUnaryRetry(),
		WithTransportOptions(base.WithBackoff(time.Microsecond, time.Millisecond)))
	require.NoError(t, err)
	c := dial(t, addr, insecure.NewCredentials(), creds)

	const workers, perWorker = 12, 50
	var seq atomic.Int64                                               // call numbers, in start order
	var returned sync.Map                                              // jti → seq of the first return after its refusal
	var started sync.Map                                               // call id → stream?
	closeAt := workers*perWorker*3/5 + rng.IntN(workers*perWorker*2/5) // late: most calls run
	var calls atomic.Int64
	codesSeen := sync.Map{}
	var wg sync.WaitGroup
	plans := make([][]int, workers)
	for w := range plans {
		for range perWorker {
			plans[w] = append(plans[w], rng.IntN(10))
		}
	}
	for w := range workers {
		wg.Go(func() {
			for _, p := range plans[w] {
				if calls.Add(1) == int64(closeAt) {
					creds.Close()
				}
				if p == 0 {
					srv.revokeLast()
				}
				id := int(seq.Add(1))
				ctx := metadata.AppendToOutgoingContext(context.Background(), "x-call", strconv.Itoa(id))
				stream := p >= 7
				started.Store(id, stream)
				var err error
				if stream {
					var ws healthpb.Health_WatchClient
					ws, err = c.Watch(ctx, &healthpb.HealthCheckRequest{})
					if err == nil {
						_, err = ws.Recv()
					}
				} else {
					err = check(ctx, c)
				}
				codesSeen.Store(status.Code(err), true)
				done := seq.Load()
				srv.mu.Lock()
				for _, at := range srv.attempts[id] {
					if at.refused {
						returned.LoadOrStore(at.jti, done)
					}
				}
				srv.mu.Unlock()
			}
		})
	}
	wg.Wait()
	creds.Close()

	assert.LessOrEqual(t, a.max.Load(), int32(1), "token requests in flight at once")
	codesSeen.Range(func(k, _ any) bool {
		assert.Contains(t, []codes.Code{codes.OK, codes.Unauthenticated, codes.Unavailable, codes.Canceled},
			k.(codes.Code), "unexpected code")
		return true
	})
	srv.mu.Lock()
	defer srv.mu.Unlock()
	refusedJTIs := map[string]bool{}
	for id, ats := range srv.attempts {
		s, _ := started.Load(id)
		if s.(bool) {
			assert.Len(t, ats, 1, "stream %d replayed", id)
		} else {
			assert.LessOrEqual(t, len(ats), 2, "unary %d sent more than twice", id)
		}
		for _, at := range ats {
			if at.refused {
				refusedJTIs[at.jti] = true
			}
			if r, ok := returned.Load(at.jti); ok && int64(id) > r.(int64) {
				t.Errorf("call %d started after %s's refusal was answered (seq %d) and sent it", id, at.jti, r)
			}
		}
	}
	assert.LessOrEqual(t, int(a.issued.Load()), 1+len(refusedJTIs),
		"tokens issued: one, plus one per refused token")
	t.Logf("calls %d, tokens %d, failed requests %d, refused tokens %d, close at %d",
		seq.Load(), a.issued.Load(), a.failed.Load(), len(refusedJTIs), closeAt)
}
