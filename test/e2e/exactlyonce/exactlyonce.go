package exactlyonce

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kvorum/kvorum/client"
)

// Config is one run of the workload. Zero counts take the defaults of the
// exactly-once issue: 4 producers x 500 pushes, 4 consumers, 2 kills.
type Config struct {
	// Producer is shared by the producers, Consumer by the consumers (a
	// service's one client per role, its one write session shared by
	// concurrent calls). They may be the same client.
	Producer, Consumer *client.Client

	Producers   int // default 4
	PerProducer int // pushes per producer, default 500
	Consumers   int // default 4
	Kills       int // default 2; negative: none

	// Queue names the lists: Queue+":pending" and Queue+":processing".
	// Default "eo".
	Queue string
	// ReserveTimeout is each Reserve's wait (BLMOVE's timeout). Default 1s.
	ReserveTimeout time.Duration

	// Kill kills the node that leads now (the n-th kill, from 0) and
	// returns once it is dead. Run calls it on the goroutine that called
	// Run (so it may call t.Fatal) when n+1 shares of the pushes (of
	// Kills+2) are acknowledged, with pushes in flight.
	Kill func(ctx context.Context, n int) (Killed, error)
	// Restart brings the node of the n-th kill back with its data and
	// returns once it has caught up with the leader; called as Kill is.
	// Producers pause a little past each kill point until the restart is
	// done, so every kill falls in the middle of the pushes.
	Restart func(ctx context.Context, n int) error

	// Logf, if set, receives progress lines (t.Logf), also from the
	// workers' goroutines; never after Run has returned.
	Logf func(format string, args ...any)
}

// Killed is what Kill reports of one kill.
type Killed struct {
	Node   string    // the node killed
	Issued time.Time // just before the kill was sent
	Dead   time.Time // once the node was known dead: a reply after it came from another node
}

// KillReport is one kill as the workload saw it.
type KillReport struct {
	Killed
	// FirstWrite is from Issued to the first acknowledged write (a Push,
	// a Reserve that returned a job, an Ack) completed after Dead;
	// FirstPush counts Pushes only. Zero if none came. The node died
	// between Issued and Dead, so FirstWrite-(Dead-Issued) bounds the
	// kill-to-first-ack time from below, as FirstWrite does from above.
	FirstWrite, FirstPush time.Duration
	// Restart is how long Restart took (as the caller's Restart defines
	// it: in both tests, a new leader among the survivors, the node back,
	// caught up).
	Restart time.Duration
}

// Result accounts for every job of one run. Job lists are sorted.
type Result struct {
	Jobs       int // jobs the producers tried to push
	Pushed     int // pushes acknowledged
	Unknown    int // calls that failed with client.ErrUnknownOutcome (Push, Reserve or Ack)
	ErrorCount int // calls that failed otherwise
	Errors     []string

	Reserved   int // Reserves that returned a job
	Acked      int // Acks that found their job in processing
	AckMissed  []string
	Lost       []string // pushed (acknowledged), never reserved, in no list
	Duplicated []string // reserved more than once
	Unexpected []string // reserved, yet no push of it was acknowledged or in doubt
	Pending    []string // left in the pending list
	Processing []string // left in the processing list

	Kills    []KillReport
	Duration time.Duration // the first push to the last consumer's exit
	Producer client.Stats
	Consumer client.Stats
}

