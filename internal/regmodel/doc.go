// Package regmodel is the porcupine model of kvorum's keys as registers,
// written once for every linearizability check: cluster's in-process test
// (cluster_test) and the chaos test on real processes (test/chaos).
//
// The model is a map of independent registers, partitioned by key, so
// porcupine checks each key's history on its own. A read (GET k) must see
// the register's value; a key never written reads as "". A write is
// SET k v GET: it sets the register to v and returns the value it
// replaced, so an acknowledged write is checked too. A write whose outcome
// the client could not learn is recorded with Output{Unknown: true} and
// Return math.MaxInt64: it may take effect at any point after its call, or
// never. A read that failed observed nothing and is left out of the history.
//
// It imports only porcupine and the standard library: no client, no
// cluster, so both the in-process and the process-level tests may use it.
package regmodel
