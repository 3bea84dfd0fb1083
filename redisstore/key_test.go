package redisstore

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestKeySeparatesIdentities(t *testing.T) {
	base := Identity{TokenURL: "https://idp/token", ClientID: "c", ClientSecret: "s3cret",
		Scopes: []string{"b", "a"}, Audience: "api", Resources: []string{"r2", "r1"}}
	same := base
	same.Scopes = []string{"a", "b", "a"}
	same.Resources = []string{"r1", "r2"}
	if Key(base) != Key(same) {
		t.Errorf("order or duplicates changed the key")
	}
	change := []func(*Identity){
		func(i *Identity) { i.TokenURL = "https://other/token" },
		func(i *Identity) { i.ClientID = "d" },
		func(i *Identity) { i.ClientSecret = "other" },
		func(i *Identity) { i.Scopes = []string{"a"} },
		func(i *Identity) { i.Audience = "api2" },
		func(i *Identity) { i.Resources = nil },
	}
	for n, f := range change {
		id := base
		f(&id)
		if Key(id) == Key(base) {
			t.Errorf("change %d kept the same key", n)
		}
	}
	if strings.Contains(Key(base), "s3cret") {
		t.Error("the key holds the secret")
	}
}

func TestIdentityRedactsSecret(t *testing.T) {
	id := Identity{ClientID: "c", ClientSecret: "s3cret"}
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "id", id)
	for _, out := range []string{fmt.Sprint(id), fmt.Sprintf("%+v %#v %s %q", id, id, id, id),
		fmt.Sprint(&id), buf.String()} {
		if strings.Contains(out, "s3cret") || !strings.Contains(out, "c") {
			t.Errorf("printed %q", out)
		}
	}
}

func FuzzOpen(f *testing.F) {
	ring, _ := newKeyring(testKey, nil)
	good, _ := ring.seal("k", 1, token("a", time.Unix(1, 0)))
	f.Add(good, int64(1))
	f.Add([]byte{1, 2, 3}, int64(0))
	f.Fuzz(func(t *testing.T, v []byte, fence int64) {
		tok, err := ring.open("k", fence, v)
		if (tok == nil) == (err == nil) {
			t.Fatalf("open = %v, %v", tok, err)
		}
	})
}

func TestStorePrintsNoKey(t *testing.T) {
	older := bytes.Repeat([]byte{0xab}, 32)
	_, s := newMini(t, WithOlderKeys(older))
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "store", s)
	for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%+v %#v %v", s, s, []*Store{s}), buf.String(),
		fmt.Sprintf("%+v", s.cfg)} {
		if strings.Contains(out, "171 171") || strings.Contains(out, "abab") {
			t.Errorf("printed key material: %q", out)
		}
	}
}
