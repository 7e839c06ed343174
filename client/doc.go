// Package client is kvorum's smart Go client: the library a service uses to
// talk to a kvorum cluster.
//
// It exists so that callers never have to know which node leads. A Client is
// given any nodes' addresses; it keeps a bounded connection pool per node,
// follows "-MOVED 0 host:port" redirects to the leader at once and remembers
// it, backs off with jitter on "-CLUSTERDOWN", refused or broken connections
// and timeouts, and retries until the call's context ends. It never silently
// resends a write whose fate is unknown (the connection broke after the
// request left) unless the command is safe to repeat; such a call fails
// with an error matching ErrUnknownOutcome so the caller decides.
//
// # Which commands are resent after an unknown outcome
//
// A command is resent when sending it twice leaves the same data as sending
// it once and the second reply is still a true answer. Redirects
// (-MOVED, -CLUSTERDOWN) mean "not applied" and are followed for every
// command. The table is retrySafe's, in command.go.
//
//   - Resent: reads (GET, MGET, EXISTS, TYPE, TTL, STRLEN, KEYS, SCAN,
//     LLEN, LRANGE, LINDEX, LPOS, HGET, HMGET, HGETALL, HLEN, SMEMBERS,
//     SCARD, ZSCORE, ZRANGE, ZRANGEBYSCORE, ..., PING, ECHO, INFO, CLUSTER,
//     COMMAND, DBSIZE, TIME) and absolute writes: SET without NX or GET,
//     SETEX, PSETEX, MSET, HMSET, LSET.
//   - Not resent: INCR and friends, APPEND, list pushes and pops, SADD,
//     ZADD, HSET, HINCRBY, SETNX, SET NX/GET, GETSET, GETDEL, EXPIRE,
//     PERSIST; and DEL, DELETE, FLUSH*, HDEL, SREM, ZREM, whose effect is
//     idempotent but whose repeated reply lies (DELETE answers 0 for the key
//     the first send removed); MULTI/EXEC, WATCH, blocking pops, PUBLISH,
//     HELLO, CLIENT, and any command not listed.
//
// A resent absolute write is at-least-once: if another client wrote the
// same key between the lost first send and the resend, the resend writes
// the older value again, and a reader in between may have seen it twice.
// Exactly-once write sessions (a later issue) will close that gap.
//
// Commands that hold state on one connection (MULTI/EXEC, WATCH,
// SUBSCRIBE) are not supported by Do and Pipeline, which may use any
// pooled connection for each call.
//
// Values travel as resp.Values (the one codec kvorum's server also uses);
// Do, the typed helpers and ToGo convert from and to plain Go values,
// including the nested arrays and dicts kvorum stores.
//
// client must not import fsm or cluster: it speaks only the wire protocol
// (package resp), so it works against any node, and against the fakes in
// clienttest.
package client
