package client

import (
	"strings"
	"time"

	"github.com/kvorum/kvorum/resp"
)

// command is one request on its way through the retry loop. It is owned by
// the goroutine of the call that made it.
type command struct {
	name  string        // upper case, for errors and the retry table
	enc   []byte        // the encoded request as the caller gave it; the exchange stamps a session write's
	argc  int           // the number of elements of enc (name included)
	safe  bool          // retrySafe: may be resent after an unknown outcome
	write bool          // sessionWrite: stamped with the session (KVORUM.SEQ or a frame) when sessions are on
	block time.Duration // blocking commands: the server-side timeout; 0 waits forever; -1 not blocking

	// The session write's binding (see session.go): sid 0 is unbound;
	// floor is the one it was bound with, sent with every send of it.
	sid, seq, floor int64
	maybeAt         string // the node a send under sid went to that may have applied it; "" if none

	reply resp.Value // the final reply, once settled
	err   error      // the command's error, once settled
}

// newCommand encodes args (the command name first) into a command. It
// returns an error if an argument has no RESP form.
func newCommand(args []any) (*command, error) {
	cmd := &command{}
	_, _, err := cmd.init(args, nil, nil)
	return cmd, err
}

// init fills cmd from args and appends the encoded request to buf,
// returning the extended buffer; cmd.enc is the appended part. scratch is
// reused for the converted arguments and returned for the next call.
func (cmd *command) init(args []any, buf []byte, scratch []resp.Value) ([]byte, []resp.Value, error) {
	vals, err := toValues(args, scratch)
	if err != nil {
		return buf, scratch, err
	}
	if len(vals) == 0 {
		return buf, vals, errEmptyCommand
	}
	if name, ok := args[0].(string); ok {
		cmd.name = strings.ToUpper(name) // no copy if already upper case
	} else {
		cmd.name = strings.ToUpper(vals[0].Text())
	}
	cmd.safe = retrySafe(cmd.name, vals)
	cmd.write = sessionWrite(cmd.name)
	cmd.block = blockTimeout(cmd.name, vals)
	cmd.argc = len(vals)
	start := len(buf)
	buf = resp.AppendValue(buf, resp.Array(vals...))
	cmd.enc = buf[start:len(buf):len(buf)]
	clear(vals) // drop references to the arguments
	return buf, vals[:0], nil
}

// finish settles cmd with a reply; an error reply becomes cmd.err.
func (cmd *command) finish(v resp.Value) {
	cmd.reply = v
	if v.IsError() {
		cmd.err = resp.AsError(v)
	}
}

// fail settles cmd with an error and no reply.
func (cmd *command) fail(err error) {
	cmd.reply, cmd.err = resp.Value{}, err
}

// retrySafe reports whether a command sent plain (not wrapped by a
// session: sessions off, or not a sessionWrite) may be sent again after
// its first send's fate became unknown (the connection broke or the read
// timed out after the request left). It is safe when sending it twice
// leaves the same data as sending it once AND the reply of the second send
// is still a true answer to the caller; redirects (-MOVED, -CLUSTERDOWN) mean "not applied"
// and are followed for every command regardless of this table.
//
//	safe: reads            GET MGET EXISTS TYPE TTL PTTL KEYS SCAN STRLEN DBSIZE TIME
//	                       LLEN LRANGE LINDEX LPOS  HGET HMGET HEXISTS HLEN HGETALL HKEYS HVALS
//	                       SMEMBERS SISMEMBER SCARD  ZSCORE ZCARD ZRANGE ZRANGEBYSCORE ZREVRANGEBYSCORE
//	                       PING ECHO INFO CLUSTER COMMAND READONLY SELECT, and every
//	                       other command the server's COMMAND calls readonly
//	                       (TestCommandTables_MatchTheServer keeps the lists whole)
//	safe: absolute writes  SET (without NX or GET), SETEX, PSETEX, MSET, HMSET, LSET:
//	                       the value written does not depend on the old one and the
//	                       reply (OK, or the tutorial's :1 / pair count) is the same
//	                       on a repeat. (SET ... EX n on a repeat restarts the TTL a
//	                       little later: the key lives at most one retry longer.)
//	NOT safe               INCR* DECR* APPEND, LPUSH RPUSH LPOP RPOP LMOVE ..., SADD ZADD HSET
//	                       HINCRBY, SETNX and SET NX/GET, GETSET GETDEL, EXPIRE (relative),
//	                       DEL DELETE FLUSH FLUSHALL FLUSHDB PERSIST HDEL SREM ZREM:
//	                       either the effect accumulates, or the effect is idempotent
//	                       but the repeat's reply lies (DEL answers 0 for the key the
//	                       first send removed; FLUSH counts 0; HSET counts 0 new fields);
//	                       MULTI EXEC WATCH, blocking pops, PUBLISH, HELLO, CLIENT and
//	                       every command not listed here.
func retrySafe(name string, args []resp.Value) bool {
	switch name {
	case "GET", "MGET", "EXISTS", "TYPE", "TTL", "PTTL", "KEYS", "SCAN", "STRLEN", "DBSIZE", "TIME",
		"LLEN", "LRANGE", "LINDEX", "LPOS",
		"HGET", "HMGET", "HEXISTS", "HLEN", "HGETALL", "HKEYS", "HVALS",
		"SMEMBERS", "SISMEMBER", "SCARD",
		"ZSCORE", "ZCARD", "ZRANGE", "ZRANGEBYSCORE", "ZREVRANGEBYSCORE",
		"PING", "ECHO", "INFO", "CLUSTER", "COMMAND", "READONLY", "SELECT",
		"GETRANGE", "SUBSTR", "LCS", "GETBIT", "BITCOUNT", "BITPOS", "BITFIELD_RO",
		"EXPIRETIME", "PEXPIRETIME", "RANDOMKEY", "TOUCH", "OBJECT", "MEMORY", "SORT_RO", "DUMP", "XLEN", "XRANGE", "XREVRANGE",
		"SINTER", "SUNION", "SDIFF", "SINTERCARD", "SMISMEMBER", "SRANDMEMBER", "SSCAN",
		"HSTRLEN", "HRANDFIELD", "HSCAN",
		"ZCOUNT", "ZLEXCOUNT", "ZRANK", "ZREVRANK", "ZREVRANGE", "ZRANGEBYLEX", "ZREVRANGEBYLEX",
		"ZMSCORE", "ZRANDMEMBER", "ZSCAN", "ZUNION", "ZINTER", "ZDIFF", "ZINTERCARD":
		return true
	case "SETEX", "PSETEX", "MSET", "HMSET", "LSET":
		return true
	case "SET":
		for _, a := range args[min(3, len(args)):] {
			if a.IsScalar() {
				switch strings.ToUpper(a.Text()) {
				case "NX", "GET":
					return false
				}
			}
		}
		return true
	}
	return false
}

