package chaos

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"syscall"
	"time"

	"github.com/anishathalye/porcupine"
)

// Fault kinds.
const (
	faultKill  = "kill"  // kill -9, down for Hold, restarted on its data
	faultPause = "pause" // SIGSTOP for Hold (longer than the 500 ms election timeout), then SIGCONT
	faultWipe  = "wipe"  // a follower killed, its data dir emptied, restarted after Hold; it rejoins
	faultRoll  = "roll"  // rolling restart: each node SIGTERMed and restarted in turn, the leader last
	// faultPartition isolates a node's Raft traffic in both directions for Hold.
	faultPartition = "partition"
	// faultOneWay cuts a node's outbound Raft links for Hold: it still
	// receives and answers its peers' requests.
	faultOneWay = "oneway"
	// faultSlow delays every chunk of a node's Raft traffic, both ways,
	// by Delay for Hold.
	faultSlow = "slow"
	// faultBridge cuts the Raft link, both ways, between the leader and one
	// follower for Hold: the third node still hears both, so the cut
	// follower's elections meet a majority that has a leader (a bridge).
	faultBridge = "bridge"
)

// faultKinds are the fault kinds, in the report's order.
var faultKinds = []string{faultKill, faultPause, faultPartition, faultOneWay, faultBridge, faultSlow, faultWipe, faultRoll}

// step is one planned fault. The plan depends only on the seed and the
// run's length; Leader and Pick name the target by role.
type step struct {
	Gap    time.Duration `json:"gap"`  // pause before the fault (pacing)
	Kind   string        `json:"kind"` // a fault kind
	Leader bool          `json:"leader,omitempty"`
	Pick   int           `json:"pick,omitempty"` // which follower, in node order, if not the leader
	Hold   time.Duration `json:"hold"`
	Delay  time.Duration `json:"delay,omitempty"` // slow: each chunk's delay
}

// plan returns the nemesis's schedule for a run of length d: steps until
// their gaps and holds (plus a second each for recovery) fill d. Leader
// targets are twice as likely as follower ones.
func plan(seed uint64, d time.Duration) []step {
	rng := rand.New(rand.NewPCG(seed, 0x6e656d))
	ms := func(lo, hi int) time.Duration { return time.Duration(lo+rng.IntN(hi-lo)) * time.Millisecond }
	var steps []step
	for total := time.Duration(0); total < d; {
		s := step{Gap: ms(300, 800), Pick: rng.IntN(2)}
		switch r := rng.IntN(24); {
		case r < 5:
			s.Kind, s.Leader, s.Hold = faultKill, rng.IntN(3) < 2, ms(300, 1500)
		case r < 10:
			s.Kind, s.Leader, s.Hold = faultPause, rng.IntN(3) < 2, ms(1000, 2500)
		case r < 14:
			s.Kind, s.Leader, s.Hold = faultPartition, rng.IntN(3) < 2, ms(1000, 2500)
		case r < 16:
			s.Kind, s.Leader, s.Hold = faultOneWay, rng.IntN(3) < 2, ms(1000, 2500)
		case r < 18:
			s.Kind, s.Leader, s.Hold, s.Delay = faultSlow, rng.IntN(3) < 2, ms(1000, 2500), ms(50, 200)
		case r < 20:
			s.Kind, s.Hold = faultWipe, ms(300, 1000)
		case r < 22:
			s.Kind, s.Leader, s.Hold = faultBridge, rng.IntN(3) < 2, ms(1000, 2500)
		default:
			s.Kind, s.Hold = faultRoll, 0
		}
		steps = append(steps, s)
		total += s.Gap + s.Hold + time.Second
	}
	return steps
}

// fault is one applied step, as the report shows it. Times are seconds
// since the run began.
type fault struct {
	Step     int     `json:"step"`
	Kind     string  `json:"kind"`
	Node     string  `json:"node"`
	Role     string  `json:"role"`
	At       float64 `json:"at_s"`
	Healed   float64 `json:"healed_s"`             // the fault undone and a leader serving
	Failover float64 `json:"failover_s,omitempty"` // leader faults: to another node leading and serving
	Rejoined float64 `json:"rejoined_s,omitempty"` // wipe: to the wiped node caught up
	DelayMS  int     `json:"delay_ms,omitempty"`   // slow: each chunk's delay
	Peer     string  `json:"peer,omitempty"`       // bridge: the node cut from Node
	Skipped  string  `json:"skipped,omitempty"`    // why the step was not applied (slow, without a means to slow)
	Terms    int     `json:"terms,omitempty"`      // slow: Raft terms begun from the fault to settled (elections)
	Err      string  `json:"error,omitempty"`
}

