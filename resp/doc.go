// Package resp is kvorum's one wire codec and its generic connection server.
//
// It exists so that the server, the smart client, the Raft log and the
// snapshot files all read and write exactly the same bytes through exactly the
// same code: a Value type for every RESP2/RESP3 kind kvorum speaks (including
// the tutorial's '%' dict), a Reader that parses requests and replies with
// limits checked before anything is allocated for a declared length, append-
// style encoders that shape a reply for the connection's mode (native, resp2,
// resp3), the named errors (WRONGTYPE, TRYAGAIN, ...) and the typed
// redirect error (-MOVED / -CLUSTERDOWN) that the server builds and the
// client parses and matches with errors.Is, and a Server that accepts
// connections, pipelines requests into a Handler and writes the replies
// back in order with one flush per batch.
//
// resp must not import anything of kvorum's command table (fsm), the cluster
// or Raft: it knows bytes and values, never what a command means.
package resp
