package fsm_test

import (
	"bytes"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/hashicorp/raft"
	"github.com/kvorum/kvorum/fsm"
	"github.com/kvorum/kvorum/resp"
)

// randomRequest returns one request of a reproducible mix of every command
// the FSM serves (and some it refuses), on a few keys, with values of every
// kind.
func randomRequest(rng *rand.Rand) []any {
	keys := []any{"a", "b", "c", "d", "e", "f", 1, 2}
	kinds := valueKinds()
	key := func() any { return keys[rng.IntN(len(keys))] }
	value := func() any {
		if rng.IntN(2) == 0 {
			return kinds[rng.IntN(len(kinds))]
		}
		return rng.IntN(100) - 50
	}
	ms := func() any { return rng.IntN(3000) - 100 }
	member := func() any { return []any{"x", "y", "z", "w", 1}[rng.IntN(5)] }
	score := func() any { return []any{"1", "2.5", "-inf", "+inf", "(1", "nan", -3, 0}[rng.IntN(8)] }
	one := func(names ...string) string { return names[rng.IntN(len(names))] }
	switch rng.IntN(36) {
	case 0, 1:
		args := req("SET", key(), value())
		for _, opt := range [][]any{req("EX", rng.IntN(4)), req("PX", ms()), req("NX"), req("XX"), req("GET"), req("KEEPTTL")} {
			if rng.IntN(4) == 0 {
				args = append(args, opt...)
			}
		}
		return args
	case 2:
		return req("MSET", key(), value(), key(), value())
	case 3:
		return req("GET", key())
	case 4:
		return req("MGET", key(), key(), key())
	case 5:
		return req([]string{"DEL", "UNLINK", "DELETE"}[rng.IntN(3)], key())
	case 6:
		return req("EXISTS", key(), key())
	case 7:
		return req([]string{"INCR", "DECR"}[rng.IntN(2)], key())
	case 8:
		return req([]string{"INCRBY", "DECRBY"}[rng.IntN(2)], key(), []any{1, -7, maxInt, minInt, "x"}[rng.IntN(5)])
	case 9:
		return req("APPEND", key(), value())
	case 10:
		return req("RENAME", key(), key())
	case 11:
		return req([]string{"EXPIRE", "PEXPIRE"}[rng.IntN(2)], key(), ms())
	case 12:
		return req("PEXPIREAT", key(), t0+int64(rng.IntN(600_000)))
	case 13:
		return req("PERSIST", key())
	case 14:
		return req([]string{"TTL", "PTTL", "TYPE", "STRLEN"}[rng.IntN(4)], key())
	case 15:
		return req("KEYS", []string{"*", "[a-c]", "?", "1*", "[^a]"}[rng.IntN(5)])
	case 16:
		return req("DBSIZE")
	case 17:
		return req([]string{"GETSET", "SETNX"}[rng.IntN(2)], key(), value())
	case 18:
		return req("GETDEL", key())
	case 19:
		if rng.IntN(20) == 0 {
			return req([]string{"FLUSH", "FLUSHALL", "FLUSHDB"}[rng.IntN(3)])
		}
		return req("SET", key(), value(), "PX", 1)
	case 20:
		return req("NOSUCHCOMMAND", key())
	case 21:
		return req("GET", key(), key()) // wrong arity
	case 22:
		return req("SET", arr("bad key"), value())
	case 23:
		return req(one("LPUSH", "RPUSH", "LPUSHX"), key(), value(), value())
	case 24:
		if rng.IntN(2) == 0 {
			return req(one("LPOP", "RPOP"), key(), rng.IntN(3))
		}
		return req(one("LPOP", "RPOP", "LLEN"), key())
	case 25:
		switch rng.IntN(4) {
		case 0:
			return req(one("BLPOP", "BRPOP"), key(), key(), 0)
		case 1:
			return req("LMOVE", key(), key(), one("LEFT", "RIGHT"), one("LEFT", "RIGHT"))
		case 2:
			return req("LREM", key(), rng.IntN(5)-2, value())
		}
		return req("LRANGE", key(), rng.IntN(5)-2, rng.IntN(5)-2)
	case 26:
		return req(one("HSET", "HSETNX", "HMSET"), key(), member(), value())
	case 27:
		switch rng.IntN(5) {
		case 0:
			return req("HDEL", key(), member(), member())
		case 1:
			return req(one("HGET", "HEXISTS"), key(), member())
		case 2:
			return req(one("HGETALL", "HKEYS", "HVALS", "HLEN"), key())
		case 3:
			return req("HINCRBY", key(), member(), rng.IntN(10)-5)
		}
		return req("HMGET", key(), member(), member())
	case 28:
		return req("SADD", key(), member(), member())
	case 29:
		switch rng.IntN(4) {
		case 0:
			return req("SREM", key(), member())
		case 1:
			return req("SPOP", key(), rng.IntN(3))
		case 2:
			return req("SISMEMBER", key(), member())
		}
		return req(one("SMEMBERS", "SCARD", "SPOP"), key())
	case 30:
		args := req("ZADD", key())
		for _, opt := range []string{"NX", "XX", "GT", "LT", "CH", "INCR"} {
			if rng.IntN(6) == 0 {
				args = append(args, opt)
			}
		}
		return append(args, score(), member())
	case 31:
		switch rng.IntN(6) {
		case 0:
			return req("ZREM", key(), member())
		case 1:
			return req(one("ZPOPMIN", "ZPOPMAX"), key(), rng.IntN(3))
		case 2:
			return req(one("ZRANGEBYSCORE", "ZREMRANGEBYSCORE"), key(), score(), score())
		case 3:
			return req("ZREVRANGEBYSCORE", key(), score(), score(), "WITHSCORES", "LIMIT", rng.IntN(3), rng.IntN(3)-1)
		case 4:
			return req(one("BZPOPMIN", "BZPOPMAX"), key(), key(), 0)
		}
		return req("ZRANGE", key(), rng.IntN(5)-2, rng.IntN(5)-2, "WITHSCORES")
	case 32:
		incr := []any{"0.1", "1e20", "-2.5", "x"}[rng.IntN(4)]
		if rng.IntN(2) == 0 {
			return req("INCRBYFLOAT", key(), incr)
		}
		return req("HINCRBYFLOAT", key(), member(), incr)
	case 34:
		// Sessions: ids are log indexes, so some of these name real ones,
		// and short idle times make them expire within the history.
		if rng.IntN(3) == 0 {
			return req("KVORUM.SESSION", "OPEN", 100+rng.IntN(3000))
		}
		inner := [][]any{req("INCR", key()), req("LPOP", key()), req("BLPOP", key(), 0), req("RPUSH", key(), value())}[rng.IntN(4)]
		return append(req("KVORUM.SEQ", 1+rng.IntN(300), 1+rng.IntN(4), 1+rng.IntN(3)), inner...)
	}
	return req("INCRBY", key(), rng.IntN(10))
}