// Problems lists what breaks exactly-once: unknown outcomes, failed
// calls, jobs lost, duplicated, unexpected or left over, Acks that found
// nothing, pushes not all acknowledged. Empty means the run was clean.
func (r *Result) Problems() []string {
	var p []string
	add := func(n int, format string, args ...any) {
		if n > 0 {
			p = append(p, fmt.Sprintf(format, args...))
		}
	}
	add(r.Jobs-r.Pushed, "%d of %d pushes not acknowledged", r.Jobs-r.Pushed, r.Jobs)
	add(r.Unknown, "%d unknown outcomes", r.Unknown)
	add(r.ErrorCount, "%d failed calls: %v", r.ErrorCount, r.Errors)
	add(len(r.Lost), "%d jobs lost: %v", len(r.Lost), head(r.Lost))
	add(len(r.Duplicated), "%d jobs reserved more than once: %v", len(r.Duplicated), head(r.Duplicated))
	add(len(r.Unexpected), "%d jobs reserved that no push put there: %v", len(r.Unexpected), head(r.Unexpected))
	add(len(r.AckMissed), "%d Acks found the job gone from processing: %v", len(r.AckMissed), head(r.AckMissed))
	add(len(r.Pending), "%d jobs left in pending: %v", len(r.Pending), head(r.Pending))
	add(len(r.Processing), "%d jobs left in processing: %v", len(r.Processing), head(r.Processing))
	add(r.Pushed-r.Reserved, "%d pushes acknowledged, %d jobs reserved", r.Pushed, r.Reserved)
	add(r.Reserved-r.Acked, "%d jobs reserved, %d acknowledged by Ack", r.Reserved, r.Acked)
	return p
}

// Summary is the run's counts in one line.
func (r *Result) Summary() string {
	return fmt.Sprintf("%d/%d pushes acknowledged, %d unknown, %d failed, %d reserved, %d acked (%d missed), %d lost, %d duplicated, %d unexpected, %d left pending, %d left processing, in %v",
		r.Pushed, r.Jobs, r.Unknown, r.ErrorCount, r.Reserved, r.Acked, len(r.AckMissed), len(r.Lost), len(r.Duplicated),
		len(r.Unexpected), len(r.Pending), len(r.Processing), r.Duration.Round(time.Millisecond))
}

func head(s []string) []string { return s[:min(len(s), 10)] }

func (c *Config) defaults() {
	if c.Producers <= 0 {
		c.Producers = 4
	}
	if c.PerProducer <= 0 {
		c.PerProducer = 500
	}
	if c.Consumers <= 0 {
		c.Consumers = 4
	}
	if c.Kills == 0 {
		c.Kills = 2
	}
	c.Kills = max(c.Kills, 0)
	if c.Queue == "" {
		c.Queue = "eo"
	}
	if c.ReserveTimeout <= 0 {
		c.ReserveTimeout = time.Second
	}
	if c.Logf == nil {
		c.Logf = func(string, ...any) {}
	}
}

// run is one Run's shared state.
type run struct {
	cfg                 Config
	pending, processing string

	gate     gate
	progress chan struct{} // a push was acknowledged (coalesced)
	pushed   atomic.Int64

	mu       sync.Mutex
	acks     []ack          // every acknowledged write, in completion order
	outcome  map[string]int // job -> pushAcked or pushUnknown
	reserved map[string]int // job -> times reserved
	missed   []string
	unknown  int
	errs     []string
	nerrs    int
	acked    int
}

type ack struct {
	at   time.Time
	push bool
}

const (
	pushAcked = iota + 1
	pushUnknown
)

// Run runs the workload until every producer and consumer is done or ctx
// ends, and returns the accounting. It fails (error) only when it could
// not run the workload: Kill or Restart failed, ctx ended, the final reads
// failed. The Result is filled in as far as it got either way.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	cfg.defaults()
	r := &run{cfg: cfg, pending: cfg.Queue + ":pending", processing: cfg.Queue + ":processing",
		progress: make(chan struct{}, 1), outcome: make(map[string]int), reserved: make(map[string]int)}
	total := cfg.Producers * cfg.PerProducer
	share := func(n int) int { return total * (n + 1) / (cfg.Kills + 2) }
	slack := total / (2 * (cfg.Kills + 2))
	capAt := total
	if cfg.Kills > 0 {
		capAt = share(0) + slack
	}
	r.gate.init(capAt)

	ctx, cancel := context.WithCancel(ctx)
	began := time.Now()
	var producers, consumers sync.WaitGroup
	// However Run ends (also by a t.Fatal inside Kill or Restart), the
	// workers stop before it returns: none outlives the test.
	defer func() {
		cancel()
		producers.Wait()
		consumers.Wait()
	}()
	producersDone := make(chan struct{})
	for p := range cfg.Producers {
		producers.Add(1)
		go func() {
			defer producers.Done()
			r.produce(ctx, p)
		}()
	}
	for range cfg.Consumers {
		consumers.Add(1)
		go func() {
			defer consumers.Done()
			r.consume(ctx, producersDone)
		}()
	}
	go func() {
		producers.Wait()
		close(producersDone)
	}()

	res := &Result{Jobs: total}
	runErr := r.killAndRestart(ctx, res, total, share, slack)
	if runErr != nil {
		cancel() // the workers stop; the accounting below still says what they did
	}
	r.gate.raise(total)
	consumers.Wait()
	producers.Wait()
	res.Duration = time.Since(began)

	runErr = errors.Join(runErr, r.readLeft(res))
	r.account(res)
	res.Producer, res.Consumer = cfg.Producer.Stats(), cfg.Consumer.Stats()
	return res, runErr
}

