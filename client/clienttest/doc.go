// Package clienttest runs fake kvorum nodes in-process, for tests of code
// that uses package client (as net/http/httptest does for HTTP): a Store
// that keeps values in a map, answers the tutorial's commands and keeps
// write sessions (KVORUM.SESSION, KVORUM.SEQ) as kvorum does; a Replica
// (Follower) that answers ROLE, INFO and CLUSTER SHARDS as a follower and
// redirects every other command to its leader; and Start, which serves any
// resp.Handler on 127.0.0.1 at a port the system picks.
//
// The fakes are not kvorum: no Raft, no clock (a session never expires by
// itself: ExpireSession ends one), no command table beyond a dozen
// commands. Tests of the real thing use internal/testcluster. clienttest
// must not import fsm or cluster.
package clienttest