// history is a reproducible log: entries of random requests, each stamped
// with a clock that moves on by random steps (so deadlines pass) and the
// mode of a random connection.
func history(seed uint64, count int) [][]byte {
	out := make([][]byte, count)
	for i, r := range historyRequests(seed, count) {
		out[i] = entry(r.mode, r.now, r.args)
	}
	return out
}

// request is one request of a history, with its clock and mode.
type request struct {
	mode resp.Mode
	now  int64
	args []resp.Value
}

func historyRequests(seed uint64, count int) []request {
	rng := rand.New(rand.NewPCG(seed, seed+1))
	now := t0
	out := make([]request, count)
	for i := range out {
		if rng.IntN(3) == 0 {
			now += int64(rng.IntN(500))
		}
		out[i] = request{mode: resp.Mode(rng.IntN(3)), now: now, args: vals(randomRequest(rng))}
	}
	return out
}

// logsAt wraps entries as raft logs from index first on.
func logsAt(first uint64, entries [][]byte) []*raft.Log {
	out := make([]*raft.Log, len(entries))
	for i, data := range entries {
		out[i] = &raft.Log{Type: raft.LogCommand, Index: first + uint64(i), Data: data}
	}
	return out
}

// TestFSM_Determinism applies one history three ways: entry by entry; in
// batches of random sizes; and half of it, then a snapshot restored into a
// fresh FSM, then the rest. Every reply and the final states must agree,
// the states byte for byte.
func TestFSM_Determinism(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		t.Run("seed"+strconv.FormatUint(seed, 10), func(t *testing.T) {
			h := history(seed, 3000)
			logs := logsAt(1, h)

			one := fsm.New(fsm.Config{})
			var want []any
			for _, l := range logs {
				want = append(want, one.Apply(l))
			}

			batched := fsm.New(fsm.Config{})
			rng := rand.New(rand.NewPCG(seed, 0))
			var got []any
			for rest := logs; len(rest) > 0; {
				k := min(1+rng.IntN(64), len(rest))
				got = append(got, batched.ApplyBatch(rest[:k])...)
				rest = rest[k:]
			}
			sameReplies(t, "batched", want, got)

			half := len(logs) / 2
			first := fsm.New(fsm.Config{})
			first.ApplyBatch(logs[:half])
			restored := fsm.New(fsm.Config{})
			if err := restore(restored, snapshotOf(t, first)); err != nil {
				t.Fatalf("Restore: %v", err)
			}
			got = nil
			for _, l := range logs[half:] {
				got = append(got, restored.Apply(l))
			}
			sameReplies(t, "restored at the half", want[half:], got)

			final := dump(t, one)
			for name, f := range map[string]*fsm.FSM{"batched": batched, "restored at the half": restored} {
				if !bytes.Equal(dump(t, f), final) {
					t.Errorf("%s: final state differs from entry by entry", name)
				}
				if f.Applied() != one.Applied() {
					t.Errorf("%s: applied %d, entry by entry %d", name, f.Applied(), one.Applied())
				}
			}
			if one.Keys() == 0 {
				t.Error("the history left no keys: it tests too little")
			}
		})
	}
}

