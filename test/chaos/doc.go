// Package chaos runs kvorum as three real kvorum-server processes on
// loopback and checks what clients see while a nemesis breaks them: kill -9
// and restart with data kept, SIGSTOP/SIGCONT pauses longer than the
// election timeout, Raft partitions (a node isolated in both directions,
// only its outbound links cut, or a bridge: the leader cut from one
// follower while the third node hears both), slow Raft links (every chunk to and
// from a node held back 50-200 ms), a follower's data directory wiped (it
// rejoins from the leader's log or a snapshot), and a rolling restart
// (SIGTERM, each node in turn).
//
// Partitions need no privileges: each node advertises a TCP proxy the test
// runs as its Raft address (--advertise-raft), so every Raft connection to
// a node passes through that node's proxy. Loopback connections all come
// from 127.0.0.1, so the proxy learns a connection's sender from the
// RPCHeader of its first Raft request; knowing both ends, the three proxies
// can cut or slow any directed link (see proxy). Gossip is not proxied, so
// memberlist keeps seeing every node.
//
// TestChaos_Netns (KVORUM_FAULTS=1, root) runs the same schedules with
// each node in a network namespace of its own on a bridge, the cuts made
// by iptables DROP rules (silent losses, gossip included; netns_test.go);
// slow steps are skipped there (no netem qdisc on these kernels).
//
// The package has no non-test code. TestMain builds kvorum-server once per
// run; each schedule starts three processes (each in its own process group,
// killed in t.Cleanup) with their own data directories. Three workloads run
// through plain RESP connections that follow -MOVED, with no sessions, so a
// write cut off in flight has an unknown outcome, as it does for redis-cli
// or redis-py:
//
//   - registers: GET, SET k v GET and a compare-and-set (WATCH k, GET k,
//     then MULTI, SET k v, EXEC if it read the expected value, else
//     UNWATCH) over a few rotating keys, checked with porcupine's register
//     model (internal/regmodel) under a time cap (keys rotate so no key
//     sees more than about 1,000 operations); an illegal history writes
//     porcupine's HTML visualization to a temporary file;
//   - a queue: producers RPUSH unique items (resending after a failure),
//     consumers BLMOVE them to a processing list, then LREM them; at the end
//     every acknowledged push is consumed exactly once or still in a list,
//     nothing appears that was never pushed, and an item appears more than
//     once only if a push of it had an unknown outcome;
//   - counters: INCR, whose final value lies between the acknowledged
//     increments and those plus the unknown ones, and whose acknowledged
//     replies are distinct.
//
// Two workloads run through the smart client (package client, with its
// write sessions) on keys of their own, never resending anything
// themselves, each call with 10 s of its own: the queue (Push, Reserve,
// Ack), whose check then allows no duplicate unless a call ended with
// client.ErrUnknownOutcome; and counters (INCR through Do), whose final
// value must equal the acknowledged INCRs exactly when no call ended so,
// with the same distinct-replies check.
//
// One runs through unmodified redis-py: testdata/redispy_registers.py,
// run by Debian's /usr/bin/python3 (skipped, with a note, if it cannot
// import redis), GET through redis.RedisCluster and SET k v GET through
// plain redis.Redis connections that follow -MOVED themselves (RedisCluster
// resends a command after a broken connection, so writes cannot use it),
// on keys of its own. It writes one JSON line per operation, with
// CLOCK_MONOTONIC times the Go side shifts onto the run's clock; the lines
// become a register history checked like the plain registers' (its own
// verdict and visualization). The process is killed if it has not ended
// 30 s after the run.
//
// TestPausedLeader_NeverServesStaleOrAcksLostWrite is the stale-leader
// trap on its own: a leader stopped with a GET and a SET in its sockets,
// a new leader's write, then SIGCONT.
//
// TestChaos_CatchesBrokenBuild (KVORUM_FAULTS=1) proves the suite can
// fail: it runs schedules against a server built with -tags
// kvorum_broken (cluster/door/broken.go: SET acknowledged before it
// commits) and fails unless the register checker finds the history
// illegal and writes the visualization.
//
// The nemesis's schedule comes from a seed (printed; KVORUM_CHAOS_SEED
// replays it): the same seed gives the same fault kinds, targets by role
// (leader or which follower), holds and gaps. Which node leads when a step
// fires is the cluster's own doing, so the node a step hits may differ
// between replays.
//
// The seed also picks the Raft log store (--raft-log-store: boltdb for an
// even seed, wal for an odd one; KVORUM_CHAOS_STORE forces one), so a run
// of several schedules covers both stores.
//
// Each run logs a one-line summary and writes a JSON report (schedule,
// faults, operations ok/failed/unknown, verdicts, failover times) to a
// temporary directory. `go test ./test/chaos/` runs one short schedule;
// KVORUM_CHAOS_RUNS=n and KVORUM_CHAOS_DURATION=d run n schedules of d
// each. docs/RELIABILITY.md records the runs made.
//
// It imports the resp codec, the client, porcupine, hashicorp/raft's
// request types (for the proxy) and x/sys/unix (CLOCK_MONOTONIC), never
// cluster or fsm: what it checks is what a client sees.
package chaos
