// Package fsm is kvorum's data: the keyspace, the command table with one
// file per command family, the Raft log-entry encoding, and snapshots.
//
// Everything here is deterministic. A command runs against a State with a
// Ctx that carries the leader's clock (stamped into the log entry when it
// was proposed) and the reply mode, so every replica that applies the same
// entry reaches the same state and the same reply. The package imports no
// net and never calls time.Now or a random source; the cluster package
// feeds it entries and stamps time.
//
// To find a command: its table row (name, arity, flags, keys) and its
// function sit side by side in the family's file: strings.go, keys.go, ...
package fsm
