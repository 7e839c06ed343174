package fsm

import (
	"hash/fnv"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"

	"github.com/kvorum/kvorum/resp"
)

// Set commands. A set is its own kind (SPEC §2): a map of members, changed
// in place with copy-on-write like lists. Replies list members sorted, and
// SPOP takes the smallest members: the FSM has no randomness, so every
// replica pops the same ones (Redis picks at random). SRANDMEMBER is a
// read, served by one node only, so it picks at random as Redis does. The
// set algebra (SINTER, SUNIONSTORE, ...) is in setalgebra.go.
func setCommands() []Command {
	return append([]Command{
		{Name: "SADD", Arity: -3, Flags: Write, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdSAdd},
		{Name: "SREM", Arity: -3, Flags: Write, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdSRem},
		{Name: "SPOP", Arity: -2, Flags: Write, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdSPop},
		{Name: "SMEMBERS", Arity: 2, Flags: Read, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdSMembers},
		{Name: "SISMEMBER", Arity: 3, Flags: Read, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdSIsMember},
		{Name: "SCARD", Arity: 2, Flags: Read, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdSCard},
		{Name: "SMISMEMBER", Arity: -3, Flags: Read, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdSMIsMember},
		{Name: "SMOVE", Arity: 4, Flags: Write, FirstKey: 1, LastKey: 2, Step: 1, Run: cmdSMove},
		{Name: "SRANDMEMBER", Arity: -2, Flags: Read, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdSRandMember},
		{Name: "SSCAN", Arity: -3, Flags: Read, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdSScan},
	}, setAlgebraCommands()...)
}

type set map[string]struct{}

func (s set) clone() set {
	c := make(set, len(s))
	for m := range s {
		c[m] = struct{}{}
	}
	return c
}

// sorted returns the members in byte order.
func (s set) sorted() []string {
	out := make([]string, 0, len(s))
	for m := range s {
		out = append(out, m)
	}
	sort.Strings(out)
	return out
}

// value is the set as an array of its members, sorted (GET in native mode,
// and the snapshot record).
func (s set) value() resp.Value {
	ms := s.sorted()
	out := make([]resp.Value, len(ms))
	for i, m := range ms {
		out[i] = resp.BulkString(m)
	}
	return resp.Array(out...)
}

// setFromValue rebuilds a set from value()'s form (snapshot restore): a
// non-empty array of distinct scalar members.
func setFromValue(v resp.Value) (set, bool) {
	if v.Kind() != resp.KindArray || v.Len() == 0 {
		return nil, false
	}
	s := make(set, v.Len())
	for _, e := range v.Elems() {
		if !e.IsScalar() || e.IsNull() {
			return nil, false
		}
		s[e.Text()] = struct{}{}
	}
	return s, len(s) == v.Len()
}

// setOf returns key's set for reading (nil if missing), or WRONGTYPE.
func setOf(c *Ctx, keyArg resp.Value) (string, set, resp.Value, bool) {
	key, e, errv, ok := lookupKind(c, keyArg, func(e *Entry) bool { return e.set != nil })
	if e == nil {
		return key, nil, errv, ok
	}
	return key, e.set, errv, ok
}

func mutableSet(c *Ctx, key string, create bool) *Entry {
	e := c.State.mutable(key, c.Now)
	if e == nil {
		if !create {
			return nil
		}
		e = &Entry{set: make(set)}
		c.State.put(key, e)
	}
	e.Mod = c.Index
	return e
}

func dropEmptySet(c *Ctx, key string, e *Entry) {
	if len(e.set) == 0 {
		delete(c.State.keys, key)
	}
}

