// Package door is kvorum's Redis front door: everything between a parsed
// request and the replicated log. It owns the per-connection sessions, the
// one command registry (fsm's data commands and its own), routing by each
// command's kind, MULTI/EXEC/WATCH, pub/sub, blocking pops and their
// wake-ups, and the connection, server and Redis Cluster emulation
// commands.
//
// The one main flow: resp.Server hands a request to Door.Serve, which finds
// its registry row and routes it by kind: a Write is proposed through
// Store.Propose, a Read waits for Store.ReadIndex and runs against the FSM,
// a Blocking command retries writes as pushes wake it, a Local command is
// answered here, a Leader command is answered here on the leader alone.
//
// It declares what it needs from replication as the small Store interface
// (store.go), which cluster.Node implements and cmd/kvorum-server wires in.
// It imports resp and fsm; it must not import cluster or raft.
package door
