package redisstore

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
)

// A token whose expiry is absurdly far (a hostile or buggy authorization
// server answering a huge expires_in) is stored with a TTL, like any
// other: the TTL arithmetic does not overflow into a 1 ms TTL, and Redis
// does not refuse it.
func TestBreakFarExpiryKeepsATTL(t *testing.T) {
	addrs := map[string]string{"miniredis": miniredis.RunT(t).Addr()}
	if a := getenv("AUTHORIZER_REDIS_ADDR"); a != "" {
		addrs["redis-server"] = a
	}
	for name, addr := range addrs {
		t.Run(name, func(t *testing.T) {
			s := newStoreOn(t, addr, WithPrefix("break-ttl-"+time.Now().Format("150405.000000000")+":"))
			ctx := context.Background()
			for _, exp := range []time.Time{time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), time.Now().Add(200 * 365 * 24 * time.Hour)} {
				unlock, _ := s.Lock(ctx, "k")
				err := s.Store(ctx, "k", token("far", exp))
				_ = unlock()
				if err != nil {
					t.Errorf("Store(expiry %v) = %v", exp, err)
				}
				ttl := s.client.PTTL(ctx, s.keys("k").tok).Val()
				if ttl < time.Hour {
					t.Errorf("expiry %v: TTL %v; want a long one", exp, ttl)
				}
				if tok, _ := s.Load(ctx, "k"); tok == nil {
					t.Errorf("expiry %v: not stored", exp)
				}
				_ = s.Delete(ctx, "k")
			}
		})
	}
}

func getenv(k string) string { return os.Getenv(k) }
