package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// rqJobs is how many jobs the RQ failover test enqueues; rqKillAfter is
// how many must have run before the leader is killed.
const (
	rqJobs      = 200
	rqKillAfter = 50
	rqDeadline  = 3 * time.Minute // the whole run, kill and restart included (about 25 s when healthy)
)

// Debian's python3-rq (RQ 1.13), unmodified, rides through a leader crash:
// a worker configured with a settings module whose SENTINEL dict lists the
// three nodes runs under a restart loop (rq_worker_loop.sh, as systemd's
// Restart=always would); rq_failover.py enqueues half the jobs through
// redis-py's Sentinel.master_for, the leader is killed with SIGKILL once
// rqKillAfter jobs have run, the script enqueues the other half through
// the same connection object (retrying on ConnectionError, the job id
// kept), and the killed node is restarted on its data. At the end every
// job is finished, except the one job a single worker can have in flight
// at the kill: lost if the crash cut off the BLPOP reply that popped it,
// or stranded in RQ's started registry if it cut off the work horse's
// bookkeeping (RQ's own windows, as against Redis with Sentinel). The
// test logs those, the worker's restarts and the recovery times.
func TestQueues_RQFailover(t *testing.T) {
	if os.Getenv("KVORUM_FAULTS") != "1" {
		t.Skip("set KVORUM_FAULTS=1 to run the RQ failover test (it kills a server; .ci/run does)")
	}
	const python = "/usr/bin/python3" // Debian's, which python3-rq installs into
	if out, err := exec.Command(python, "-c", "import rq, redis.sentinel").CombinedOutput(); err != nil {
		t.Skipf("%s cannot import rq (apt-get install python3-rq): %v: %s", python, err, bytes.TrimSpace(out))
	}
	testdata, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), rqDeadline)
	defer cancel()

	// The nodes inherit KVORUM_PROTOCOL, the restarted one too: redis-py parses RESP2.
	t.Setenv("KVORUM_PROTOCOL", "resp2")
	nodes := startLocalCluster(t, 3)
	procs := make([]*proc, len(nodes))
	var instances []string
	for i, nd := range nodes {
		procs[i] = nd.p
		host, port, _ := strings.Cut(nd.client, ":")
		instances = append(instances, fmt.Sprintf("(%q, %s)", host, port))
	}
	waitSentinelMaster(t, procs, "mymaster")

	// The worker's settings module, as docs/queues.md shows it.
	settings := t.TempDir()
	conf := fmt.Sprintf("SENTINEL = {\"INSTANCES\": [%s], \"MASTER_NAME\": \"mymaster\"}\n", strings.Join(instances, ", "))
	if err := os.WriteFile(filepath.Join(settings, "rqsettings.py"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "PYTHONPATH="+settings+string(os.PathListSeparator)+testdata)
	outdir := t.TempDir()
	worker := startGroup(t, env, "sh", filepath.Join(testdata, "rq_worker_loop.sh"))

	args := []string{filepath.Join(testdata, "rq_failover.py")}
	host, _, _ := strings.Cut(nodes[0].client, ":")
	args = append(args, host)
	for _, nd := range nodes {
		_, port, _ := strings.Cut(nd.client, ":")
		args = append(args, port)
	}
	args = append(args, "mymaster", outdir, strconv.Itoa(rqJobs))
	script := startPyScript(t, ctx, env, python, args...)
	script.next("enqueued")

	if err := pollUntil(ctx, func() (bool, string) {
		n := len(jobRuns(t, outdir))
		return n >= rqKillAfter, fmt.Sprintf("%d of %d jobs have run", n, rqKillAfter)
	}); err != nil {
		t.Fatalf("before the kill: %v\nworker:\n%s", err, worker.out())
	}
	leader, err := waitLocalLeader(ctx, nodes, nil)
	if err != nil {
		t.Fatal(err)
	}
	ranBefore := len(jobRuns(t, outdir))
	if code := leader.p.signal(syscall.SIGKILL); code != -1 {
		t.Fatalf("%s: exit code %d after SIGKILL, want -1", leader.id, code)
	}
	killed := time.Now()
	script.send("killed")
	if _, err := waitLocalLeader(ctx, nodes, leader); err != nil {
		t.Fatalf("after killing %s: %v", leader.id, err)
	}
	elected := time.Since(killed)
	recovered := script.next("recovered")
	leader.start(t)
	script.send("restarted")
	done := script.next("done")
	script.wait()

	var res struct {
		Statuses map[string]*string
		InQueue  []string `json:"in_queue"`
		Started  []string
		Failed   map[string][]string
		Resumed  *float64
	}
	var rec struct {
		Seconds float64
		Errors  []string
		Retried []string
	}
	decodeInto(t, done, &res)
	decodeInto(t, recovered, &rec)

	runs := jobRuns(t, outdir)
	var finished int
	var inFlight, problems []string
	for n := range rqJobs {
		id := fmt.Sprintf("job-%03d", n)
		status := "missing"
		if s := res.Statuses[id]; s != nil {
			status = *s
		}
		switch {
		case status == "finished" && (runs[n] == 1 || runs[n] == 2 && slices.Contains(rec.Retried, id)):
			// a retried enqueue whose first try was applied queues the job twice
			finished++
			if runs[n] == 2 {
				t.Logf("%s ran twice: its enqueue was cut off by the crash, applied, and retried", id)
			}
		case status == "queued" && runs[n] == 0 && !slices.Contains(res.InQueue, id):
			inFlight = append(inFlight, id+": lost, the crash cut off the BLPOP reply that popped it")
		case status == "started" && runs[n] <= 1 && slices.Contains(res.Started, id):
			inFlight = append(inFlight, fmt.Sprintf("%s: stranded in the started registry (ran %d times), "+
				"the crash cut off the work horse's bookkeeping", id, runs[n]))
		default:
			problems = append(problems, fmt.Sprintf("%s: status %s, ran %d times, in queue %v, failed %q", id, status,
				runs[n], slices.Contains(res.InQueue, id), res.Failed[id]))
		}
	}
	restarts := strings.Count(worker.out(), "rq_worker_loop: rq worker exited")
	t.Logf("%d of %d jobs finished; %d had run when %s (the leader) was killed; %d in flight at the kill", finished, rqJobs,
		ranBefore, leader.id, len(inFlight))
	for _, s := range inFlight {
		t.Logf("in flight: %s", s)
	}
	t.Logf("after the kill: a new leader serving in %v; the producer's first enqueue answered after %.3fs "+
		"(%d errors retried, jobs retried: %v); the worker restarted %d times and started a job again after %s",
		elected.Round(time.Millisecond), rec.Seconds, len(rec.Errors), rec.Retried, restarts, fmtSeconds(res.Resumed))
	if len(inFlight) > 1 {
		t.Errorf("%d jobs not finished for the one kill, want at most 1 (the job in flight)", len(inFlight))
	}
	for _, p := range problems {
		t.Error(p)
	}
	if t.Failed() {
		t.Logf("worker loop output:\n%s", worker.out())
	}
}

