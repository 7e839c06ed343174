// Package exactlyonce drives the exactly-once queue workload of kvorum's
// fault tests and accounts for every job: producers Push unique jobs,
// consumers Reserve and Ack them, and meanwhile the caller's Kill and
// Restart take the leader down and bring it back, several times. Run then
// says which pushes were acknowledged, which calls ended with an unknown
// outcome, and which jobs were lost, duplicated or left in a list.
//
// It serves two tests with one workload: test/e2e's docker-compose test
// (docker kill) and cmd/kvorum-server's local-process test (kill -9).
// Like package e2e it imports only the client side (package client),
// never cluster or fsm, and not testing: the tests judge the Result.
//
// Main flow (Run): producers and consumers start at once; a gate lets the
// producers run a little past each kill point, so every kill lands with
// pushes in flight; at each point Run calls Kill, then Restart, then opens
// the gate further. Once the producers are done, each consumer stops at
// its first empty Reserve begun after that; Run then reads both lists
// through the cluster and accounts for every job.
package exactlyonce
