//go:build linux

package redisstore

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// The secrets a stored token carries; none may appear in Redis.
var secrets = []string{"access-7f3a9c", "refresh-51be02", "idtoken-c0ffee"}

func secretToken() *oauth2.Token {
	tok := &oauth2.Token{AccessToken: secrets[0], RefreshToken: secrets[1], TokenType: "Bearer",
		Expiry: time.Now().Add(time.Hour)}
	return tok.WithExtra(map[string]any{"id_token": secrets[2]})
}

// monitor records the server's MONITOR stream until stop is called.
func monitor(t *testing.T, addr string) (stop func() string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(c, "MONITOR\r\n")
	r := bufio.NewReader(c)
	if line, _ := r.ReadString('\n'); line != "+OK\r\n" {
		t.Fatalf("MONITOR answered %q", line)
	}
	var mu sync.Mutex
	var buf bytes.Buffer
	done := make(chan struct{})
	go func() { // ends when the connection closes
		defer close(done)
		for {
			line, err := r.ReadString('\n')
			mu.Lock()
			buf.WriteString(line)
			mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	return func() string {
		time.Sleep(100 * time.Millisecond) // MONITOR lines trail the replies
		c.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		return buf.String()
	}
}

func TestNoPlaintextInRedis(t *testing.T) {
	addr := peerEnv(t, "AUTHORIZER_REDIS_ADDR")
	s := newStoreOn(t, addr, WithPrefix("authorizer-test-claims:"))
	ctx := context.Background()
	key := Key(Identity{TokenURL: "https://idp.example/token", ClientID: "claims-client", ClientSecret: "claims-secret"})
	stop := monitor(t, addr)
	unlock, err := s.Lock(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Store(ctx, key, secretToken()); err != nil {
		t.Fatal(err)
	}
	_ = unlock()
	if tok, err := s.Load(ctx, key); err != nil || tok == nil || tok.AccessToken != secrets[0] {
		t.Fatalf("Load = %v, %v", tok, err)
	}
	mon := stop()
	if !strings.Contains(mon, "evalsha") && !strings.Contains(mon, "eval") {
		t.Fatalf("MONITOR saw no script call: %q", mon)
	}
	check := func(where, text string) {
		for _, sec := range append(secrets, "claims-client", "claims-secret") {
			if strings.Contains(text, sec) {
				t.Errorf("%s holds %q in plain text", where, sec)
			}
		}
	}
	check("MONITOR output", mon)

	k := s.keys(key)
	vals, err := s.client.HGetAll(ctx, k.tok).Result()
	if err != nil || vals["v"] == "" {
		t.Fatalf("HGETALL = %v, %v", vals, err)
	}
	check("the token hash", fmt.Sprint(vals))
	for _, rk := range []string{k.lock, k.fence} {
		v, _ := s.client.Get(ctx, rk).Result()
		check(rk, v)
	}

	// Uncompressed, so that a plain string could not hide in LZF; a plain
	// canary proves the check finds what is there.
	if err := s.client.ConfigSet(ctx, "rdbcompression", "no").Err(); err != nil {
		t.Fatal(err)
	}
	defer s.client.ConfigSet(ctx, "rdbcompression", "yes")
	canary := "authorizer-test-claims:canary"
	s.client.Set(ctx, canary, "plain-canary-"+strings.Repeat("x", 40), time.Minute)
	defer s.client.Del(ctx, canary)
	if err := s.client.Save(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	dir, err := s.client.ConfigGet(ctx, "dir").Result()
	if err != nil {
		t.Fatal(err)
	}
	dump, err := os.ReadFile(filepath.Join(dir["dir"], "dump.rdb"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(dump, []byte(k.tok)) || !bytes.Contains(dump, []byte("plain-canary-")) {
		t.Fatal("dump.rdb lacks the token's key or the canary: not this server's dump")
	}
	check("dump.rdb", string(dump))
	_ = s.Delete(ctx, key)
}
