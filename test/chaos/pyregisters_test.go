package chaos

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/kvorum/kvorum/internal/regmodel"
	"golang.org/x/sys/unix"
)

// The redis-py register workload: testdata/redispy_registers.py (its
// docstring says what it sends and how it classifies outcomes) run by
// Debian's /usr/bin/python3 with its unmodified python3-redis. GETs go
// through redis.RedisCluster, SET k v GET through plain redis.Redis
// connections that follow -MOVED themselves, on keys of its own ("py:...",
// at most 1,000 operations each). Its JSON lines become a register history
// that the register model checks on its own, like the plain registers'.
//
// Times: the script stamps each call and return with
// clock_gettime(CLOCK_MONOTONIC) in nanoseconds; start reads the same
// clock, with the run's clock, just before it starts the script, and the
// difference shifts every stamp onto the run's clock, so the history
// shares the nemesis's annotations.

const (
	python        = "/usr/bin/python3" // Debian's, which python3-redis installs into
	redisPyScript = "testdata/redispy_registers.py"
	// redisPyGrace is how long the script may take after the run ends to
	// finish its operations in flight and exit by itself before it is
	// killed (a GET through RedisCluster may try one node 5 times, with a
	// 2 s socket timeout each, and then reread CLUSTER SLOTS).
	redisPyGrace = 30 * time.Second
)

// redisPy is the redis-py workload: one python3 process and what it
// reported. After done is closed only the test goroutine touches it.
type redisPy struct {
	clock    *clock
	reg      registers // the history and its counts; check
	skipped  string    // why it did not run ("": it ran)
	version  string    // redis-py's, from the script's start line
	errs     []string  // the first failed or unknown operations' errors
	problems []string  // the script's own failures: exit status, unreadable output
	ended    bool      // the script wrote its end line
	offset   int64     // a CLOCK_MONOTONIC reading + offset = the run clock's reading
	killed   atomic.Bool
	cancel   context.CancelFunc
	done     chan struct{} // closed once the output is read and the process has exited
}

func newRedisPy(clk *clock) *redisPy {
	return &redisPy{clock: clk, reg: registers{label: "redispy-"}}
}

// start runs the script against seeds for d, unless python3 cannot import
// redis: then the workload is skipped, with a note in the test log and
// the report. The process is killed in t.Cleanup if still running.
func (p *redisPy) start(t *testing.T, seeds []string, seed uint64, d time.Duration, dir string) {
	t.Helper()
	if out, err := exec.Command(python, "-c", "import redis").CombinedOutput(); err != nil {
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		p.skipped = fmt.Sprintf("%s cannot import redis (%v: %s); apt-get install python3-redis", python, err, lines[len(lines)-1])
		t.Logf("redis-py workload skipped: %s", p.skipped)
		return
	}
	logf, err := os.Create(filepath.Join(dir, "redispy.log"))
	if err != nil {
		t.Fatal(err)
	}
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		t.Fatal(err)
	}
	p.offset = p.clock.now() - ts.Nano()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, python, redisPyScript, "--nodes", strings.Join(seeds, ","),
		"--duration", strconv.FormatFloat(d.Seconds(), 'f', 3, 64), "--seed", strconv.FormatUint(seed, 10))
	cmd.Stderr = logf
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.StdoutPipe()
	if err == nil {
		err = cmd.Start()
	}
	if err != nil {
		cancel()
		logf.Close()
		t.Fatalf("start %s %s: %v", python, redisPyScript, err)
	}
	p.cancel, p.done = cancel, make(chan struct{})
	go func() {
		defer close(p.done)
		p.read(out)
		err := cmd.Wait()
		logf.Close()
		switch {
		case p.killed.Load():
		case err != nil:
			p.problems = append(p.problems, fmt.Sprintf("redis-py script failed: %v (stderr in %s)", err, logf.Name()))
		case !p.ended:
			p.problems = append(p.problems, "redis-py script exited without its end line (stderr in "+logf.Name()+")")
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-p.done
	})
}

// stop waits up to grace for the script to end by itself (it stops
// starting operations when the run ends), then kills it. A kill is noted,
// not counted as a violation: the history up to then is still checked.
func (p *redisPy) stop(grace time.Duration) {
	if p.done == nil {
		return
	}
	select {
	case <-p.done:
	case <-time.After(grace):
		p.killed.Store(true)
		p.cancel()
		<-p.done
	}
}

// pyLine is one line of the script's output.
type pyLine struct {
	Start   bool   `json:"start"`
	End     bool   `json:"end"`
	RedisPy string `json:"redis_py"`
	Worker  int    `json:"worker"`
	Kind    string `json:"kind"` // "get" or "set"
	Key     string `json:"key"`
	Value   string `json:"value"`
	Output  string `json:"output"`
	Outcome string `json:"outcome"`
	Call    int64  `json:"call"`
	Return  int64  `json:"return"`
	Error   string `json:"error"`
}

// read turns the script's lines into the history until its stdout
// closes, and drains whatever it cannot read so the script never blocks.
func (p *redisPy) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var l pyLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			p.problems = append(p.problems, fmt.Sprintf("redis-py: unreadable line %q: %v", sc.Text(), err))
			continue
		}
		switch {
		case l.Start:
			p.version = l.RedisPy
		case l.End:
			p.ended = true
		default:
			p.add(l)
		}
	}
	if err := sc.Err(); err != nil {
		p.problems = append(p.problems, "redis-py: reading its output: "+err.Error())
	}
	io.Copy(io.Discard, r)
}

// add records one operation: an answered one as it was seen, a SET of
// unknown outcome as one that may take effect any time after its call, a
// failed one (and a GET that observed nothing) only in the counts.
func (p *redisPy) add(l pyLine) {
	o, known := map[string]outcome{"ok": ok, "failed": failed, "unknown": unknown}[l.Outcome]
	if !known || (l.Kind != "get" && l.Kind != "set") {
		p.problems = append(p.problems, fmt.Sprintf("redis-py: operation %+v: unknown kind or outcome", l))
		return
	}
	in := regmodel.Input{Key: l.Key}
	if l.Kind == "set" {
		in.Write, in.Value = true, l.Value
	}
	op := porcupine.Operation{ClientId: l.Worker, Input: in, Output: regmodel.Output{Value: l.Output},
		Call: l.Call + p.offset, Return: l.Return + p.offset}
	p.reg.mu.Lock()
	defer p.reg.mu.Unlock()
	p.reg.counts.add(o)
	switch {
	case o == ok:
		p.reg.history = append(p.reg.history, op)
	case o == unknown && in.Write:
		op.Output, op.Return = regmodel.Output{Unknown: true}, math.MaxInt64
		p.reg.history = append(p.reg.history, op)
	}
	if l.Error != "" && len(p.errs) < 10 {
		p.errs = append(p.errs, fmt.Sprintf("%.3fs %s %s %s: %s", float64(op.Call)/1e9, l.Kind, l.Key, l.Outcome, l.Error))
	}
}
