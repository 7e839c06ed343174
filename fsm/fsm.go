package fsm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/raft"
	"github.com/kvorum/kvorum/resp"
)

// Config configures an FSM. The zero value is usable.
type Config struct {
	Logger *slog.Logger
	// OnPush, if set, receives the keys each applied batch pushed to.
	OnPush PushFunc
}

// PushFunc receives, on the FSM goroutine after each applied batch, the
// indexes of its first and last entries and the keys that were pushed to
// (LPUSH, LMOVE, RENAME onto a list, ...), so blocked pops can retry. It
// must not block, and must not keep keys.
type PushFunc func(first, last uint64, keys []string)

// FSM is the Raft state machine: it applies committed entries to the State
// and serves reads against it. Raft calls Apply, ApplyBatch, Snapshot and
// Restore from its FSM goroutine; Read may be called from any goroutine.
type FSM struct {
	table *Table
	log   *slog.Logger

	mu    sync.RWMutex // guards state: Apply and Restore write, Read reads
	state *State

	applied  atomic.Uint64
	waitMu   sync.Mutex
	advanced chan struct{} // closed (and replaced) whenever applied grows
	src      bytes.Reader  // used only on the FSM goroutine
	rd       *resp.Reader
	onPush   atomic.Pointer[PushFunc]
	pushed   []string // keys pushed to in the batch being applied (FSM goroutine only)

	// hits and misses count the key lookups of reads (Read), counts what
	// commands count as they run: INFO stats (Stats).
	hits, misses atomic.Uint64
	counts       counts
	// limits are this node's encoding thresholds (SetEncodingLimits), read
	// by OBJECT ENCODING; nil means Redis's defaults.
	limits atomic.Pointer[EncodingLimits]
}

// Stats are the FSM's counters since it was created, for INFO stats. They
// are this node's: a read counts where it is served, and every replica
// counts the keys the expiry sweep's entries remove.
type Stats struct {
	// KeyspaceHits and KeyspaceMisses count, over the reads served by
	// Read, each key argument that held a live key and each that did not,
	// as Redis counts its read lookups. A read inside MULTI, which runs in
	// the log, is not counted.
	KeyspaceHits, KeyspaceMisses uint64
	// ExpiredKeys counts the keys KVORUM.REAP removed because their
	// deadline had passed.
	ExpiredKeys uint64
	// CommandPanics counts the commands that panicked (a server bug) and
	// were answered with an error instead (guard.go), in apply or in a
	// read.
	CommandPanics uint64
}

// Stats returns the counters. Safe from any goroutine.
func (f *FSM) Stats() Stats {
	return Stats{KeyspaceHits: f.hits.Load(), KeyspaceMisses: f.misses.Load(), ExpiredKeys: f.counts.expired.Load(),
		CommandPanics: f.counts.panics.Load()}
}

// WatchPushes makes fn the receiver of pushes (Config.OnPush), replacing
// any earlier one: the front door registers its blocked pops' wake-ups
// here once it is built, before it serves a client. Safe from any goroutine.
func (f *FSM) WatchPushes(fn PushFunc) { f.onPush.Store(&fn) }

// New returns an FSM with an empty state.
func New(cfg Config) *FSM {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	f := &FSM{table: NewTable(), log: log, state: NewState(), advanced: make(chan struct{})}
	f.counts.log = log
	if cfg.OnPush != nil {
		f.WatchPushes(cfg.OnPush)
	}
	f.rd = resp.NewReader(&f.src, entryLimits())
	return f
}

// entryLimits are the parser limits for entries and snapshots: what the
// wire accepted, with room for the record around it.
func entryLimits() resp.Limits {
	return resp.Limits{MaxElements: 1 << 30, MaxDepth: 1024, MaxBulk: 1 << 40, MaxInline: 1 << 30}
}

// Table returns the command table.
func (f *FSM) Table() *Table { return f.table }

// Apply applies one committed entry and returns the reply, which the
// proposer receives from ApplyFuture.Response(): a resp.Value for an
// EntryCommand, a []resp.Value (one per command) for an EntryItems or
// EntryBatch.
func (f *FSM) Apply(l *raft.Log) interface{} { return f.ApplyBatch([]*raft.Log{l})[0] }

// ApplyBatch applies committed entries under one lock (raft.BatchingFSM).
func (f *FSM) ApplyBatch(logs []*raft.Log) []interface{} {
	out := make([]interface{}, len(logs))
	f.mu.Lock()
	for i, l := range logs {
		if l.Type == raft.LogCommand {
			out[i] = f.applyEntry(l)
		}
	}
	// Advance under the lock, so a Snapshot never pairs a state with an
	// applied index older than it.
	if len(logs) > 0 && logs[len(logs)-1].Index > f.applied.Load() {
		f.setApplied(logs[len(logs)-1].Index)
	}
	f.mu.Unlock()
	if len(f.pushed) > 0 {
		if fn := f.onPush.Load(); fn != nil {
			(*fn)(logs[0].Index, logs[len(logs)-1].Index, f.pushed)
		}
		clear(f.pushed)
		f.pushed = f.pushed[:0]
	}
	return out
}