func cmdSAdd(c *Ctx, args []resp.Value) resp.Value {
	key, _, errv, ok := setOf(c, args[1])
	if !ok {
		return errv
	}
	e := mutableSet(c, key, true)
	var n int64
	for _, a := range args[2:] {
		if !a.IsScalar() || a.IsNull() {
			dropEmptySet(c, key, e)
			return resp.Err("ERR set member must be a string or an integer")
		}
		if _, ok := e.set[a.Text()]; !ok {
			e.set[a.Text()] = struct{}{}
			n++
		}
	}
	return resp.Int(n)
}

func cmdSRem(c *Ctx, args []resp.Value) resp.Value {
	key, s, errv, ok := setOf(c, args[1])
	if !ok || s == nil {
		if !ok {
			return errv
		}
		return resp.Int(0)
	}
	e := mutableSet(c, key, false)
	var n int64
	for _, a := range args[2:] {
		if _, ok := e.set[a.Text()]; ok {
			delete(e.set, a.Text())
			n++
		}
	}
	dropEmptySet(c, key, e)
	return resp.Int(n)
}

// cmdSPop serves SPOP key [count], popping the smallest members.
func cmdSPop(c *Ctx, args []resp.Value) resp.Value {
	if len(args) > 3 {
		return errSyntax
	}
	count, withCount := int64(1), len(args) == 3
	if withCount {
		var ok bool
		if count, ok = argInt(args[2]); !ok || count < 0 {
			return resp.Err("ERR value is out of range, must be positive")
		}
	}
	key, s, errv, ok := setOf(c, args[1])
	if !ok {
		return errv
	}
	if s == nil {
		if withCount {
			return resp.Array()
		}
		return resp.NullBulk()
	}
	if count == 0 {
		return resp.Array()
	}
	e := mutableSet(c, key, false)
	ms := e.set.sorted()
	ms = ms[:min(int(count), len(ms))]
	out := make([]resp.Value, len(ms))
	for i, m := range ms {
		delete(e.set, m)
		out[i] = resp.BulkString(m)
	}
	dropEmptySet(c, key, e)
	if !withCount {
		return out[0]
	}
	return resp.Array(out...)
}

func cmdSMembers(c *Ctx, args []resp.Value) resp.Value {
	_, s, errv, ok := setOf(c, args[1])
	if !ok {
		return errv
	}
	if s == nil {
		return resp.Array()
	}
	return s.value()
}

func cmdSIsMember(c *Ctx, args []resp.Value) resp.Value {
	_, s, errv, ok := setOf(c, args[1])
	if !ok {
		return errv
	}
	if _, in := s[args[2].Text()]; in {
		return resp.Int(1)
	}
	return resp.Int(0)
}

func cmdSCard(c *Ctx, args []resp.Value) resp.Value {
	_, s, errv, ok := setOf(c, args[1])
	if !ok {
		return errv
	}
	return resp.Int(int64(len(s)))
}

