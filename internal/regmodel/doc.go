// Package regmodel is the porcupine model of kvorum's keys as registers,
// written once for every linearizability check: cluster's in-process test
// (cluster_test) and the chaos test on real processes (test/chaos).
//
// The model is a map of independent registers, partitioned by key, so
// porcupine checks each key's history on its own. A read (GET k) must see
// the register's value; a key never written reads as "". A write is
// SET k v GET: it sets the register to v and returns the value it
// replaced, so an acknowledged write is checked too. A compare-and-set is
// WATCH k, GET k and, if that read the expected value, MULTI, SET k v,
// EXEC: it swaps (EXEC ran the SET), or it read another value (a read),
// or its EXEC answered nil (the register no longer held the expected
// value). A write or CAS whose outcome the client could not learn is
// recorded with Output{Unknown: true} and Return math.MaxInt64: it may
// take effect at any point after its call, or never. A read that failed
// observed nothing and is left out of the history.
//
// The model assumes every write writes a value never written before, as
// the tests' workloads do: that is what makes a CAS's nil EXEC checkable.
//
// It imports only porcupine and the standard library: no client, no
// cluster, so both the in-process and the process-level tests may use it.
package regmodel
