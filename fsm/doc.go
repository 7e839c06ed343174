// Package fsm is kvorum's data: the keyspace (State), the command table
// with one file per command family, the Raft log-entry encoding, the state
// machine Raft applies entries to (FSM), and snapshots.
//
// fsm imports resp and hashicorp/raft (for the raft.FSM interface's types).
// It must not import net, cluster or cluster/door, and nothing it runs in
// Apply calls time.Now or a random source: the leader stamps time into the
// entry. Replication (cluster) feeds it entries; the front door
// (cluster/door) routes requests by its table's flags and serves reads
// against it.
//
// # The main flow
//
// Raft calls FSM.ApplyBatch (raft.BatchingFSM) from its FSM goroutine with
// committed entries. Under one write lock, each entry's header (entry.go)
// gives its kind, reply mode and the leader's clock; its body is parsed
// with a resp.Reader; each command is looked up in the table and run with a
// Ctx that carries the State, the leader's clock, the reply mode, the
// entry's index and the keys pushed to. ApplyBatch returns one reply per
// command (a []resp.Value for a batch entry), which the proposer receives
// from raft's ApplyFuture.Response, and then reports the keys the batch
// pushed to (WatchPushes, which wakes the door's blocked pops). FSM.Read
// runs a read-only command under the read lock with the serving node's
// clock; FSM.WaitApplied lets a linearizable read wait for an index.
//
// # Commands
//
// A command's table row (Command: name, arity, flags, key positions, Run,
// and for blocking commands Undo, Pops, Sources, Check, TimeoutReply) and
// its function sit side by side in its family's file: strings.go (and
// bits.go, the bit commands), keys.go, lists.go, hashes.go, sets.go (and
// setalgebra.go: SINTER, SUNION, SDIFF), zsets.go (and zsetalgebra.go:
// ZUNION, ZINTER, ZDIFF), mpop.go (LMPOP, ZMPOP and their blocking forms),
// streams.go, sort.go, dump.go (DUMP, RESTORE), object.go (OBJECT,
// MEMORY), tx.go. NewTable registers the
// families and panics on a name registered twice. The flags say how the
// front door routes a command (Write, Read, Blocking); Internal rows are
// written to the log by kvorum itself and never offered to clients:
// KVORUM.EXEC and KVORUM.MODS (tx.go, for MULTI/EXEC and WATCH),
// KVORUM.REAP (keys.go, the expiry sweep) and KVORUM.UNMOVE (a blocking
// move's undo).
//
// Every command runs through Command.call (guard.go), which answers a
// panic with an error reply, logs it and counts it: in apply a panic would
// stop every replica at the same entry, at every restart.
//
// blocking.go holds one attempt of each blocking pop: a write that pops if
// it can and otherwise answers null without changing anything, and the
// rows' Undo functions, the write that gives back what an attempt took
// (RPUSH/LPUSH for BLPOP/BRPOP, KVORUM.UNMOVE for BLMOVE/BRPOPLPUSH; ZADD
// NX for BZPOPMIN/BZPOPMAX is undoBZPop in zsets.go). FSM.AnyToPop is the
// door's look before it proposes an attempt; BlockTimeout and
// Command.BlockArgs refuse what Redis refuses before it blocks. The waiting
// itself is the front door's.
//
// # Log entries
//
// An entry (entry.go, version 1) is a version byte, the entry kind
// (EntryCommand, EntryItems or EntryBatch), the proposing connection's
// reply mode, the leader's clock in Unix ms (8 bytes, big-endian), then
// RESP written with resp.AppendValue: the request for an EntryCommand; for
// an EntryItems (AppendBatchItem, AppendBatchEntry) the count, then each
// command's reply mode and request one after another, so each command
// keeps its connection's reply mode and apply parses one request at a
// time. A session write (KVORUM.SEQ id seq floor command...) is stored as
// :mode :id :seq :seq-floor and the command, without the wrapper's bulk
// strings: the log, every follower and every apply pay for a session
// under half the bytes the wire does; and a write that follows another of
// its session and floor in the same entry (a pipeline) as :mode :delta
// and the command, its seq being delta above the previous one's
// (ItemWriter's run form, written only while every server announces that
// it applies it, as for EntryItems below). EntryBatch, an array of [mode,
// request] pairs, is what earlier versions wrote (AppendPairsItem,
// AppendPairsEntry); it is still applied, so an old log replays, and a
// leader still writes it while any server of its configuration does not
// announce EntryItems (cluster's proposer), since a node of an earlier
// version would skip an entry of a kind it does not know. Otherwise the
// request is stored as the client sent it, so one codec serves the wire,
// the log and snapshots.
//
// # Determinism
//
// Every replica that applies the same entries reaches the same state and
// the same replies. The leader's clock travels in the entry (EXPIRE k 10
// becomes an absolute deadline). No map order is observable: KEYS, SCAN
// and SMEMBERS sort, a hash keeps its fields in insertion order, SPOP
// takes the smallest members. Nothing applied draws a random number: the
// random reads (RANDOMKEY, SRANDMEMBER, ZRANDMEMBER, HRANDFIELD) run on
// the serving node alone, and RANDOMKEY inside EXEC, which the log
// applies, seeds its pick with the entry's index and place, the same on
// every replica. FSM.Expired, which
// samples keys in Go's map order, runs on the leader outside Apply: what it
// picks travels in the log as KVORUM.REAP, which deletes each listed key
// only if its deadline has passed at the entry's time, so a key written
// again meanwhile survives. Reads never return a value past its deadline:
// they compare with the serving node's clock.
//
// # Data types
//
// Strings and the tutorial's nested values are immutable resp.Values,
// replaced on write. A list is an array value, kept as a deque (list.go)
// once a list command changes it, so pushes and pops at either end are
// O(1) amortised. A dict stored with SET is a hash; on its first hash write
// it becomes a container (hash.go: a field index plus an insertion-ordered
// slice, O(1) field operations). A set is a map whose replies are sorted
// (sets.go); a sorted set is a sorted slice plus a score map (zset.go).
// The containers change in place under copy-on-write: a snapshot may still
// be streaming the same entry, so each Entry records the snapshot
// generation it was made in (State.gen), and State.mutable copies an entry
// from an older generation before changing it (once per key per snapshot).
//
// # Snapshots
//
// FSM.Snapshot copies only the key index (an entry is replaced on write,
// or copied before an in-place change), so applies continue while Persist
// streams RESP records (snapshot.go): a header ["kvorum-snapshot", version,
// applied index, key count], one [key, value, expire, last-modified index]
// per key, with an optional fifth field naming the kind of a set (1) or
// sorted set (2), and an ["end", count] record so a truncated file is an
// error. The format is version 2; version 1 files are still read, and an
// unknown version is refused (ErrSnapshotVersion). FSM.Restore builds the
// new state aside and swaps it in under the lock readers take.
package fsm