// killAndRestart kills and restarts a node cfg.Kills times, each once
// share(n) pushes are acknowledged, and opens the producers' gate to the
// next share (plus slack) after each restart.
func (r *run) killAndRestart(ctx context.Context, res *Result, total int, share func(int) int, slack int) error {
	cfg := r.cfg
	for n := range cfg.Kills {
		if err := r.waitPushed(ctx, share(n)); err != nil {
			return fmt.Errorf("waiting for %d acknowledged pushes before kill %d: %w (%d acknowledged)", share(n), n+1, err, r.pushed.Load())
		}
		at := r.pushed.Load()
		k, err := cfg.Kill(ctx, n)
		if err != nil {
			return fmt.Errorf("kill %d: %w", n+1, err)
		}
		cfg.Logf("kill %d: %s killed at %s, %d pushes acknowledged (dead %v after the kill was issued)",
			n+1, k.Node, k.Issued.UTC().Format("15:04:05.000"), at, k.Dead.Sub(k.Issued).Round(time.Millisecond))
		began := time.Now()
		if err := cfg.Restart(ctx, n); err != nil {
			return fmt.Errorf("restart %d (%s): %w", n+1, k.Node, err)
		}
		res.Kills = append(res.Kills, KillReport{Killed: k, Restart: time.Since(began)})
		cfg.Logf("restart %d: %s back and caught up after %v, %d pushes acknowledged",
			n+1, k.Node, time.Since(began).Round(time.Millisecond), r.pushed.Load())
		next := total
		if n+1 < cfg.Kills {
			next = share(n+1) + slack
		}
		r.gate.raise(next)
	}
	return nil
}

// readLeft reads what is left in the lists, through the cluster
// (linearizable), into res.
func (r *run) readLeft(res *Result) error {
	var err error
	fctx, fcancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer fcancel()
	for _, l := range []struct {
		key string
		out *[]string
	}{{r.pending, &res.Pending}, {r.processing, &res.Processing}} {
		v, err := r.cfg.Consumer.Do(fctx, "LRANGE", l.key, 0, -1)
		if err != nil {
			err = errors.Join(err, fmt.Errorf("LRANGE %s: %w", l.key, err))
			continue
		}
		for _, e := range v.Elems() {
			*l.out = append(*l.out, e.Text())
		}
		sort.Strings(*l.out)
	}
	return err
}