func (f *FSM) applyEntry(l *raft.Log) interface{} {
	h, body, err := parseHeader(l.Data)
	if err == nil && h.Kind != EntryCommand && h.Kind != EntryBatch && h.Kind != EntryItems {
		err = fmt.Errorf("unknown entry kind %d", h.Kind)
	}
	c := Ctx{State: f.state, Now: h.Now, Mode: h.Mode, Index: l.Index, Pushed: f.pushed, counts: &f.counts}
	defer func() { f.pushed = c.Pushed }()
	var req resp.Value
	if err == nil {
		f.src.Reset(body)
		f.rd.Reset(&f.src)
		if h.Kind == EntryItems {
			if replies, ok := f.runItems(&c, len(body)); ok {
				return replies
			}
			err = errItemCount
		} else {
			req, err = f.rd.ReadValue()
		}
	}
	if err != nil || req.Kind() != resp.KindArray || (h.Kind == EntryCommand && req.Len() == 0) {
		f.log.Error("skipping undecodable log entry", "index", l.Index, "err", err)
		return resp.Err("ERR undecodable log entry")
	}
	if h.Kind == EntryCommand {
		return f.run(&c, req.Elems())
	}
	items := req.Elems()
	replies := make([]resp.Value, len(items))
	for i, it := range items {
		pair := it.Elems()
		if it.Kind() != resp.KindArray || len(pair) != 2 || pair[1].Kind() != resp.KindArray || pair[1].Len() == 0 {
			replies[i] = errBatchItem
			continue
		}
		c.Mode, c.Item = resp.Mode(pair[0].Int()), i
		replies[i] = f.run(&c, pair[1].Elems())
	}
	return replies
}

var (
	errBatchItem = resp.Err("ERR undecodable command in batch entry")
	errItemCount = errors.New("fsm: batch entry without its count")
)

// runItems applies an EntryItems body from f.rd (AppendBatchItem,
// AppendBatchEntry), parsing one request at a time, and returns one reply
// per item. It reports false if the body does not start with a count that
// fits in size bytes. An item it cannot decode, and every one after it,
// answers an error.
func (f *FSM) runItems(c *Ctx, size int) ([]resp.Value, bool) {
	n, err := f.rd.ReadValue()
	if err != nil || n.Kind() != resp.KindInt || n.Int() < 0 || n.Int() > int64(size) {
		return nil, false
	}
	replies := make([]resp.Value, n.Int())
	var last stamp // the body's latest session write (ItemWriter's run form)
	for i := range replies {
		c.Item = i
		v, ok := f.nextItem(c, &last)
		if !ok {
			for j := i; j < len(replies); j++ {
				replies[j] = errBatchItem
			}
			break
		}
		replies[i] = v
	}
	return replies, true
}

// nextItem reads one item from f.rd and runs it: :mode then the request,
// a session write's :mode :id :seq :seq-floor then its command, or a
// session write in the run form, :mode :delta then its command, which
// takes its session and floor from *last, the body's latest session write,
// and its seq delta above that one's (ItemWriter). An item ends at its
// first array; one of another shape answers an error alone. It reports
// false if the body ends or breaks before an item's array.
func (f *FSM) nextItem(c *Ctx, last *stamp) (resp.Value, bool) {
	var ints [4]int64
	n := 0
	for {
		x, isInt, err := f.rd.ReadInt()
		if err != nil || (isInt && n == len(ints)) {
			return resp.Value{}, false
		}
		if !isInt {
			break
		}
		ints[n] = x
		n++
	}
	v, err := f.rd.ReadValue()
	switch {
	case err != nil:
		return resp.Value{}, false
	case v.Kind() != resp.KindArray || v.Len() == 0:
		return errBatchItem, true
	case n == 1:
		c.Mode = resp.Mode(ints[0])
		return f.run(c, v.Elems()), true
	case n == 2 && last.ok && ints[1] > 0:
		c.Mode = resp.Mode(ints[0])
		last.seq += ints[1]
		return f.table.applySeq(c, last.id, last.seq, last.floor, v.Elems()), true
	case n == 4:
		c.Mode = resp.Mode(ints[0])
		*last = stamp{id: ints[1], seq: ints[2], floor: ints[2] - ints[3], ok: true}
		return f.table.applySeq(c, last.id, last.seq, last.floor, v.Elems()), true
	}
	return errBatchItem, true
}

// run looks a request up and runs it.
func (f *FSM) run(c *Ctx, args []resp.Value) resp.Value {
	cmd := f.table.Lookup(args[0].TextBytes())
	if cmd == nil {
		return UnknownCommand(args[0].TextBytes())
	}
	if v, ok := cmd.CheckArity(args); !ok {
		return v
	}
	return cmd.call(c, args)
}

