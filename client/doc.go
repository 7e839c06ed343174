// Package client is kvorum's smart Go client: the library a service uses to
// talk to a kvorum cluster.
//
// It exists so that callers never have to know which node leads. A Client is
// given any nodes' addresses; it keeps a bounded connection pool per node,
// follows "-MOVED 0 host:port" redirects to the leader at once and remembers
// it, searches for the leader when the leader's address dies, backs off
// with jitter on "-CLUSTERDOWN", refused or broken connections and
// timeouts, and retries until the call's context ends. Writes travel in a
// write session, so a write whose reply was lost is resent safely: the
// cluster applies it at most once.
//
// # The guarantee
//
// With sessions on (the default), every write of kvorum's command table
// that Do, a Pipeline or a helper returns success for was applied exactly
// once, however many times the client had to resend it, to whichever node,
// across leader changes. A write that fails with a *resp.ReplyError was
// applied once, with that error as its outcome (WRONGTYPE, ...), or not at
// all if the error says so; with a *RetryError, it was not applied (or it
// is a write that is safe to repeat, such as SET). A write that fails with
// an error matching ErrUnknownOutcome was applied once or not at all, and
// nothing the client does later will apply it: that happens only when the
// call's context ends, the client is closed or MaxRetries runs out while
// a send of the write may have been applied and no reply has said so, or
// when its session expired (SessionTTL of idle log time) after such a
// send. A caller that keeps the context open until the cluster has a
// leader again (and leaves MaxRetries at 0) never sees ErrUnknownOutcome
// for a write in a live session.
// Replies are true answers: a resent INCR answers the value its one
// application produced.
//
// # Write sessions
//
// On its first write the client opens a session (KVORUM.SESSION OPEN,
// answered with an id the whole cluster shares) and sends each write as
// KVORUM.SEQ id seq floor command args..., or the writes of a pipeline as
// one frame, KVORUM.SEQS id first floor count followed by the writes as
// given (to a node that names KVORUM.SEQS in COMMAND INFO, which the
// client asks at dial): seq numbers the client's
// writes from 1, each write of a pipeline its own; floor is the lowest seq
// whose reply the client has not yet received (the next seq if none is in
// flight), so the cluster may forget the replies below it. A write keeps
// its seq for every resend, and the cluster answers a repeated (id, seq)
// with the first application's reply. A blocking pop resent after its
// reply was cut off gets the item it popped; one that found nothing waits
// again. If the session has expired the cluster answers -NOSESSION: a
// write that had not been sent under it before is resent under a new one;
// one that may have been applied fails as an unknown outcome (unless it is
// safe to repeat). Close ends the session. Reads are sent plain. A server
// that refuses KVORUM.SESSION OPEN with an error reply (one without
// sessions) makes the client send plain writes from then on, as does
// Options.DisableSessions.
//
// # Finding the leader
//
// When the leader's address fails as a dead node does (the connection is
// refused, reset, or closed as soon as it is accepted, as Docker's
// userland proxy does for a dead container), the client does not go back
// to it: it asks every other node it knows, in parallel, ROLE and INFO
// raft (CLUSTER SHARDS if ROLE is refused), takes the leader named in the
// highest Raft term (a claim to lead beating a report, then the majority),
// and resends there at once. If no node names one, it backs off with
// jitter and tries the other known nodes in turn, skipping the failed one
// for a while. Concurrent calls share one search. Stats counts retries,
// redirects, leader changes, searches and session resends.
//
// # Which commands are resent after an unknown outcome
//
// A command whose request was sent but whose reply never came (the
// connection broke, the read timed out) or was -UNCERTAIN (cut off by a
// leadership change) may have been applied. Redirects (-MOVED,
// -CLUSTERDOWN) and -TRYAGAIN mean "not applied" and are followed for
// every command.
//
//   - With sessions, every write of kvorum's command table is resent under
//     its session, safely: SET, MSET, INCR and friends, APPEND, DEL,
//     DELETE, FLUSH*, EXPIRE, PERSIST, RENAME, list pushes, pops and moves
//     (blocking ones too), HSET, HDEL, HINCRBY, SADD, SREM, SPOP, ZADD,
//     ZREM, ZPOP*, ... (sessionWrite's table, in command.go).
//   - Reads are resent: GET, MGET, EXISTS, TYPE, TTL, STRLEN, KEYS, SCAN,
//     LLEN, LRANGE, LINDEX, LPOS, HGET, HMGET, HGETALL, HLEN, SMEMBERS,
//     SCARD, ZSCORE, ZRANGE, ZRANGEBYSCORE, ..., PING, ECHO, INFO, CLUSTER,
//     COMMAND, DBSIZE, TIME.
//   - Without sessions, absolute writes are resent too (SET without NX or
//     GET, SETEX, PSETEX, MSET, HMSET, LSET), at-least-once: if another
//     client wrote the same key between the lost first send and the
//     resend, the resend writes the older value again. Every other write
//     fails with ErrUnknownOutcome, including DEL, DELETE, FLUSH*, HDEL,
//     SREM and ZREM, whose effect is idempotent but whose repeated reply
//     lies (DELETE answers 0 for the key the first send removed).
//   - Never resent, sessions or not: MULTI/EXEC, WATCH, PUBLISH, HELLO,
//     CLIENT, and any command in neither table. The plain-mode table is
//     retrySafe's, in command.go.
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
