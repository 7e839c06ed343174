package fsm

import (
	"bytes"
	"sort"

	"github.com/kvorum/kvorum/resp"
)

// SORT and SORT_RO sort a list, set or sorted set as Redis 7.0's sort.c
// does: numerically (each element, or the value BY names, read as a
// double; equal scores fall back to comparing the elements' bytes) or
// with ALPHA by bytes, DESC, LIMIT, GET patterns and STORE into a list.
//
// SORT is a write, since STORE changes the keyspace: it goes through the
// log even without STORE, so every replica applies the same sort. The
// order must be the same on every replica, so ties that Redis's qsort
// leaves unspecified (ALPHA BY a pattern whose keys are missing) keep the
// elements' own order (a stable sort). A set's own order is its sorted
// order (SMEMBERS), so BY a constant on a set returns its members sorted.
//
// Redis refuses BY and GET patterns in cluster mode, because their keys
// may live on other shards; kvorum is one shard, so it serves them, and
// (as Redis does) refuses them to an ACL user without access to every key
// (Command.HiddenKeys, which the front door checks).

func sortCommands() []Command {
	return []Command{
		{Name: "SORT", Arity: -2, Flags: Write | Dangerous, FirstKey: 1, LastKey: 1, Step: 1, Run: sortRun(false),
			KeysOf: sortKeys, HiddenKeys: sortPatterns},
		{Name: "SORT_RO", Arity: -2, Flags: Read | Dangerous, FirstKey: 1, LastKey: 1, Step: 1, Run: sortRun(true),
			HiddenKeys: sortPatterns},
	}
}

// sortKeys is SORT's key and, with STORE, its destination.
func sortKeys(args []resp.Value) []resp.Value {
	keys := args[1:2]
	for i := 2; i+1 < len(args); i++ {
		switch argUpper(args[i]) {
		case "STORE":
			keys = append(keys[:1:1], args[i+1])
			i++
		case "LIMIT":
			i += 2
		case "BY", "GET":
			i++
		}
	}
	return keys
}

// sortPatterns is Redis's refusal of the first option that reads keys by
// a pattern (BY with a '*', GET), or "".
func sortPatterns(args []resp.Value) string {
	for i := 2; i+1 < len(args); i++ {
		switch argUpper(args[i]) {
		case "BY":
			if bytes.IndexByte(args[i+1].TextBytes(), '*') >= 0 {
				return "BY option of SORT denied due to insufficient ACL permissions."
			}
			i++
		case "GET":
			return "GET option of SORT denied due to insufficient ACL permissions."
		case "LIMIT":
			i += 2
		case "STORE":
			i++
		}
	}
	return ""
}

// sortOptions are a SORT request's parsed options.
type sortOptions struct {
	desc, alpha, dontSort bool
	start, count          int64
	store                 string
	storing               bool
	by                    []byte // nil: sort by the elements
	gets                  [][]byte
}

func sortRun(readonly bool) func(c *Ctx, args []resp.Value) resp.Value {
	return func(c *Ctx, args []resp.Value) resp.Value {
		o := sortOptions{count: -1}
		for j := 2; j < len(args); j++ {
			left := len(args) - j - 1
			switch opt := argUpper(args[j]); {
			case opt == "ASC":
				o.desc = false
			case opt == "DESC":
				o.desc = true
			case opt == "ALPHA":
				o.alpha = true
			case opt == "LIMIT" && left >= 2:
				var ok1, ok2 bool
				o.start, ok1 = argInt(args[j+1])
				if ok1 {
					o.count, ok2 = argInt(args[j+2])
				}
				if !ok1 || !ok2 {
					return errNotInt
				}
				j += 2
			case opt == "STORE" && left >= 1 && !readonly:
				key, ok := keyOf(args[j+1])
				if !ok {
					return errBadKey
				}
				o.store, o.storing = key, true
				j++
			case opt == "BY" && left >= 1:
				o.by = args[j+1].TextBytes()
				o.dontSort = bytes.IndexByte(o.by, '*') < 0
				j++
			case opt == "GET" && left >= 1:
				o.gets = append(o.gets, args[j+1].TextBytes())
				j++
			default:
				return errSyntax
			}
		}
		key, ok := keyOf(args[1])
		if !ok {
			return errBadKey
		}
		e := c.State.get(key, c.Now)
		if e != nil && !e.isList() && e.set == nil && e.zset == nil {
			return errWrongType
		}
		return c.sort(e, o)
	}
}

// sortItem is one element being sorted and what it sorts by.
type sortItem struct {
	elem  []byte
	score float64
	cmp   []byte // ALPHA BY: the value found, nil if none
}