// nemesis applies a plan to a cluster on the test goroutine.
type nemesis struct {
	c      *cluster
	clock  *clock
	faults []fault
	notes  []porcupine.Annotation
}

// run applies steps in order until ctx ends or the next step might not
// finish before end (each step is healed before the next starts).
func (n *nemesis) run(ctx context.Context, steps []step, end time.Time) {
	for i, s := range steps {
		if time.Until(end) < s.Gap+s.Hold+3*time.Second || ctx.Err() != nil {
			return
		}
		time.Sleep(s.Gap) // pacing
		lctx, cancel := context.WithTimeout(ctx, startTimeout)
		leader, err := n.c.leader(lctx, nil)
		cancel()
		if err != nil {
			n.faults = append(n.faults, fault{Step: i, Kind: s.Kind, At: n.clock.since().Seconds(), Err: err.Error()})
			n.c.t.Errorf("nemesis step %d: no leader before the fault: %v", i, err)
			return
		}
		target, role := leader, "leader"
		if !s.Leader || s.Kind == faultWipe {
			target, role = n.c.others(leader)[s.Pick], "follower"
		}
		f := fault{Step: i, Kind: s.Kind, Node: target.id, Role: role, At: n.clock.since().Seconds()}
		began, start := time.Now(), n.clock.now()
		// A step that has begun runs to its heal and settles even if the
		// run ends meanwhile (a rolling restart can outlast the time left,
		// and the final checks need a healed cluster): its waits have
		// deadlines of their own.
		ctx := context.WithoutCancel(ctx)
		switch s.Kind {
		case faultKill, faultWipe:
			err = n.kill(ctx, &f, target, role == "leader", s.Hold, s.Kind == faultWipe)
		case faultPause:
			err = n.pause(ctx, &f, target, role == "leader", s.Hold)
		case faultPartition, faultOneWay:
			err = n.partition(ctx, &f, target, role == "leader", s.Hold, s.Kind == faultOneWay)
		case faultSlow:
			err = n.slow(ctx, &f, target, leader, s.Hold, s.Delay)
		case faultBridge:
			other := leader
			if target == leader {
				other = n.c.others(leader)[s.Pick]
			}
			f.Peer = other.id
			err = n.bridge(ctx, target, other, s.Hold)
		case faultRoll:
			f.Node, f.Role = "all", "all"
			err = n.roll(ctx, leader)
		}
		f.Healed = time.Since(began).Seconds()
		if err != nil {
			f.Err = err.Error()
			n.c.t.Errorf("nemesis step %d (%s %s %s): %v", i, s.Kind, role, target.id, err)
		}
		n.faults = append(n.faults, f)
		n.notes = append(n.notes, porcupine.Annotation{Tag: "nemesis", Start: start, End: n.clock.now(),
			Description: fmt.Sprintf("%s %s %s", s.Kind, role, f.Node)})
		if err != nil {
			return
		}
	}
}

// kill kills nd (kill -9), optionally wipes its data, and restarts it
// after hold; it waits for a leader and, after a wipe, for nd to catch up.
func (n *nemesis) kill(ctx context.Context, f *fault, nd *node, wasLeader bool, hold time.Duration, wipe bool) error {
	began := time.Now()
	n.c.stop(nd, syscall.SIGKILL)
	if wipe {
		n.c.wipe(nd)
	}
	if wasLeader {
		if err := n.failover(ctx, f, nd, began); err != nil {
			return err
		}
	}
	time.Sleep(time.Until(began.Add(hold))) // pacing: the node stays down for hold
	n.c.launch(nd)
	return n.settle(ctx, f, nd, began, wipe)
}

// pause stops nd (SIGSTOP) for hold, then continues it, and waits until it
// follows (a paused leader must step down) and has caught up.
func (n *nemesis) pause(ctx context.Context, f *fault, nd *node, wasLeader bool, hold time.Duration) error {
	began := time.Now()
	n.c.signal(nd, syscall.SIGSTOP)
	if wasLeader {
		if err := n.failover(ctx, f, nd, began); err != nil {
			n.c.signal(nd, syscall.SIGCONT)
			return err
		}
	}
	time.Sleep(time.Until(began.Add(hold))) // pacing: the node stays stopped for hold
	n.c.signal(nd, syscall.SIGCONT)
	return n.settle(ctx, f, nd, began, wasLeader)
}