// cmdSMIsMember serves SMISMEMBER key member...: 1 or 0 for each member.
func cmdSMIsMember(c *Ctx, args []resp.Value) resp.Value {
	_, s, errv, ok := setOf(c, args[1])
	if !ok {
		return errv
	}
	out := make([]resp.Value, len(args)-2)
	for i, a := range args[2:] {
		_, in := s[a.Text()]
		out[i] = resp.Int(int64(b2i(in)))
	}
	return resp.Array(out...)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// cmdSMove serves SMOVE src dst member: 1 if member moved (or src is dst
// and holds it), 0 otherwise. A missing src answers 0 before dst's kind is
// looked at, as Redis does.
func cmdSMove(c *Ctx, args []resp.Value) resp.Value {
	src, s, errv, ok := setOf(c, args[1])
	if !ok {
		return errv
	}
	if s == nil {
		return resp.Int(0)
	}
	dst, d, errv, ok := setOf(c, args[2])
	if !ok {
		return errv
	}
	m := args[3].Text()
	if _, in := s[m]; !in {
		return resp.Int(0)
	}
	if src == dst {
		return resp.Int(1)
	}
	if !args[3].IsScalar() || args[3].IsNull() {
		return resp.Err("ERR set member must be a string or an integer")
	}
	e := mutableSet(c, src, false)
	delete(e.set, m)
	dropEmptySet(c, src, e)
	if _, in := d[m]; !in { // dst is changed (and WATCH sees it) only if m is new to it
		mutableSet(c, dst, true).set[m] = struct{}{}
	}
	return resp.Int(1)
}

// randCountMax bounds how many members a negative count asks SRANDMEMBER
// and HRANDFIELD to repeat: Redis streams any number, kvorum builds the
// reply in memory first.
const randCountMax = 1 << 24

var errRandCountRange = resp.Err("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")

// randCount parses SRANDMEMBER's and HRANDFIELD's count: an integer
// between -LONG_MAX and LONG_MAX, as Redis 7 takes it.
func randCount(v resp.Value) (int64, resp.Value, bool) {
	n, ok := argInt(v)
	switch {
	case !ok:
		return 0, errNotInt, false
	case n == math.MinInt64:
		return 0, errRandCountRange, false
	}
	return n, resp.Value{}, true
}

// errRandCountMax refuses a negative count beyond randCountMax, once
// every check Redis makes has passed.
var errRandCountMax = resp.Err("ERR value is out of range, kvorum repeats at most " + strconv.Itoa(randCountMax) + " random elements")

// randPicks returns the positions of count random picks among n elements
// (n > 0, count != 0), as Redis's SRANDMEMBER and HRANDFIELD pick them: a
// negative count may pick one element many times; a positive one picks
// distinct elements, all of them (in random order) if count >= n. It uses
// math/rand/v2: only reads call it, on the serving node.
func randPicks(n int, count int64) []int {
	if count < 0 {
		out := make([]int, -count)
		for i := range out {
			out[i] = rand.IntN(n)
		}
		return out
	}
	perm := rand.Perm(n)
	return perm[:min(int64(n), count)]
}

// cmdSRandMember serves SRANDMEMBER key [count].
func cmdSRandMember(c *Ctx, args []resp.Value) resp.Value {
	if len(args) > 3 {
		return errSyntax
	}
	var count int64
	if len(args) == 3 {
		var errv resp.Value
		var ok bool
		if count, errv, ok = randCount(args[2]); !ok {
			return errv
		}
		if count < -randCountMax {
			return errRandCountMax
		}
	}
	_, s, errv, ok := setOf(c, args[1])
	if !ok {
		return errv
	}
	if len(args) == 2 {
		if len(s) == 0 {
			return resp.NullBulk()
		}
		i := rand.IntN(len(s))
		for m := range s {
			if i == 0 {
				return resp.BulkString(m)
			}
			i--
		}
	}
	if len(s) == 0 || count == 0 {
		return resp.Array()
	}
	if count >= int64(len(s)) {
		return s.value() // the whole set, as Redis answers it
	}
	ms := make([]string, 0, len(s))
	for m := range s {
		ms = append(ms, m)
	}
	picks := randPicks(len(ms), count)
	out := make([]resp.Value, len(picks))
	for i, p := range picks {
		out[i] = resp.BulkString(ms[p])
	}
	return resp.Array(out...)
}

// scanWhole is the size up to which SSCAN and HSCAN answer everything in
// one reply with cursor 0, as Redis does for its small encodings (a
// listpack hash holds up to 128 fields); larger ones are paged.
const scanWhole = 128

// scanArgs parses SSCAN's and HSCAN's cursor, the way Redis does (C's
// strtoul: an optional sign, digits, nothing else; a negative cursor
// wraps to a huge one).
func scanCursor(v resp.Value) (uint64, bool) {
	t := v.Text()
	neg := false
	if t != "" && (t[0] == '+' || t[0] == '-') {
		neg, t = t[0] == '-', t[1:]
		if t == "" {
			return 0, false
		}
	}
	if t == "" {
		return 0, true
	}
	n, err := strconv.ParseUint(t, 10, 64)
	if err != nil {
		return 0, false
	}
	if neg {
		n = -n
	}
	return n, true
}

var errCursor = resp.Err("ERR invalid cursor")

// scanOptions parses [MATCH pattern] [COUNT count] from args (the
// arguments after the cursor), as Redis's SSCAN, HSCAN and ZSCAN do.
func scanOptions(args []resp.Value) (pattern []byte, count int64, errv resp.Value, ok bool) {
	count = 10
	for i := 0; i < len(args); i += 2 {
		if i+1 >= len(args) {
			return nil, 0, errSyntax, false
		}
		switch argUpper(args[i]) {
		case "COUNT":
			if count, ok = argInt(args[i+1]); !ok {
				return nil, 0, errNotInt, false
			}
			if count < 1 {
				return nil, 0, errSyntax, false
			}
		case "MATCH":
			pattern = []byte(args[i+1].Text())
		default:
			return nil, 0, errSyntax, false
		}
	}
	return pattern, count, resp.Value{}, true
}

// scanReply is SCAN's reply shape: [next cursor, elements].
func scanReply(next uint64, elems []resp.Value) resp.Value {
	return resp.Array(resp.BulkString(strconv.FormatUint(next, 10)), resp.Array(elems...))
}

// pick returns the items at the positions page lists, in that order.
func pick[T any](items []T, page []int) []T {
	out := make([]T, len(page))
	for k, i := range page {
		out[k] = items[i]
	}
	return out
}

// scanPage picks the page of a large set or hash that starts at cursor:
// elements are ordered by the 64-bit FNV-1a hash of their name (the same
// on every node and after a restore), a page takes at least count of them
// from the first hash >= cursor and never splits equal hashes, and the
// next cursor is the hash after the page's last one (0 when none is
// left). So, as SCAN promises, an element present for a whole iteration
// is returned, whatever is added or deleted meanwhile, also when the
// iteration goes on at another node. It returns the positions in names of
// the page's elements, in hash order.
func scanPage(names []string, cursor uint64, count int64) ([]int, uint64) {
	type h struct {
		sum uint64
		i   int
	}
	var hs []h
	for i, n := range names {
		f := fnv.New64a()
		f.Write([]byte(n))
		if sum := f.Sum64(); sum >= cursor {
			hs = append(hs, h{sum, i})
		}
	}
	sort.Slice(hs, func(a, b int) bool {
		if hs[a].sum != hs[b].sum {
			return hs[a].sum < hs[b].sum
		}
		return names[hs[a].i] < names[hs[b].i]
	})
	end := int(min(count, int64(len(hs))))
	for end < len(hs) && hs[end].sum == hs[end-1].sum {
		end++
	}
	out := make([]int, end)
	for k := range out {
		out[k] = hs[k].i
	}
	if end == len(hs) || hs[end-1].sum == math.MaxUint64 {
		return out, 0
	}
	return out, hs[end-1].sum + 1
}

// cmdSScan serves SSCAN key cursor [MATCH pattern] [COUNT count]: a small
// set at once, sorted; a large one by scanPage.
func cmdSScan(c *Ctx, args []resp.Value) resp.Value {
	cursor, ok := scanCursor(args[2])
	if !ok {
		return errCursor
	}
	_, s, errv, ok := setOf(c, args[1])
	if !ok {
		return errv
	}
	if s == nil {
		return scanReply(0, nil)
	}
	pattern, count, errv, ok := scanOptions(args[3:])
	if !ok {
		return errv
	}
	ms, next := s.sorted(), uint64(0)
	if len(ms) > scanWhole {
		var page []int
		page, next = scanPage(ms, cursor, count)
		ms = pick(ms, page)
	}
	var out []resp.Value
	for _, m := range ms {
		if pattern == nil || Glob(pattern, []byte(m)) {
			out = append(out, resp.BulkString(m))
		}
	}
	return scanReply(next, out)
}
