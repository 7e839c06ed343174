//go:build kvorum_broken

package door

import (
	"bytes"
	"time"

	"github.com/kvorum/kvorum/resp"
)

// A kvorum_broken build plants a safety bug on purpose, for the chaos
// suite to prove it can fail (test/chaos, TestChaos_CatchesBrokenBuild;
// docs/RELIABILITY.md). Never ship one: `go build -tags kvorum_broken`.
//
// The bug: the leader acknowledges a plain SET as soon as it is proposed,
// before the Raft commit, with a reply computed from its state at that
// moment (SET ... GET answers the value the key holds now, which lacks the
// writes still in flight). An acknowledged SET may then be lost (the
// leader deposed before it commits), and two SETs of one key may both say
// they replaced the same value. Every other write, and every read, is
// served as in a normal build. The normal build's brokenStore
// (broken_off.go) is the identity.

// brokenStore wraps s so that SET is acknowledged early.
func brokenStore(s Store) Store { return earlyAcks{s} }

// earlyAcks is a Store whose Propose acknowledges SET at once.
type earlyAcks struct{ Store }

func (e earlyAcks) Propose(client uint64, mode resp.Mode, args []resp.Value) Proposal {
	p := e.Store.Propose(client, mode, args) // still proposed; its reply is dropped
	if len(args) < 3 || !bytes.EqualFold(args[0].TextBytes(), []byte("SET")) {
		return p
	}
	return &earlyAck{s: e.Store, mode: mode, args: args}
}

// earlyAck is a SET's reply without waiting for its entry.
type earlyAck struct {
	s    Store
	mode resp.Mode
	args []resp.Value
}

// Wait answers +OK, or with SET's GET option the key's value now, and
// index 0 (no entry: no blocked pop to wait for).
func (a *earlyAck) Wait() (resp.Value, uint64, error) {
	for _, opt := range a.args[3:] {
		if bytes.EqualFold(opt.TextBytes(), []byte("GET")) {
			f := a.s.FSM()
			get := []resp.Value{resp.BulkString("GET"), a.args[1]}
			return f.Read(f.Table().Lookup([]byte("GET")), get, time.Now().UnixMilli(), a.mode), 0, nil
		}
	}
	return resp.OK(), 0, nil
}
