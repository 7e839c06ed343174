package fsm

import (
	"slices"

	"github.com/kvorum/kvorum/resp"
)

// mpopCommands are the pops that take from the first non-empty of several
// keys: LMPOP, BLMPOP, ZMPOP, BZMPOP (Redis 7.0). Each answers [key,
// [items...]] (a sorted set's items are [member, score] pairs), or a null
// array when every key is missing or empty. The blocking forms run as one
// attempt each, like BLPOP (blocking.go), with their timeout first:
// BLMPOP timeout numkeys key... LEFT|RIGHT [COUNT n].
//
// FirstKey/LastKey/Step name the first key only, so that ACL key patterns
// apply to them (Redis's COMMAND answers 0 0 0 for these commands); KeysOf
// finds them all.
func mpopCommands() []Command {
	return []Command{
		{Name: "LMPOP", Arity: -4, Flags: Write, FirstKey: 2, LastKey: 2, Step: 1, KeysOf: NumKeys(1), Run: cmdLMPop},
		{Name: "BLMPOP", Arity: -5, Flags: Write | Blocking, FirstKey: 3, LastKey: 3, Step: 1, KeysOf: NumKeys(2), Run: cmdLMPop,
			Undo: undoBLMPop, Pops: (*Entry).isList, Check: checkMPop, TimeoutReply: resp.NullArray(), TimeoutAt: 1},
		{Name: "ZMPOP", Arity: -4, Flags: Write, FirstKey: 2, LastKey: 2, Step: 1, KeysOf: NumKeys(1), Run: cmdZMPop},
		{Name: "BZMPOP", Arity: -5, Flags: Write | Blocking, FirstKey: 3, LastKey: 3, Step: 1, KeysOf: NumKeys(2), Run: cmdZMPop,
			Undo: undoBZMPop, Pops: (*Entry).isZSet, Check: checkMPop, TimeoutReply: resp.NullArray(), TimeoutAt: 1},
	}
}

// mpopRequest is a parsed *MPOP request.
type mpopRequest struct {
	keys  []resp.Value
	end   string // LEFT or RIGHT for the lists, MIN or MAX for the sorted sets
	count int64
	block bool // BLMPOP, BZMPOP: the timeout is args[1]
}

var (
	errNumKeys = resp.Err("ERR numkeys should be greater than 0")
	errCount   = resp.Err("ERR count should be greater than 0")
)

// parseMPop parses "[timeout] numkeys key... end [COUNT n]" in Redis's
// order: numkeys, the end, the options; then, for a blocking form, the
// timeout.
func parseMPop(args []resp.Value) (mpopRequest, resp.Value, bool) {
	name := argUpper(args[0])
	r := mpopRequest{count: -1, block: name[0] == 'B'}
	at := 1
	if r.block {
		at = 2
	}
	ends := [2]string{"LEFT", "RIGHT"}
	if name == "ZMPOP" || name == "BZMPOP" {
		ends = [2]string{"MIN", "MAX"}
	}
	n, ok := argInt(args[at])
	if !ok || n < 1 {
		return r, errNumKeys, false
	}
	if n >= int64(len(args)-at-1) { // no room for the end after the keys
		return r, errSyntax, false
	}
	r.keys = args[at+1 : at+1+int(n)]
	where := at + 1 + int(n)
	if e := argUpper(args[where]); e == ends[0] || e == ends[1] {
		r.end = e
	} else {
		return r, errSyntax, false
	}
	for j := where + 1; j < len(args); j++ {
		if r.count != -1 || argUpper(args[j]) != "COUNT" || j+1 >= len(args) {
			return r, errSyntax, false
		}
		j++
		if r.count, ok = argInt(args[j]); !ok || r.count < 1 {
			return r, errCount, false
		}
	}
	if r.count == -1 {
		r.count = 1
	}
	if r.block {
		if _, errv, ok := BlockTimeout(args[:2]); !ok {
			return r, errv, false
		}
	}
	return r, resp.Value{}, true
}

// checkMPop is BLMPOP's and BZMPOP's Command.Check: what Redis refuses
// before it blocks.
func checkMPop(args []resp.Value) (resp.Value, bool) {
	_, errv, ok := parseMPop(args)
	return errv, ok
}

// cmdLMPop serves LMPOP numkeys key... LEFT|RIGHT [COUNT n] and one
// attempt of BLMPOP: up to n elements from the first non-empty list, key
// by key as Redis goes (a key of another kind before it answers
// WRONGTYPE).
func cmdLMPop(c *Ctx, args []resp.Value) resp.Value {
	r, errv, ok := parseMPop(args)
	if !ok {
		return errv
	}
	for _, k := range r.keys {
		key, e, errv, ok := listOf(c, k)
		if !ok {
			return errv
		}
		if isEmpty(e) {
			continue
		}
		e = mutableList(c, key, false)
		out := make([]resp.Value, min(r.count, int64(e.list.len())))
		for i := range out {
			if r.end == "LEFT" {
				out[i] = c.elem(e.list.popFront())
			} else {
				out[i] = c.elem(e.list.popBack())
			}
		}
		dropIfEmpty(c, key, e)
		return resp.Array(resp.BulkString(key), resp.Array(out...))
	}
	return resp.NullArray()
}

// cmdZMPop serves ZMPOP numkeys key... MIN|MAX [COUNT n] and one attempt
// of BZMPOP: up to n members, with their scores, from the first existing
// sorted set.
func cmdZMPop(c *Ctx, args []resp.Value) resp.Value {
	r, errv, ok := parseMPop(args)
	if !ok {
		return errv
	}
	for _, k := range r.keys {
		key, z, errv, ok := zsetOf(c, k)
		if !ok {
			return errv
		}
		if z == nil {
			continue // a sorted set is never empty
		}
		ms := popZ(c, key, int(min(r.count, int64(z.len()))), r.end == "MAX")
		return resp.Array(resp.BulkString(key), memberPairs(ms))
	}
	return resp.NullArray()
}

// undoBLMPop gives back what a BLMPOP attempt took (reply [key, [items]]):
// pushed at the end they came from, last taken first, so the list is as it
// was.
func undoBLMPop(args []resp.Value, reply resp.Value) []resp.Value {
	r, _, _ := parseMPop(args)
	push := "RPUSH"
	if r.end == "LEFT" {
		push = "LPUSH"
	}
	e := reply.Elems()
	items := slices.Clone(e[1].Elems())
	slices.Reverse(items)
	return append([]resp.Value{resp.BulkString(push), e[0]}, items...)
}

// undoBZMPop gives back what a BZMPOP attempt took (reply [key, [[member,
// score]...]]) with one ZADD NX: a member added again since keeps its new
// score.
func undoBZMPop(args []resp.Value, reply resp.Value) []resp.Value {
	e := reply.Elems()
	undo := []resp.Value{resp.BulkString("ZADD"), e[0], resp.BulkString("NX")}
	for _, p := range e[1].Elems() {
		m := p.Elems()
		undo = append(undo, resp.BulkString(m[1].Text()), m[0])
	}
	return undo
}