// TestFSM_DeterminismBatchItems applies one history as command entries
// and as one-item batch entries, where AppendBatchItem stores a session
// write compactly ([mode, id, seq, floor, command]): every reply and the
// final states must agree.
func TestFSM_DeterminismBatchItems(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		t.Run("seed"+strconv.FormatUint(seed, 10), func(t *testing.T) {
			reqs := historyRequests(seed, 3000)
			one, batched := fsm.New(fsm.Config{}), fsm.New(fsm.Config{})
			compact := 0
			for i, r := range reqs {
				l := &raft.Log{Type: raft.LogCommand, Index: uint64(i + 1), Data: entry(r.mode, r.now, r.args)}
				want := one.Apply(l).(resp.Value)
				item := fsm.AppendBatchItem(nil, r.mode, r.args)
				if r.args[0].Text() == fsm.SeqCommand && !bytes.Contains(item, []byte(fsm.SeqCommand)) {
					compact++ // :mode :id :seq :seq-floor then the command
				}
				l.Data = fsm.AppendBatchEntry(nil, r.now, 1, item)
				got, _ := batched.Apply(l).([]resp.Value)
				if len(got) != 1 || !resp.Equal(got[0], want) {
					t.Fatalf("request %d %v: batch item answered %v, command entry %v", i, r.args, got, want)
				}
			}
			if compact == 0 {
				t.Fatal("no session write was stored compactly: the test tests too little")
			}
			if !bytes.Equal(dump(t, batched), dump(t, one)) {
				t.Error("final state of the batch items differs from the command entries'")
			}
		})
	}
}

func sameReplies(t *testing.T, name string, want, got []any) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d replies, want %d", name, len(got), len(want))
	}
	for i := range want {
		w, g := want[i].(resp.Value), got[i].(resp.Value)
		if !resp.Equal(w, g) {
			t.Fatalf("%s: reply %d is %v, entry by entry %v", name, i, g, w)
		}
	}
}