func (c *Ctx) sort(e *Entry, o sortOptions) resp.Value {
	var elems [][]byte
	switch {
	case e == nil:
	case e.set != nil:
		for _, m := range e.set.sorted() {
			elems = append(elems, []byte(m))
		}
		if o.dontSort && o.storing { // Redis sorts a set it stores, for replicas
			o.dontSort, o.alpha, o.by = false, true, nil
		}
	case e.zset != nil:
		for _, m := range e.zset.order {
			elems = append(elems, []byte(m.member))
		}
	default:
		for _, v := range e.elems() {
			elems = append(elems, v.TextBytes())
		}
	}
	n := int64(len(elems))
	start := min(max(o.start, 0), n)
	count := min(max(o.count, -1), n)
	end := n - 1
	if count >= 0 {
		end = start + count - 1
	}
	if start >= n {
		start, end = n-1, n-2
	}
	end = min(end, n-1)

	items := make([]sortItem, len(elems))
	for i, el := range elems {
		items[i].elem = el
	}
	switch {
	case o.dontSort:
		if o.desc && e != nil && e.set == nil { // a list or sorted set in its own order, reversed
			for i, j := 0, len(items)-1; i < j; i, j = i+1, j-1 {
				items[i], items[j] = items[j], items[i]
			}
		}
	default:
		for i := range items {
			by, found := items[i].elem, true
			if o.by != nil {
				by, found = c.byPattern(o.by, items[i].elem)
				if !found {
					continue
				}
			}
			if o.alpha {
				if o.by != nil {
					items[i].cmp = by
				}
				continue
			}
			f, ok := sortScore(by)
			if !ok {
				return resp.Err("ERR One or more scores can't be converted into double")
			}
			items[i].score = f
		}
		sort.SliceStable(items, func(i, j int) bool { return sortCompare(&items[i], &items[j], o) < 0 })
	}

	var out []resp.Value
	for j := start; j <= end; j++ {
		it := items[j]
		if len(o.gets) == 0 {
			out = append(out, resp.Bulk(it.elem))
		}
		for _, g := range o.gets {
			if v, ok := c.byPattern(g, it.elem); ok {
				out = append(out, resp.Bulk(v))
			} else if o.storing {
				out = append(out, resp.Bulk([]byte{}))
			} else {
				out = append(out, resp.NullBulk())
			}
		}
	}
	if !o.storing {
		return resp.Array(out...)
	}
	if len(out) > 0 {
		c.State.put(o.store, &Entry{list: newList(out), Mod: c.Index})
		c.Pushed = append(c.Pushed, o.store)
	} else {
		c.State.del(o.store, c.Now)
	}
	return resp.Int(int64(len(out)))
}

// sortCompare orders two items as Redis's sortCompare does.
func sortCompare(a, b *sortItem, o sortOptions) int {
	var cmp int
	switch {
	case !o.alpha:
		switch {
		case a.score > b.score:
			cmp = 1
		case a.score < b.score:
			cmp = -1
		default:
			cmp = bytes.Compare(a.elem, b.elem)
		}
	case o.by != nil:
		switch {
		case a.cmp == nil && b.cmp == nil:
			cmp = 0
		case a.cmp == nil:
			cmp = -1
		case b.cmp == nil:
			cmp = 1
		default:
			cmp = bytes.Compare(a.cmp, b.cmp)
		}
	default:
		cmp = bytes.Compare(a.elem, b.elem)
	}
	if o.desc {
		return -cmp
	}
	return cmp
}

// sortScore reads a sort weight as C's strtod must read all of it (an
// overflow refused, as Redis refuses ERANGE).
func sortScore(b []byte) (float64, bool) {
	f, _, ok := strtod(string(b))
	return f, ok
}

// byPattern looks up what a BY or GET pattern names for elem, as Redis's
// lookupKeyByPattern: "#" is elem itself; the first '*' is replaced by
// elem; "key->field" after the '*' reads a hash field; a plain key must
// hold a string. A pattern without '*', a missing key or a key of another
// type finds nothing.
func (c *Ctx) byPattern(pattern, elem []byte) ([]byte, bool) {
	if string(pattern) == "#" {
		return elem, true
	}
	star := bytes.IndexByte(pattern, '*')
	if star < 0 {
		return nil, false
	}
	rest, field := pattern[star+1:], []byte(nil)
	if f := bytes.Index(rest, []byte("->")); f >= 0 && f+2 < len(rest) {
		rest, field = rest[:f], rest[f+2:]
	}
	key := string(pattern[:star]) + string(elem) + string(rest)
	e := c.State.get(key, c.Now)
	if e == nil {
		return nil, false
	}
	if field != nil {
		if !e.isHash() {
			return nil, false
		}
		h := e.hash
		if h == nil {
			h = hashFromPairs(e.Value.Elems())
		}
		v, ok := h.get(string(field))
		if !ok || !v.IsScalar() {
			return nil, false
		}
		return v.TextBytes(), true
	}
	if typeName(e) != "string" || !e.Value.IsScalar() {
		return nil, false
	}
	return e.Value.TextBytes(), true
}
