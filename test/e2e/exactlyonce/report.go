package exactlyonce

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Log writes a run's counts, its clients' Stats and, for each kill, the
// time from the kill to the first acknowledged write (from when it was
// issued, and from when the node was known dead), with their percentiles.
func (r *Result) Log(logf func(format string, args ...any)) {
	logf("result: %s", r.Summary())
	logf("producer client: %+v", r.Producer)
	logf("consumer client: %+v", r.Consumer)
	var first, fromDead []time.Duration
	for i, k := range r.Kills {
		dead := k.Dead.Sub(k.Issued)
		logf("kill %d (%s): first acknowledged write %v after the kill was issued (%v after it was known dead), first push %v; restart and catch-up %v",
			i+1, k.Node, k.FirstWrite.Round(time.Millisecond), (k.FirstWrite - dead).Round(time.Millisecond),
			k.FirstPush.Round(time.Millisecond), k.Restart.Round(time.Millisecond))
		first = append(first, k.FirstWrite)
		fromDead = append(fromDead, k.FirstWrite-dead)
	}
	if len(first) > 0 {
		logf("kill issued to first acknowledged write over %d kills: %s", len(first), Percentiles(first))
		logf("kill known dead to first acknowledged write over %d kills: %s", len(first), Percentiles(fromDead))
	}
}

// Percentiles formats p50, p99 and every sample of d, in milliseconds.
func Percentiles(d []time.Duration) string {
	d = slices.Sorted(slices.Values(d))
	ms := func(x time.Duration) string { return strconv.FormatInt(x.Milliseconds(), 10) }
	var all []string
	for _, x := range d {
		all = append(all, ms(x))
	}
	return fmt.Sprintf("p50 %s ms, p99 %s ms (all, ms: %s)", ms(d[(len(d)-1)/2]), ms(d[(len(d)*99-1)/100]), strings.Join(all, " "))
}