// account fills in res from what the workers recorded.
func (r *run) account(res *Result) {
	r.mu.Lock()
	defer r.mu.Unlock()
	res.Unknown, res.ErrorCount, res.Errors = r.unknown, r.nerrs, r.errs
	res.Acked, res.AckMissed = r.acked, slices.Sorted(slices.Values(r.missed))
	left := make(map[string]bool)
	for _, j := range append(slices.Clone(res.Pending), res.Processing...) {
		left[j] = true
	}
	for job, o := range r.outcome {
		if o == pushAcked {
			res.Pushed++
			if r.reserved[job] == 0 && !left[job] {
				res.Lost = append(res.Lost, job)
			}
		}
	}
	for job, n := range r.reserved {
		res.Reserved += n
		if n > 1 {
			res.Duplicated = append(res.Duplicated, job)
		}
		if r.outcome[job] == 0 {
			res.Unexpected = append(res.Unexpected, job)
		}
	}
	for job := range left {
		if r.outcome[job] == 0 && r.reserved[job] == 0 {
			res.Unexpected = append(res.Unexpected, job)
		}
	}
	sort.Strings(res.Lost)
	sort.Strings(res.Duplicated)
	sort.Strings(res.Unexpected)
	for i := range res.Kills {
		k := &res.Kills[i]
		for _, a := range r.acks { // nearly in time order: look at all
			if !a.at.After(k.Dead) {
				continue
			}
			d := a.at.Sub(k.Issued)
			if k.FirstWrite == 0 || d < k.FirstWrite {
				k.FirstWrite = d
			}
			if a.push && (k.FirstPush == 0 || d < k.FirstPush) {
				k.FirstPush = d
			}
		}
	}
}

// produce pushes producer p's jobs, one at a time, as the gate allows.
func (r *run) produce(ctx context.Context, p int) {
	for i := range r.cfg.PerProducer {
		if !r.gate.take(ctx) {
			return
		}
		job := fmt.Sprintf("job:p%d:%04d", p, i)
		_, err := r.cfg.Producer.Push(ctx, r.pending, job)
		now := time.Now()
		r.mu.Lock()
		switch {
		case err == nil:
			r.outcome[job] = pushAcked
			r.acks = append(r.acks, ack{at: now, push: true})
		case errors.Is(err, client.ErrUnknownOutcome):
			r.outcome[job] = pushUnknown
		}
		r.mu.Unlock()
		if err != nil {
			if !r.failed("Push "+job, err) {
				return
			}
			continue
		}
		r.pushed.Add(1)
		select {
		case r.progress <- struct{}{}:
		default:
		}
	}
}

// consume reserves and acks jobs until the producers are done and a
// Reserve that began after that found nothing, or ctx ends.
func (r *run) consume(ctx context.Context, producersDone <-chan struct{}) {
	for ctx.Err() == nil {
		last := isClosed(producersDone) // every push is acknowledged: an empty Reserve means drained
		v, ok, err := r.cfg.Consumer.Reserve(ctx, r.pending, r.processing, r.cfg.ReserveTimeout)
		if err != nil {
			if !r.failed("Reserve", err) {
				return
			}
			continue
		}
		if !ok {
			if last {
				return
			}
			continue
		}
		job, _ := v.(string)
		r.mu.Lock()
		r.reserved[job]++
		r.acks = append(r.acks, ack{at: time.Now()})
		r.mu.Unlock()

		found, err := r.cfg.Consumer.Ack(ctx, r.processing, job)
		if err != nil {
			if !r.failed("Ack "+job, err) {
				return
			}
			continue
		}
		r.mu.Lock()
		if found {
			r.acked++
			r.acks = append(r.acks, ack{at: time.Now()})
		} else {
			r.missed = append(r.missed, job)
		}
		r.mu.Unlock()
	}
}

// failed records a call's error: an unknown outcome, or another failure
// (the first 20 kept). It reports whether the worker should go on: after
// an unknown outcome, yes; after any other failure (the client gives up
// only when ctx ends), no.
func (r *run) failed(call string, err error) (goOn bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if errors.Is(err, client.ErrUnknownOutcome) {
		r.unknown++
		r.cfg.Logf("unknown outcome: %s: %v", call, err)
		return true
	}
	r.nerrs++
	if len(r.errs) < 20 {
		r.errs = append(r.errs, fmt.Sprintf("%s: %v", call, err))
	}
	return false
}

// waitPushed waits until n pushes are acknowledged or ctx ends.
func (r *run) waitPushed(ctx context.Context, n int) error {
	for r.pushed.Load() < int64(n) {
		select {
		case <-r.progress:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
