// Package door is kvorum's Redis front door: everything between a parsed
// request and the replicated log. It owns the per-connection sessions, the
// one command registry (fsm's data commands and its own), routing by each
// command's kind, blocking pops and their wake-ups, MULTI/EXEC/WATCH,
// pub/sub, and the connection, server and Redis Cluster emulation
// commands.
//
// It declares what it needs from replication as the small Store interface
// (store.go), which cluster.Node implements and cmd/kvorum-server wires in;
// its tests use a fake Store that applies writes to an fsm.FSM at once
// (fake_test.go), with no Raft. door imports resp and fsm; it must not
// import cluster or raft.
//
// # The main flow
//
// resp.Server hands each parsed request to Door.Serve (door.go), which
// finds its registry row, checks arity, subscribe mode and MULTI, and
// routes it by the row's Kind: a Write is handed to Store.Propose and the
// connection gets a future; a Read waits for Store.ReadIndex and runs
// against the FSM; a Blocking command makes attempts as pushes wake it; a
// Local command is answered here, on any node; a Leader command is
// answered here on the leader alone. Errors from the Store become replies
// through errorValue (writes.go): a *resp.RedirectError or a named
// resp.Error keeps its own wire text, anything else answers UNCERTAIN.
//
// # Routing and the registry
//
// A command's kind is fixed when it is registered, never guessed at
// routing time (registry.go). NewRegistry registers fsm's data commands
// (not its internal ones, which only kvorum logs) with the kind their
// table flags give (Blocking, Write, otherwise Read), then the door's own
// families: connectionCommands (connection.go), serverCommands
// (server.go, with CONFIG in config.go and FUNCTION in function.go),
// txCommands (tx.go), pubsubCommands (pubsub.go), sessionCommands
// (sessions.go), sentinelCommands (sentinel.go), authCommands (auth.go)
// and backupCommands (backup.go: KVORUM.BACKUP and KVORUM.RESTORE). A name
// registered twice is an error, and New panics on it. Flags add routing
// rules: Subscribed (allowed in RESP2 subscribe mode), Queued (a Local
// command queued inside MULTI), InMulti (runs inside MULTI instead of being
// queued). COMMAND (COUNT, INFO, DOCS) reads the same registry.
//
// The door never asks Raft whether it leads: Store.Leading is nil on a node
// that does not lead, and a Write, a Read (outside READONLY), a Blocking or
// a Leader command there gets Store.NotLeading's reply: -MOVED naming the
// leader, -CLUSTERDOWN if none is known, or TRYAGAIN while the node is
// becoming leader.
//
// Writes are not waited for when they are routed (writes.go), so every
// write of a pipelined batch is in flight together and the writes of all
// connections share log entries. A write behind a read of the same
// pipeline (session.reads counts the reads handed out but not yet run) is
// a deferredWrite: it is proposed only when its turn comes, so the read
// sees exactly the writes before it. After READONLY a follower serves
// reads from its own, possibly stale, state (reads.go).
//
// # Blocking pops
//
// A blocking pop (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BZPOPMIN, BZPOPMAX)
// waits on the leader (blocking.go). Each attempt is an ordinary write
// through the log that pops if it can and otherwise changes nothing
// (fsm/blocking.go), so followers apply exactly what the leader did.
// Between attempts the request registers on its source keys; the FSM
// reports the keys each applied batch pushed to (fsm.FSM.WatchPushes,
// registered by New; waiters.notify) and wakes those waiters, which look
// at the local state (fsm.FSM.AnyToPop) and propose a new attempt only if
// there is something to pop. A waiter registers before it looks, so a push
// applied in between still wakes it, and unregisters while its attempt is
// in the log, so its own push (BLMOVE q q) cannot wake it. The wait ends
// with the timeout (the row's TimeoutReply, a null), the client's
// disconnection, or the end of leadership (Store.Leading closes), which
// answers -MOVED so the client re-issues the pop on the new leader: a wait
// is never silently lost. INFO clients reports blocked_clients.
//
// A client that leaves takes nothing. The server does not read a
// connection while the replies of its batch are pending, so on its own it
// would not notice a blocked client going away, and the waiter would pop
// the next item for nobody. A blocking command's reply is therefore
// resp.Blocked: while it waits, the server reads ahead on the socket and
// closes resp.Conn.Gone at the end of the client's stream (a FIN or a
// reset; any close of the connection closes it too). The wait then ends at
// once: the waiter is unregistered, never woken and never proposes an
// attempt, and blocked_clients falls. If the client leaves while an
// attempt is already in the log, the attempt's reply can reach nobody, so
// giveBack proposes the command's Undo (fsm.Command.Undo, a field of the
// command's row in fsm/lists.go and fsm/zsets.go): LPUSH or RPUSH of the
// element at the end it came from for BLPOP and BRPOP; KVORUM.UNMOVE for
// BLMOVE and BRPOPLPUSH, which moves the element back only if it is still
// at the end it was moved to, so an element someone has taken since is
// neither lost nor duplicated; ZADD NX for BZPOPMIN and BZPOPMAX. The undo
// is one log entry. In Redis modes a list element comes back from a reply
// as text, so an integer given back to a list keeps its digits as a
// string.
//
// We give back rather than hold a per-waiter token revoked through the log
// because giving back costs nothing on the common path: no extra entries
// per block. It is safe under a leader change: the undo is an ordinary
// write proposed once by the node that saw the disconnect, never resent.
// If that node loses leadership first, the undo is refused like any write
// (or, cut off in flight, applied once or not at all), and the pop's
// outcome is what it was: the client is gone, and the element is where
// the pop left it (for BLMOVE, in the destination list). What this does
// not cover, a live client whose reply is cut off in flight, is the case
// for client sessions.
//
// Redis's order. A write that wakes waiters answers only after the woken
// waiters have made their attempts: writeFuture.Wait claims the wake its
// entry caused (waiters.claim) and waits for it, at most
// Config.WakeTimeout. So a client that reads right after an RPUSH that fed
// a chain of BLMOVEs sees where the element ended up, as in Redis, where
// woken pops run inside the push. A producer whose push feeds a waiting
// consumer pays one more commit for its reply. Errors Redis answers before
// blocking are answered before blocking: WRONGTYPE for a key of another
// kind (AnyToPop reports it, and the attempt answers it), ERR timeout is
// negative, ERR timeout is not a float or out of range
// (fsm.Command.BlockArgs), and a bad BLMOVE direction (the row's Check).
//
// # Pub/sub
//
// SUBSCRIBE, PSUBSCRIBE and PUBLISH are Leader commands (pubsub.go):
// followers redirect them. Messages go to the leader's subscribers only and
// are neither logged nor replicated (fire-and-forget, as in Redis). When
// the leadership a subscription was made under ends, the door closes its
// subscribers' connections, so their clients reconnect and subscribe at the
// new leader; a message published during the switch can be missed, as with
// any Redis failover. UNSUBSCRIBE and PUNSUBSCRIBE are Local. On a RESP2
// connection in subscribe mode only Subscribed commands run.
// Door.ConnClosed drops a closed connection's subscriptions.
//
// # Plain clients and the end of a leadership
//
// A connection is plain until it sends an Aware command (READONLY,
// READWRITE, CLUSTER, KVORUM.SEQ, KVORUM.SEQS): its client cannot follow -MOVED. The
// first leader's command a plain connection is served binds it to that
// leadership (Door.lead, tenure.go); when the leadership ends the door
// closes it at once, as Sentinel's failover closes a demoted master's
// clients, so Sentinel-aware pools reconnect to the new master. Subscribers
// are bound whatever their client. The smart client (client/) says
// READWRITE on every connection and is redirected instead.
//
// # Follower proxy
//
// With Config.Proxy a follower relays a plain connection to the leader
// (proxy.go) from its first command that needs the leader (a Write, Read,
// Blocking or Leader command, or an Upstream one: MULTI, WATCH, SUBSCRIBE,
// PSUBSCRIBE): it dials the leader, replays the connection's HELLO version
// and name, and hands the socket to a byte relay (resp.Handoff), so every
// later request, ROLE and INFO included, is the leader's and its reply is
// returned unchanged. Leader loss closes the client: the leader closes the
// upstream as it steps down, and the follower closes relays whose leader
// it no longer sees. Aware connections still get -MOVED.
//
// # Transactions
//
// MULTI queues commands on the connection (tx.go); each is checked against
// the registry and answered +QUEUED, and a refused one makes EXEC answer
// EXECABORT (resp.ErrExecAbort). EXEC sends the queued data commands as one
// write, KVORUM.EXEC [key mod ...] [[command ...] ...] (fsm.ExecCommand,
// fsm/tx.go), which goes through Store.Propose like any write and is
// applied in one step, nothing in between. WATCH reads each key's
// last-modified log index through the linearizable read path
// (fsm.ModsCommand); EXEC carries those indexes and the FSM applies
// nothing, answering a null array, if any key's index changed since.
// Because the check happens where the writes are applied, it is exact
// under replication and across failovers. Local commands queued inside
// MULTI (PING, ECHO, SELECT, PUBLISH: the Queued flag on their rows in
// connection.go and pubsub.go) are not logged: their replies depend only
// on their arguments (PUBLISH's, on the leader's subscribers), so the node
// answering EXEC runs them once the entry is applied, after every write of
// the transaction, and splices them into the logged replies in queue order
// (execFuture); a watch failure still answers a null array for the whole
// transaction.
//
// # Client sessions
//
// A client that must be able to resend a write wraps it as KVORUM.SEQ id
// seq floor command... (fsm/sessions.go keeps, per session, the replies not
// yet acknowledged, and answers a repeated (id, seq) with the first one),
// or sends a pipeline of writes as one frame, KVORUM.SEQS id first floor
// count and count plain requests, which the door serves as the wrapped
// requests they stand for (the header has no reply of its own).
// The door routes the wrapped request by the command inside it
// (sessions.go): a write, and each attempt of a blocking pop, is proposed
// wrapped; EXEC wraps its entry, one seq for the transaction; reads and
// local commands are served bare. A session's blocking pop always proposes
// its first attempt, since it may be a resend whose item waits in the
// session, and a session's pop is not given back when its client leaves:
// the item waits in the session for the resend.
//
// # Sentinel
//
// Every node answers the Sentinel API (SENTINEL masters, master,
// get-master-addr-by-name, replicas/slaves, sentinels, ckquorum, myid) for
// one master name (Config.SentinelMaster), the Raft leader, so plain Redis
// clients configured for Sentinel (redis-py, RQ, Celery) find the leader
// and find it again after a failover (sentinel.go). A SUBSCRIBE naming only
// Sentinel event channels ('+switch-master') is served by any node, which
// publishes its own view of master switches (sentinel_events.go).
//
// The door's own goroutines (these watches) belong to one group (group.go)
// that Door.Close stops and waits for.
//
// # Connection, server and cluster commands
//
// PING, ECHO, SELECT, HELLO, QUIT, CLIENT, READONLY, READWRITE, COMMAND and
// TIME (connection.go) and INFO, ROLE, CLUSTER and KVORUM.MEMBERS
// (server.go) are Local. CLUSTER (clustermode.go) describes one shard
// owning every slot whose master is the Raft leader, from Store.Status, so
// cluster-aware clients (redis-cli -c, go-redis ClusterClient, redis-py
// RedisCluster) find the leader with no kvorum-specific code.
package door
