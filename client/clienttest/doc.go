// Package clienttest runs fake kvorum nodes in-process, for tests of code
// that uses package client (as net/http/httptest does for HTTP): a Store
// that keeps values in a map and answers the tutorial's commands, a
// Follower that redirects every command to a leader, and Start, which
// serves any resp.Handler on 127.0.0.1 at a port the system picks.
//
// The fakes are not kvorum: no Raft, no command table beyond a dozen
// commands. Tests of the real thing use internal/testcluster. clienttest
// must not import fsm or cluster.
package clienttest
