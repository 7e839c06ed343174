// Package resptest is a raw RESP client for tests, and the blocking-list
// workloads that run on it against any address that speaks kvorum: one
// cluster/door on a fake store (package door_test) or the leader of a real
// cluster (package cluster_test). Both test packages share it, so that a
// workload is written once and runs the same on one node and on three.
//
// It sends requests with resp.AppendCommand and reads replies with
// resp.Reader, one connection at a time, with no redirects, retries or
// pooling: a test sees exactly what the server wrote. Use package client for
// what a real caller would do.
//
// It is for tests only: helpers take a testing.TB and fail it. resptest
// imports only resp and the standard library. It must not import cluster,
// cluster/door, raft or internal/testcluster, so that the door's tests stay
// off Raft.
package resptest