// sessionWrite reports whether a command is a write that a session wraps
// in KVORUM.SEQ, so that a resend after an unknown outcome is applied at
// most once: every write of kvorum's command table, blocking pops included.
// Reads, connection and server commands (HELLO, CLIENT, PING, INFO, ROLE,
// ...), MULTI/EXEC/WATCH, PUBLISH, KVORUM.* and any command not listed go
// plain, under the retrySafe table alone.
func sessionWrite(name string) bool {
	switch name {
	case "SET", "SETNX", "SETEX", "PSETEX", "GETSET", "GETDEL", "MSET", "APPEND",
		"INCR", "DECR", "INCRBY", "DECRBY", "INCRBYFLOAT",
		"DEL", "DELETE", "UNLINK", "FLUSH", "FLUSHALL", "FLUSHDB",
		"EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT", "PERSIST", "RENAME",
		"LPUSH", "RPUSH", "LPUSHX", "RPUSHX", "LPOP", "RPOP", "LSET", "LREM", "LTRIM",
		"LMOVE", "RPOPLPUSH", "BLPOP", "BRPOP", "BLMOVE", "BRPOPLPUSH",
		"HSET", "HMSET", "HSETNX", "HDEL", "HINCRBY", "HINCRBYFLOAT",
		"SADD", "SREM", "SPOP",
		"ZADD", "ZREM", "ZREMRANGEBYSCORE", "ZPOPMIN", "ZPOPMAX", "BZPOPMIN", "BZPOPMAX",
		"GETEX", "SETRANGE", "MSETNX", "SETBIT", "BITOP", "BITFIELD", "COPY", "RENAMENX", "MOVE", "SORT", "RESTORE", "XADD", "XDEL", "XTRIM",
		"LINSERT", "LMPOP", "BLMPOP",
		"SMOVE", "SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE",
		"ZINCRBY", "ZRANGESTORE", "ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE", "ZREMRANGEBYRANK", "ZREMRANGEBYLEX",
		"ZMPOP", "BZMPOP":
		return true
	}
	return false
}

// blockTimeout returns the server-side timeout of a blocking command (the
// argument timeoutArg names, parsed by resp.ParseTimeout; 0 waits
// forever, as does a timeout over a year), or -1 for other commands and
// for a timeout the server will refuse.
func blockTimeout(name string, args []resp.Value) time.Duration {
	at := timeoutArg(name, len(args))
	if at <= 0 {
		return -1
	}
	d, err := resp.ParseTimeout(args[at])
	if err != nil {
		return -1 // the server will refuse it; an ordinary read timeout applies
	}
	if d > 365*24*time.Hour {
		return 0
	}
	return d
}

// timeoutArg is where a blocking command of n arguments (its name
// included) has its timeout: the last argument (BLPOP k1 k2 5), or the
// first (BLMPOP 5 2 k1 k2 LEFT); 0 for other commands and requests too
// short to have one.
func timeoutArg(name string, n int) int {
	switch name {
	case "BLPOP", "BRPOP", "BLMOVE", "BRPOPLPUSH", "BZPOPMIN", "BZPOPMAX":
		if n >= 2 {
			return n - 1
		}
	case "BLMPOP", "BZMPOP":
		if n >= 2 {
			return 1
		}
	}
	return 0
}