// partition isolates nd (or cuts only its outbound links) for hold,
// heals, and waits until nd follows a leader and has caught up. An
// isolated leader must be replaced; a leader whose outbound links alone
// are cut is usually replaced too (it cannot send heartbeats), and its
// successor's requests reach it.
func (n *nemesis) partition(ctx context.Context, f *fault, nd *node, wasLeader bool, hold time.Duration, oneWay bool) error {
	began := time.Now()
	if oneWay {
		n.c.cutOutbound(nd)
	} else {
		n.c.isolate(nd)
	}
	defer n.c.heal()
	if wasLeader && !oneWay {
		if err := n.failover(ctx, f, nd, began); err != nil {
			return err
		}
	}
	time.Sleep(time.Until(began.Add(hold))) // pacing: the cut lasts hold
	n.c.heal()
	return n.settle(ctx, f, nd, began, true)
}

// bridge cuts the Raft link between a and b, both ways, for hold, heals,
// and waits for a leader with both a and b caught up. One of them leads
// when the cut begins; the leader may keep leading (the third node still
// hears it and refuses the cut follower's pre-votes) or lose to an
// election the cut follower forces; either way no acknowledged write may
// be lost and no read may be stale.
func (n *nemesis) bridge(ctx context.Context, a, b *node, hold time.Duration) error {
	began := time.Now()
	n.c.cut(a, b)
	defer n.c.heal()
	time.Sleep(time.Until(began.Add(hold))) // pacing: the cut lasts hold
	n.c.heal()
	if err := n.settle(ctx, nil, a, began, true); err != nil {
		return err
	}
	return n.settle(ctx, nil, b, began, true)
}

// slow delays nd's Raft traffic by delay for hold, heals, and waits for a
// leader and for nd to follow it caught up (unless nd leads). No failover
// is waited for: a slowed leader may keep leading, or lose its lease
// (250 ms) when its heartbeats' round trips take longer, and win again;
// f.Terms counts the elections.
func (n *nemesis) slow(ctx context.Context, f *fault, nd, leader *node, hold, delay time.Duration) error {
	began := time.Now()
	before, _ := raftField(leader.client, "raft_term")
	f.DelayMS = int(delay.Milliseconds())
	if err := n.c.slow(nd, delay); errors.Is(err, errCannotSlow) {
		f.Skipped = err.Error()
		return nil
	}
	defer n.c.heal()
	time.Sleep(time.Until(began.Add(hold))) // pacing: the delay lasts hold
	n.c.heal()
	if err := n.settle(ctx, f, nd, began, true); err != nil {
		return err
	}
	lctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	if now, err := n.c.leader(lctx, nil); err == nil {
		after, _ := raftField(now.client, "raft_term")
		t0, err0 := strconv.Atoi(before)
		t1, err1 := strconv.Atoi(after)
		if err0 == nil && err1 == nil {
			f.Terms = t1 - t0
		}
	}
	return nil
}

// roll restarts every node in turn with SIGTERM, followers first, waiting
// for a leader and for the node to catch up after each.
func (n *nemesis) roll(ctx context.Context, leader *node) error {
	order := append(n.c.others(leader), leader)
	for _, nd := range order {
		n.c.stop(nd, syscall.SIGTERM)
		n.c.launch(nd)
		if err := n.settle(ctx, nil, nd, time.Now(), true); err != nil {
			return fmt.Errorf("rolling restart of %s: %w", nd.id, err)
		}
	}
	return nil
}

// failover waits for a node other than down to lead and serve, and
// records the time since began.
func (n *nemesis) failover(ctx context.Context, f *fault, down *node, began time.Time) error {
	lctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	if _, err := n.c.leader(lctx, down); err != nil {
		return fmt.Errorf("failover from %s: %w", down.id, err)
	}
	f.Failover = time.Since(began).Seconds()
	return nil
}

// settle waits for a leader that serves and, if catchUp, for nd to follow
// it with everything applied (unless nd leads).
func (n *nemesis) settle(ctx context.Context, f *fault, nd *node, began time.Time, catchUp bool) error {
	lctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	leader, err := n.c.leader(lctx, nil)
	if err != nil || !catchUp || leader == nd {
		return err
	}
	if err := n.c.caughtUp(lctx, nd, leader); err != nil {
		return err
	}
	if f != nil && f.Kind == faultWipe {
		f.Rejoined = time.Since(began).Seconds()
	}
	return nil
}