// Read runs a read-only command against the current state under the read
// lock. now is the serving node's clock in Unix ms. It answers the
// wrong-number-of-arguments error itself, and refuses a write command (which
// must go through the log) with an error value.
func (f *FSM) Read(cmd *Command, args []resp.Value, now int64, mode resp.Mode) resp.Value {
	if v, ok := cmd.CheckArity(args); !ok {
		return v
	}
	if cmd.IsWrite() {
		return resp.Err("ERR '" + strings.ToLower(cmd.Name) + "' changes data and cannot be served as a read")
	}
	f.mu.RLock()
	defer f.mu.RUnlock()
	f.countLookups(cmd, args, now)
	c := Ctx{State: f.state, Now: now, Mode: mode, Limits: f.limits.Load(), counts: &f.counts}
	return cmd.call(&c, args)
}

// SetEncodingLimits sets the thresholds OBJECT ENCODING judges this node's
// values by (CONFIG SET hash-max-listpack-entries, ...). Safe to call from
// any goroutine.
func (f *FSM) SetEncodingLimits(l EncodingLimits) { f.limits.Store(&l) }

// countLookups counts a read's key arguments as keyspace hits or misses
// (Stats). It runs under the read lock and allocates nothing for bulk keys.
func (f *FSM) countLookups(cmd *Command, args []resp.Value, now int64) {
	if cmd.FirstKey == 0 {
		return
	}
	if cmd.KeysOf != nil {
		var hits, misses uint64
		for _, k := range cmd.KeysOf(args) {
			if key, ok := keyOf(k); ok && f.state.get(key, now) != nil {
				hits++
			} else {
				misses++
			}
		}
		f.hits.Add(hits)
		f.misses.Add(misses)
		return
	}
	last := cmd.LastKey
	if last < 0 {
		last += len(args)
	}
	var hits, misses uint64
	for i := cmd.FirstKey; i <= last && i < len(args); i += max(cmd.Step, 1) {
		var e *Entry
		if k := args[i].Kind(); k == resp.KindBulk || k == resp.KindSimple {
			e = f.state.keys[string(args[i].Bytes())]
		} else if key, ok := keyOf(args[i]); ok {
			e = f.state.keys[key]
		}
		if e != nil && (e.Expire == 0 || e.Expire > now) {
			hits++
		} else {
			misses++
		}
	}
	if hits > 0 {
		f.hits.Add(hits)
	}
	if misses > 0 {
		f.misses.Add(misses)
	}
}

// Keys returns the number of keys held (including expired ones not yet removed).
func (f *FSM) Keys() int {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.state.Len()
}

// Counts returns the number of live keys at now, how many of them have a
// deadline, and their average time to live in ms (INFO keyspace).
func (f *FSM) Counts(now int64) (keys, expires int, avgTTL int64) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	var ttl int64
	for _, e := range f.state.keys {
		if e.Expire == 0 {
			keys++
		} else if e.Expire > now {
			keys++
			expires++
			ttl += e.Expire - now
		}
	}
	if expires > 0 {
		avgTTL = ttl / int64(expires)
	}
	return keys, expires, avgTTL
}

// ExpiredRequest returns the write that deletes up to max keys whose
// deadline has passed at now (KVORUM.REAP key...), or nil if there are
// none: the leader's expiry sweep proposes it.
func (f *FSM) ExpiredRequest(now int64, max int) []resp.Value {
	keys := f.Expired(now, max)
	if len(keys) == 0 {
		return nil
	}
	args := make([]resp.Value, 0, len(keys)+1)
	args = append(args, resp.BulkString(reapCommand))
	for _, k := range keys {
		args = append(args, resp.BulkString(k))
	}
	return args
}

// Expired returns up to max keys whose deadline has passed at now, for the
// leader's expiry sweep (ExpiredRequest). Like
// Redis's active expiry it samples: it looks at no more than 16*max
// entries per call, from a random starting point (Go's map iteration), so
// a large keyspace costs the sweep a bounded amount of work per tick.
func (f *FSM) Expired(now int64, max int) []string {
	f.mu.RLock()
	defer f.mu.RUnlock()
	var out []string
	seen := 0
	for k, e := range f.state.keys {
		if len(out) >= max || seen >= 16*max {
			break
		}
		seen++
		if e.Expire != 0 && e.Expire <= now {
			out = append(out, k)
		}
	}
	return out
}

// Applied returns the index of the last entry applied.
func (f *FSM) Applied() uint64 { return f.applied.Load() }

// setApplied records the index of the last entry applied (or restored) and
// wakes WaitApplied callers.
func (f *FSM) setApplied(index uint64) {
	f.waitMu.Lock()
	f.applied.Store(index)
	close(f.advanced)
	f.advanced = make(chan struct{})
	f.waitMu.Unlock()
}

// WaitApplied blocks until the entry at index is applied or ctx ends.
func (f *FSM) WaitApplied(ctx context.Context, index uint64) error {
	for {
		f.waitMu.Lock()
		if f.applied.Load() >= index {
			f.waitMu.Unlock()
			return nil
		}
		ch := f.advanced
		f.waitMu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
