// Package e2e holds kvorum's end-to-end tests: the docker-compose cluster
// of the repository root, driven from the host through Docker and the
// published client ports.
//
// The tests run only with KVORUM_E2E=1 (.ci/run sets it when Docker is
// available), so `go test ./...` passes on a machine without Docker. They
// build the image with scripts/image.sh, start the cluster under a random
// compose project name on free host ports, and remove every container,
// network and volume they created, even when they fail.
//
// The tests: a leader's container killed and restarted
// (TestCompose_FailoverAndRejoin); taken off the compose network with
// docker network disconnect and put back
// (TestCompose_LeaderNetworkDisconnected); and the exactly-once queue
// through two kills (TestCompose_ExactlyOnceQueue).
//
// The package has no non-test code; it imports only the client side
// (client, resp), never cluster or fsm: what it checks is what a user sees.
// Its subpackage exactlyonce is the exactly-once queue workload (producers
// Push, consumers Reserve and Ack, the leader killed and restarted
// meanwhile), shared with cmd/kvorum-server's local-process test.
package e2e
