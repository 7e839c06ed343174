package main

import (
	"bufio"
	"testing"
	"time"
)

// A script that starts a fresh node and talks to it as soon as the port
// answers, with no sleep, gets the tutorial's replies: requests that
// arrive before the first election ends wait for it instead of getting
// -CLUSTERDOWN (cluster/door/firstleader.go).
func TestTutorial_RightAfterStart(t *testing.T) {
	p := launch(t, t.TempDir())
	p.waitServing() // the client port is open: the first election has not ended
	c := dial(t, p.addr)
	br := bufio.NewReader(c.conn)
	for _, step := range tutorialSession {
		c.conn.SetDeadline(time.Now().Add(ioTimeout))
		if _, err := c.conn.Write(pyEncode(nil, step.args)); err != nil {
			t.Fatalf("%s: write: %v", step.py, err)
		}
		got, err := readFrame(br)
		if err != nil {
			t.Fatalf("%s: read reply (got %q so far): %v", step.py, got, err)
		}
		if string(got) != step.reply {
			t.Fatalf("%s right after start:\n got %q\nwant %q", step.py, got, step.reply)
		}
	}
}
