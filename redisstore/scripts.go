package redisstore

import "github.com/redis/go-redis/v9"

// The Lua scripts run atomically on the Redis that owns the keys' hash
// slot; every key of one token shares a hash tag, so they also run on
// Redis Cluster.

// acquireScript takes the lease (KEYS[1] = lock) when it is free, with
// value ARGV[1] for ARGV[2] ms, and returns {1, fence}: the fencing
// counter (KEYS[2]) incremented, and kept above the fence of the stored
// token (KEYS[3]) even when the counter was lost. A counter or stored
// fence that is not an integer in [0, 2^53) (written by someone else) is
// read as 0 and never makes the script fail: a script error after SET NX
// would leave a lease nobody holds. Otherwise it returns
// {0, the lease's remaining ms}.
var acquireScript = redis.NewScript(`
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  local function fence(v)
    local n = tonumber(v) -- nil for an error reply
    if type(n) ~= 'number' or n ~= n or n < 0 or n >= 2^53 then return 0 end
    return math.floor(n)
  end
  local f = fence(redis.pcall('INCR', KEYS[2]))
  local s = fence(redis.pcall('HGET', KEYS[3], 'f'))
  if s >= f or f == 0 then
    f = s + 1
    redis.call('SET', KEYS[2], string.format('%d', f))
  end
  redis.call('PEXPIRE', KEYS[2], ARGV[3])
  return {1, f}
end
return {0, redis.call('PTTL', KEYS[1])}
`)

// releaseScript deletes the lease (KEYS[1]) only when it still holds the
// caller's value (ARGV[1]): a lease that expired and was taken by another
// replica is not released by the late holder.
var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`)

// storeScript writes a sealed token (KEYS[1] = hash with v, f, e) with
// fence ARGV[1], value ARGV[2], expiry ARGV[3] (unix ms, 0 when none) and
// TTL ARGV[4] ms, unless the stored token carries a higher fence: a holder
// whose lease expired mid-request cannot overwrite the newer holder's
// token. Fence 0 (a write made without a lease) only fills an empty key.
// A key of another type, or a stored fence that is not an integer in
// [0, 2^53), is not a Store's: a lease holder replaces it.
// It returns 1 when written, 0 when refused.
var storeScript = redis.NewScript(`
local f = tonumber(ARGV[1])
if redis.call('TYPE', KEYS[1]).ok ~= 'hash' then
  redis.call('DEL', KEYS[1])
end
local s = redis.call('HGET', KEYS[1], 'f')
if s then
  s = tonumber(s)
  if type(s) ~= 'number' or s ~= s or s < 0 or s >= 2^53 then s = 0 end
  if f == 0 or s > f then
    return 0
  end
end
redis.call('HSET', KEYS[1], 'v', ARGV[2], 'f', ARGV[1], 'e', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1
`)

// renewScript extends the lease (KEYS[1]) to ARGV[2] ms while it still
// holds the caller's value (ARGV[1]).
var renewScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
`)
