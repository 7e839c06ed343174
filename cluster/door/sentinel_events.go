package door

import (
	"strings"
	"time"

	"github.com/kvorum/kvorum/resp"
)

// sentinelChannels reports whether a SUBSCRIBE names only Sentinel event
// channels (starting with '+'), which any node serves.
func sentinelChannels(names []resp.Value) bool {
	for _, n := range names {
		if !strings.HasPrefix(n.Text(), "+") {
			return false
		}
	}
	return len(names) > 0
}

// subscribeEvents subscribes c to Sentinel event channels, on any node and
// for as long as c stays: unlike a leader's subscription, it is tied to no
// leadership, since this node publishes the events itself.
func (d *Door) subscribeEvents(c *resp.Conn, args []resp.Value) resp.Value {
	d.watchSwitches()
	v, left := d.pubsub.change(c, argTexts(args[1:]), true, false)
	sessionOf(c).subscribed(c, left)
	return v
}

// watchSwitches starts the switch watch once; it runs until Close.
func (d *Door) watchSwitches() {
	s := d.sentinel
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.watching {
		s.watching = d.bg.start(d.switchLoop)
	}
}

// switchLoop publishes +switch-master whenever the usable master it sees
// changes from one address to another: every sentinelPoll, and at once
// when this node's leadership ends.
func (d *Door) switchLoop(stop <-chan struct{}) {
	tick := time.NewTicker(sentinelPoll)
	defer tick.Stop()
	prev := ""
	if v := d.sentinelView(); v.usable {
		prev = v.master.ClientAddr
	}
	var ended <-chan struct{} // a leadership already seen to end
	for {
		lost := d.store.Leading()
		if lost == ended {
			lost = nil
		}
		select {
		case <-stop:
			return
		case <-tick.C:
		case <-lost:
			ended = lost
		}
		v := d.sentinelView()
		if !v.usable {
			continue
		}
		if cur := v.master.ClientAddr; cur != prev {
			if prev != "" {
				d.publishSwitch(prev, cur)
			}
			prev = cur
		}
	}
}

func (d *Door) publishSwitch(from, to string) {
	oldHost, oldPort := splitHostPort(from)
	newHost, newPort := splitHostPort(to)
	msg := strings.Join([]string{d.sentinel.name, oldHost, oldPort, newHost, newPort}, " ")
	n := d.pubsub.publish("+switch-master", resp.BulkString(msg))
	d.log.Info("sentinel: master switched", "from", from, "to", to, "subscribers", n)
}
