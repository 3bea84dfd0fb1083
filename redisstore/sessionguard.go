package redisstore

import (
	"context"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/seed-d44eba79/authorizer/web"
)

var (
	_ web.SessionLocker   = (*SessionStore)(nil)
	_ web.SessionReplacer = (*SessionStore)(nil)
)

func (s *SessionStore) lockKey(id string) string { return s.hashed("l:", id) }

// LockSession implements [web.SessionLocker]: SET NX PX of a random value
// on the session's lease key (its own key, hashed like the session's),
// for ttl (at least 1 ms, at most ten years). It returns
// [web.ErrSessionLocked] while another holder has it, or an error wrapping
// [ErrUnavailable] when Redis fails. The lease is not renewed: the
// middleware asks for one that outlives its longest refresh. unlock
// deletes the lease with a compare-and-delete script, so a lease that
// expired and was taken by another replica is left alone; it runs on its
// own context, bounded by the call timeout, and a failure only leaves the
// lease to expire.
func (s *SessionStore) LockSession(ctx context.Context, id string, ttl time.Duration) (func(), error) {
	key, value := s.lockKey(id), randomValue()
	ttl = max(min(ttl, maxSessionTTL), time.Millisecond)
	var got bool
	err := s.do(ctx, func(ctx context.Context) (err error) {
		got, err = s.client.SetNX(ctx, key, value, ttl).Result()
		return err
	})
	if err != nil {
		return nil, err
	}
	if !got {
		return nil, web.ErrSessionLocked
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			_ = s.do(context.Background(), func(ctx context.Context) error {
				return releaseScript.Run(ctx, s.client, []string{key}, value).Err()
			})
		})
	}, nil
}

// Replace implements [web.SessionReplacer]: in one script on the
// session's key, it replaces value and tags as Put does only while the
// key holds old, and reports [web.ErrSessionNotFound] (nothing stored, or
// a key of another type) or [web.ErrSessionChanged] otherwise. The tags'
// sets are raised in the same round trip (a pipeline; on a cluster they
// live on other slots); a set member whose session was not replaced is
// harmless, as DeleteTag deletes only a session that carries the tag. A
// ttl of zero or less deletes id, as Put does.
func (s *SessionStore) Replace(ctx context.Context, id string, old, value []byte, tags []string, ttl time.Duration) error {
	if ttl <= 0 {
		return s.Delete(ctx, id)
	}
	ttl = max(min(ttl, maxSessionTTL), time.Millisecond)
	key := s.sessionKey(id)
	args := []any{old, ttl.Milliseconds(), value}
	for _, t := range tags {
		args = append(args, tagField(t))
	}
	var res *redis.Cmd
	err := s.do(ctx, func(ctx context.Context) error {
		_, err := s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
			res = replaceScript.Eval(ctx, p, []string{key}, args...)
			for _, t := range tags {
				tagAddScript.Eval(ctx, p, []string{s.tagKey(t)}, key, ttl.Milliseconds())
			}
			return nil
		})
		return err
	})
	if err != nil {
		return err
	}
	switch n, _ := res.Int64(); n {
	case 1:
		return nil
	case 0:
		return web.ErrSessionNotFound
	}
	return web.ErrSessionChanged
}

// replaceScript replaces the session hash KEYS[1] with value ARGV[3] and
// tag fields ARGV[4…] for ARGV[2] ms when its value is ARGV[1]: 1; 0 when
// it holds no session, -1 when it holds another value.
var replaceScript = redis.NewScript(`
if redis.call('TYPE', KEYS[1]).ok ~= 'hash' then return 0 end
local v = redis.call('HGET', KEYS[1], 'v')
if not v then return 0 end
if v ~= ARGV[1] then return -1 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'v', ARGV[3])
for i = 4, #ARGV do redis.call('HSET', KEYS[1], ARGV[i], '1') end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`)
