// Package redisstore shares one token between every replica of a service:
// a [base.TokenCache] and [base.CacheLocker] on Redis (single server,
// Sentinel or Cluster, through github.com/redis/go-redis/v9), so that a
// fleet of N replicas makes one token request per token lifetime instead
// of N.
//
// # Use
//
//	client := redis.NewUniversalClient(&redis.UniversalOptions{
//		Addrs:                 []string{"redis:6379"},
//		ContextTimeoutEnabled: true, // required: New refuses a client without it
//	})
//	store, err := redisstore.New(client, key) // key: 32 secret bytes, the same on every replica
//	...
//	t := base.NewTransport(a, base.WithCache(store, redisstore.Key(redisstore.Identity{
//		TokenURL: tokenURL, ClientID: id, ClientSecret: secret, Scopes: scopes,
//	})))
//
// The Transport keeps its token in memory and reads the store only when it
// needs a new one: no Redis call on the hot path, and a few per token
// lifetime per replica.
//
// # Lease and fence
//
// Before a token request the Transport calls [Store.Lock]: SET NX PX takes
// the key's lease, and a fencing counter gives the holder a fence. The
// holder re-reads the store (another replica may have stored a token
// meanwhile), requests a token only when there is none, stores it, and
// releases the lease with a compare-and-delete script. The holder renews
// the lease while its request runs; a holder that dies leaves a lease that
// expires within the lease TTL, and a waiting replica takes it over. The
// store is conditional on the fence (a Lua script): a holder whose lease
// expired mid-request cannot overwrite a newer holder's token. Waiters
// poll with backoff (10 ms to 200 ms), never past the lease's expiry.
//
// # Encryption
//
// Every value is sealed with AES-256-GCM; the additional data is the Redis
// key and the fence, so a value copied under another key or another fence
// does not open. The seal does not bind a value to time: someone who can
// write to Redis could put back an older value of the same key with its
// fence. Each Store remembers the newest fence it has opened or written
// per key (until that token's key expires; up to 10,000 keys) and treats
// an older one as absent, so the next lease's holder requests a new
// token. A process that starts after such a replay has no memory and
// accepts it. When Redis loses its data (FLUSHALL, a failover without
// it), fences start again from 1: a replica that remembers a higher one
// ignores the shared token until it has stored one itself (one extra
// token request per replica). [WithOlderKeys] keeps older keys for rotation. Redis keys
// are hashes of the cache key: neither a token, a secret nor a client id
// reaches Redis, its MONITOR stream or its dump file in plain text.
//
// # When Redis fails
//
// Redis is an optimisation, never a reason for a request to fail. Every
// call has its own short deadline ([WithCallTimeout]); after consecutive
// failures a circuit breaker stops calls for a cooldown ([WithBreaker]).
// While Redis is paused, down or unreachable, Lock returns at once without
// a lease and each replica requests its own token; when Redis answers
// again, they share again. Every key has a TTL: a token's expires a
// margin after the token does.
//
// # DPoP proofs shared by a fleet
//
// [NewDPoPReplayStore] is a [verify.DPoPReplayStore]: given to each
// replica's Verifier ([verify.WithDPoPReplayStore]), it records every
// accepted DPoP proof with one SET NX PX, so that a proof accepted by one
// replica is refused by the others. It is a security check, not an
// optimisation: when Redis fails, proofs are refused (503, fail closed).
package redisstore
