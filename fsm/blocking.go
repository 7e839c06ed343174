package fsm

import (
	"strconv"

	"github.com/kvorum/kvorum/resp"
)

// Blocking pops (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BZPOPMIN, BZPOPMAX, and
// BLMPOP and BZMPOP in mpop.go) run here as one attempt each: a write that
// pops if it can and otherwise answers null without changing anything.
// Waiting is the front door's job (cluster/door): it looks with AnyToPop,
// proposes an attempt, and waits for a push to a key (Ctx.Pushed) until
// the timeout; once blocked, it looks with Poppable and proposes Retry's
// request, so that a key turned into another kind keeps the client waiting
// instead of answering WRONGTYPE. A client that left while its attempt was
// in the log gets its items given back by the row's Undo, proposed as one
// more write.

// bpop returns one attempt of BLPOP (front) or BRPOP key... timeout:
// [key, element] from the first non-empty list, or a null array if all are
// empty.
func bpop(front bool) func(c *Ctx, args []resp.Value) resp.Value {
	return func(c *Ctx, args []resp.Value) resp.Value {
		if _, errv, ok := BlockTimeout(args); !ok {
			return errv
		}
		// Key by key, as Redis does: the first non-empty list is popped, and a
		// key of another kind before it answers WRONGTYPE.
		for _, k := range args[1 : len(args)-1] {
			key, e, errv, ok := listOf(c, k)
			if !ok {
				return errv
			}
			if isEmpty(e) {
				continue
			}
			e = mutableList(c, key, false)
			var v resp.Value
			if front {
				v = e.list.popFront()
			} else {
				v = e.list.popBack()
			}
			dropIfEmpty(c, key, e)
			return resp.Array(resp.BulkString(key), c.elem(v))
		}
		return resp.NullArray()
	}
}

// undoBPop gives back what a BLPOP (front) or BRPOP attempt took (reply
// [key, element]) at the end it came from.
func undoBPop(front bool) func(args []resp.Value, reply resp.Value) []resp.Value {
	push := "RPUSH"
	if front {
		push = "LPUSH"
	}
	return func(args []resp.Value, reply resp.Value) []resp.Value {
		return []resp.Value{resp.BulkString(push), reply.Elems()[0], reply.Elems()[1]}
	}
}

// undoBLMOVE gives back what a BLMOVE/BRPOPLPUSH attempt moved (reply: the
// element) with KVORUM.UNMOVE.
func undoBLMove(args []resp.Value, reply resp.Value) []resp.Value {
	from, to := resp.BulkString("RIGHT"), resp.BulkString("LEFT")
	if len(args) == 6 {
		from, to = args[3], args[4]
	}
	return []resp.Value{resp.BulkString("KVORUM.UNMOVE"), args[1], args[2], from, to, reply}
}

// cmdUnmove serves KVORUM.UNMOVE src dst from to element: it undoes a
// BLMOVE src dst from to whose client left before the reply. If dst's to
// end still holds element it goes back to src's from end (the stored value
// itself, so nothing about it changes); if not, someone has taken or
// covered it since, and it stays where it is: not lost, not duplicated.
func cmdUnmove(c *Ctx, args []resp.Value) resp.Value {
	src, _, errv, ok := listOf(c, args[1])
	if !ok {
		return errv
	}
	dst, de, errv, ok := listOf(c, args[2])
	if !ok {
		return errv
	}
	from, to := argUpper(args[3]), argUpper(args[4])
	if isEmpty(de) {
		return resp.Int(0)
	}
	end := de.list.len() - 1
	if to == "LEFT" {
		end = 0
	}
	if v := de.list.at(end); !resp.Equal(v, args[5]) && (!v.IsScalar() || v.Text() != args[5].Text()) {
		return resp.Int(0)
	}
	move(c, dst, to, src, from)
	return resp.Int(1)
}

// AnyToPop reports whether an attempt of the blocking command cmd on keys
// would answer now rather than find nothing: one of keys holds a non-empty
// value of the kind cmd pops (lists, or sorted sets for BZPOP*), or a value
// of another kind (the attempt answers WRONGTYPE, as Redis does before it
// blocks), or a key is not a valid key. It is the front door's check before
// it proposes an attempt.
func (f *FSM) AnyToPop(cmd *Command, keys []resp.Value, now int64) bool {
	f.mu.RLock()
	defer f.mu.RUnlock()
	for _, k := range keys {
		key, ok := keyOf(k)
		if !ok {
			return true
		}
		if e := f.state.get(key, now); e != nil && (!cmd.Pops(e) || e.isZSet() || !isEmpty(e)) {
			return true // a sorted set is never empty
		}
	}
	return false
}

// Poppable returns those of keys that hold a non-empty value of the kind
// the blocking command cmd pops at now, in their order: what the attempt of
// a client that is already blocked may take from. To such a client a key
// of another kind is nothing to pop yet, as in Redis, which keeps it
// blocked when a MULTI pushes to its list and then SETs the key, and
// serves it once a list is back; only a first attempt answers WRONGTYPE
// (AnyToPop). The front door proposes Retry's request with these keys.
func (f *FSM) Poppable(cmd *Command, keys []resp.Value, now int64) []resp.Value {
	f.mu.RLock()
	defer f.mu.RUnlock()
	var out []resp.Value
	for _, k := range keys {
		key, ok := keyOf(k)
		if !ok {
			continue
		}
		if e := f.state.get(key, now); e != nil && cmd.Pops(e) && (e.isZSet() || !isEmpty(e)) {
			out = append(out, k)
		}
	}
	return out
}

// Retry returns the request of an attempt of the blocking request args
// that takes only from keys, a non-empty subset of its source keys in
// their order (Poppable's answer): BLPOP a b c 0 with keys [c] becomes
// BLPOP c 0, BLMPOP 0 3 a b c LEFT becomes BLMPOP 0 1 c LEFT. A move,
// which has one source, stays as it is. args is not changed.
func (cmd *Command) Retry(args, keys []resp.Value) []resp.Value {
	switch {
	case cmd.Sources == 1:
		return args
	case cmd.KeysOf != nil: // BLMPOP, BZMPOP: timeout numkeys key... rest
		at := cmd.TimeoutAt + 1
		n := len(cmd.Keys(args))
		out := append(append([]resp.Value{args[0]}, args[1:at]...), resp.BulkString(strconv.Itoa(len(keys))))
		out = append(out, keys...)
		return append(out, args[at+1+n:]...)
	}
	out := append([]resp.Value{args[0]}, keys...) // BLPOP key... timeout
	return append(out, args[len(args)-1])
}

// BlockTimeout returns a blocking command's timeout in milliseconds (its
// last argument, in seconds; 0 means forever), or Redis's error reply for
// a timeout that is negative or not a number (resp.ParseTimeout, which the
// client uses too). The front door checks it before it blocks; each
// attempt checks it again (the log must refuse what the front door would).
func BlockTimeout(args []resp.Value) (int64, resp.Value, bool) {
	d, err := resp.ParseTimeout(args[len(args)-1])
	if err != nil {
		return 0, resp.Err(err.Error()), false
	}
	return d.Milliseconds(), resp.Value{}, true
}
