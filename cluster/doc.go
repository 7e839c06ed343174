// Package cluster is one kvorum node: Raft (raft-boltdb log and stable
// store, file snapshots, TCP transport), memberlist gossip for discovery and
// bootstrap, the leader-only reconcile loop that feeds membership into the
// Raft configuration, and the client front door: on the leader, writes are
// proposed to the log and reads are served after a batched leadership
// check; on a follower, data commands are redirected to the leader.
//
// The data flow: resp.Server hands a parsed request to Node.Serve (door.go);
// writes become fsm log entries applied by raft; reads go through the read
// gate (reads.go); connection and admin commands live in admin.go.
//
// cluster imports resp and fsm; nothing imports cluster but cmd/ and tests.
package cluster
