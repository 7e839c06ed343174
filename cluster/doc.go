// Package cluster is kvorum's replication: one node's Raft (raft-boltdb log
// and stable store, file snapshots, TCP transport), memberlist gossip for
// discovery and bootstrap, the leader-only reconcile loop that feeds
// membership into the Raft configuration, and the leadership object that
// starts and stops everything leader-only: the proposer, the read gate, the
// reconcile loop and the expiry sweep. It names no Redis command: the Redis
// front door is package cluster/door, and Node serves it as a door.Store.
//
// cluster imports resp, fsm, cluster/door (for the Store interface and its
// types only), hashicorp/raft, raft-boltdb and memberlist. Nothing imports
// cluster but cmd/kvorum-server, internal/testcluster and tests.
//
// # The main flow
//
// cmd/kvorum-server builds a Node with New (stores opened, listeners bound,
// Raft started), builds the front door on it with door.New, and calls
// Node.Start(front), which serves clients through a resp.Server. The door
// hands each write to Node.Propose and each linearizable read to
// Node.ReadIndex (frontdoor.go); on the leader both go to the current
// term's proposer and read gate; a write becomes part of a log entry, Raft
// replicates it, and fsm.FSM.ApplyBatch applies it on every node and
// returns its reply to the proposer.
//
// # Leadership
//
// office (office.go) is this node's leadership, one tenure per Raft term,
// on Consul's establishLeadership/revokeLeadership pattern. office.run
// follows Raft's leadership notifications. On each one it revokes the
// current tenure; if the node leads, establish applies a barrier, so every
// entry of earlier terms is applied before the node serves a read, and then
// starts the term's loops: the proposer (proposer.run and
// proposer.complete), the read gate (readGate.run), the reconcile loop and
// the expiry sweep. Only then is the tenure current: Node.Leading returns
// its lost channel, Node.Ready reports true. revoke closes lost (the door's
// blocked pops and subscribers watch it), stops the loops and waits for
// them; writes queued but not sent and reads waiting for a round fail with
// NotLeading's error. "Do I lead?" has one answer, office.current.
//
// # Write path
//
// Node.Propose hands a write to the term's proposer (proposer.go); a node
// without a tenure returns a Proposal whose Wait fails with NotLeading's
// error. The proposer gathers the writes of every connection into one log
// entry (fsm.EntryItems, built with fsm.AppendBatchItem and
// fsm.AppendBatchEntry): a version byte, the entry kind, the leader's clock
// in ms, the count, then each write's mode and request (a session write's
// numbers as integers, fsm/entry.go). It keeps one entry in
// flight (maxInflight); everything that arrives while it commits joins the
// next one (up to maxBatchItems writes or maxBatchBytes), so the batch
// grows with the load and with the commit latency. One entry is one bolt
// transaction (one disk sync) on each node and one replication round for
// all of its writes. hashicorp/raft's own grouping (BatchApplyCh, left on)
// only joins Apply calls queued at the same instant; with one-command
// clients each entry would otherwise carry about one write. Once an entry
// commits, the next one lingers (up to one commit's time) for the clients
// the first just answered, while those tend to write again at once, so
// that clients with one write outstanding all share each entry instead of
// splitting into two groups that take turns.
//
// proposer.run sends an entry with raft.Apply, bounded by
// Config.ApplyTimeout; proposer.complete resolves entries in log order, and
// each write's batchedWrite.Wait returns its reply (one of the []resp.Value
// that fsm.FSM.ApplyBatch returned for the entry) and the entry's index.
// INFO's # Raft section (Node.Status) reports raft_commands_per_batch, and
// raft_entries_per_write from the counting log store (store.go).
//
// A failed write is translated by Node.writeError (redirect.go) into an
// error that says whether a retry is safe: never sent, or refused with
// raft.ErrNotLeader → NotLeading's error (a *resp.RedirectError naming the
// leader, resp.ErrNoLeader, or TRYAGAIN while this node is becoming
// leader); raft.ErrEnqueueTimeout → TRYAGAIN (not applied); leadership lost
// in flight, shutdown or anything else → UNCERTAIN (it may or may not have
// been applied).
//
// # Read gate
//
// Reads on the leader are linearizable (reads.go, ReadIndex style). The
// term's readGate batches concurrent reads: one round records the commit
// index, confirms leadership with a quorum (raft VerifyLeader) and checks
// that the term has not changed; every read of the round then waits until
// the FSM has applied that index (fsm.FSM.WaitApplied) and runs against
// local state. Reads that arrive while a round is in flight join the next
// one. An index at or below the term's barrier is already applied. A
// deposed or partitioned leader fails VerifyLeader and the read gets
// NotLeading's error; a read whose batch waits longer than
// Config.ReadTimeout (one timer per batch, not per read) gets TRYAGAIN; a
// read whose client left gives up. A leader that is the only
// voter skips the round, since no other node can lead without its vote
// (the tenure's soleVoter flag, set at establish and after every reconcile
// pass). Node.ReadIndex on a node without a tenure returns a wait that
// fails with NotLeading's error.
//
// # Expiry
//
// Reads never return a value past its deadline (fsm compares with the
// serving node's clock), but memory is freed through the log, so every
// replica deletes the same keys. The term's expiry sweep (expiry.go) runs
// every Config.ExpiryInterval (1s by default): it asks
// fsm.FSM.ExpiredRequest for the write that deletes up to 256 keys past
// their deadline and proposes it through the proposer like any write,
// again while full batches come back. The FSM deletes each listed key only
// if its deadline has passed at the entry's time, so a key written again
// meanwhile survives.
//
// # Discovery, bootstrap and membership
//
// Nodes gossip with memberlist (gossip.go). Each member's metadata is a
// small RESP array [version, id, raft address, client address, flags]
// (encodeMeta, decodeMeta in members.go), validated on receipt: bad
// metadata is logged and the member ignored. Memberlist callbacks only
// update the member registry under a mutex and signal Node.notify; they
// never block. joinLoop contacts the Config.Join seeds with capped backoff
// until another member answers.
//
//   - Bootstrap. A node with no Raft state, BootstrapExpect of at most 1
//     and no Join seeds bootstraps a one-node cluster in Node.Start. With
//     BootstrapExpect N > 1, bootstrapLoop (reconcile.go) waits until it
//     sees N alive members without state, then bootstraps all of them,
//     sorted by id. Every such node computes the same configuration, which
//     raft accepts on each, so exactly one cluster forms. If any member
//     already has state, a cluster exists and the node waits to be added. A
//     node with state never bootstraps.
//   - Reconcile (reconcileLoop and reconcile in reconcile.go, Consul's
//     pattern). One of the term's loops, so it runs only on the leader: on
//     every membership event and every Config.ReconcileInterval it adds
//     alive members missing from the Raft configuration as voters, removes
//     members that left gracefully, and removes failed members only after
//     Config.ReapAfter (72h by default). It never removes this node and
//     removes at most one server per pass. With Config.RaftTLS (mutual
//     TLS on Raft, tlslayer.go) a member is added, and counted at
//     bootstrap, only after it completes a mutual TLS handshake at its
//     Raft address: gossip alone admits no voter. With a gossip key,
//     gossip membership is itself the proof of the cluster secret.
//   - Graceful leave. Memberlist does not tell a leave from a failure in
//     its callback, so leaveGossip first announces the intent in this
//     node's metadata, then leaves; the leader's reconcile loop then
//     removes it.
//
// # Storage
//
// openStores (store.go) opens raft.db (bolt) and the snapshot store under
// Config.DataDir. A second process on the same directory fails at once
// with ErrDataDirLocked. At start-up checkLatestSnapshot opens the newest
// snapshot (raft's file store checks its CRC): a corrupt one stops the
// node with its path rather than silently falling back to an older one.
// The snapshot format is fsm's.
//
// # Shutdown order
//
// Node.Close: close the client listener and every client connection
// (resp.Server.Close, which waits for the requests in flight to finish);
// transfer leadership if this node leads and other voters exist; leave
// gossip, announcing a leave first if Node.Leave was called (then the
// leader removes the node from Raft; after Close the node stays a voter
// unless it stays failed for Config.ReapAfter); stop the node's loops, which revokes the tenure; snapshot if the
// log has grown by more than half Config.SnapshotThreshold since the last
// snapshot; shut Raft down; close the transport and the bolt store. Close
// is idempotent and waits for every goroutine the node started.
// cmd/kvorum-server closes the door after the node. Node.Kill stops the
// node as a crash would: no transfer, no leave, no snapshot.
package cluster
