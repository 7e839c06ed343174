package main

import "testing"

// A script that starts a fresh node and talks to it as soon as the port
// answers, with no sleep, gets the tutorial's replies: requests that
// arrive before the first election ends wait for it instead of getting
// -CLUSTERDOWN (cluster/door/firstleader.go).
func TestTutorial_RightAfterStart(t *testing.T) {
	p := launch(t, t.TempDir())
	p.waitServing() // the client port is open: the first election has not ended
	tutorialOneAtATime(t, p.addr)
}