// jobRuns reads rqjobs.record's output: how many times each job ran.
func jobRuns(t *testing.T, outdir string) map[int]int {
	t.Helper()
	entries, err := os.ReadDir(outdir)
	if err != nil {
		t.Fatal(err)
	}
	runs := map[int]int{}
	for _, e := range entries {
		s, ok := strings.CutPrefix(e.Name(), "job-")
		n, err := strconv.Atoi(s)
		if !ok || err != nil {
			t.Fatalf("unexpected file %s in %s", e.Name(), outdir)
		}
		b, err := os.ReadFile(filepath.Join(outdir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		runs[n] = bytes.Count(b, []byte("\n"))
	}
	return runs
}

func fmtSeconds(s *float64) string {
	if s == nil {
		return "never"
	}
	return fmt.Sprintf("%.3fs", *s)
}

// decodeInto re-decodes one of a script's JSON lines into a struct.
func decodeInto(t *testing.T, line map[string]any, v any) {
	t.Helper()
	b, _ := json.Marshal(line)
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
}

// pollUntil calls cond every 20 ms until it reports true or ctx ends; the
// error then says what cond said last.
func pollUntil(ctx context.Context, cond func() (bool, string)) error {
	for {
		ok, last := cond()
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last: %s)", ctx.Err(), last)
		case <-time.After(20 * time.Millisecond): // poll interval
		}
	}
}

// group is a child process in a process group of its own (a shell loop and
// the workers and work horses it starts), killed as a whole in t.Cleanup.
type group struct {
	cmd *exec.Cmd
	buf *logBuffer
}

// startGroup starts name args in a new process group, stdout and stderr
// collected.
func startGroup(t *testing.T, env []string, name string, args ...string) *group {
	t.Helper()
	g := &group{cmd: exec.Command(name, args...), buf: &logBuffer{}}
	g.cmd.Env = env
	g.cmd.Stdout, g.cmd.Stderr = g.buf, g.buf
	g.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := g.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	t.Cleanup(func() {
		syscall.Kill(-g.cmd.Process.Pid, syscall.SIGKILL)
		g.cmd.Wait()
	})
	return g
}

func (g *group) out() string { return g.buf.String() }

// pyScript is a Python script that reports phases as JSON lines on stdout
// ({"phase": ...}) and reads a line on stdin between them. It runs in its
// own process group, killed with ctx or in t.Cleanup.
type pyScript struct {
	t      *testing.T
	ctx    context.Context
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr *logBuffer
	lines  chan string
	waited bool
}

func startPyScript(t *testing.T, ctx context.Context, env []string, python string, args ...string) *pyScript {
	t.Helper()
	s := &pyScript{t: t, ctx: ctx, stderr: &logBuffer{}, lines: make(chan string)}
	s.cmd = exec.CommandContext(ctx, python, args...)
	s.cmd.Env = env
	s.cmd.Stderr = s.stderr
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	s.cmd.Cancel = func() error { return syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL) }
	var err error
	if s.stdin, err = s.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", python, err)
	}
	go func() { // ends when the script's stdout closes: at its exit, or its kill
		defer close(s.lines)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			select {
			case s.lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
	}()
	t.Cleanup(func() {
		s.stdin.Close()
		if !s.waited {
			syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
			s.cmd.Wait()
		}
	})
	return s
}

// next returns the script's next line, which must be the given phase.
func (s *pyScript) next(phase string) map[string]any {
	s.t.Helper()
	select {
	case line, ok := <-s.lines:
		var out map[string]any
		if ok && json.Unmarshal([]byte(line), &out) == nil && out["phase"] == phase {
			return out
		}
		err := s.wait()
		s.t.Fatalf("waiting for the %s line, the script said %q (exit: %v)\n%s", phase, line, err, s.stderr)
	case <-s.ctx.Done():
		s.t.Fatalf("no %s line from the script within its deadline\n%s", phase, s.stderr)
	}
	return nil
}

// send writes one line to the script's stdin.
func (s *pyScript) send(line string) {
	s.t.Helper()
	if _, err := fmt.Fprintln(s.stdin, line); err != nil {
		s.t.Fatalf("tell the script %q: %v\n%s", line, err, s.stderr)
	}
}

// wait waits for the script to exit; a failure is the caller's to report.
func (s *pyScript) wait() error {
	s.waited = true
	s.stdin.Close()
	err := s.cmd.Wait()
	if err != nil {
		s.t.Errorf("script: %v\n%s", err, s.stderr)
	}
	return err
}
