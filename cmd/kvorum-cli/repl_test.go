package main

import (
	"io"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
)

// terminal is kvorum-cli running on a pseudo-terminal, as a person would
// run it; a goroutine owned by the test collects what it prints.
type terminal struct {
	t    *testing.T
	cmd  *exec.Cmd
	pty  io.ReadWriteCloser
	done chan struct{} // closed when the reader goroutine ends

	exited  chan struct{} // closed when the process has exited
	waitErr error         // its exit status, once exited is closed

	mu   sync.Mutex
	raw  []byte
	seen int // offset in the cleaned screen text already matched
}

func startTerminal(t *testing.T, args ...string) *terminal {
	cmd := exec.Command(binary, args...)
	cmd.Env = append(cmd.Environ(), "KVORUMCLI_HISTFILE=", "TERM=xterm")
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 50, Cols: 160})
	if err != nil {
		t.Skipf("no pseudo-terminal here: %v", err)
	}
	term := &terminal{t: t, cmd: cmd, pty: f, done: make(chan struct{}), exited: make(chan struct{})}
	go func() {
		defer close(term.exited)
		term.waitErr = cmd.Wait()
	}()
	go func() {
		defer close(term.done)
		buf := make([]byte, 4096)
		for {
			n, err := f.Read(buf)
			term.mu.Lock()
			term.raw = append(term.raw, buf[:n]...)
			term.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-term.exited
		f.Close()
		<-term.done
	})
	return term
}

// escapes matches the terminal control sequences readline writes.
var escapes = regexp.MustCompile(`\x1b(\[[0-9;?]*[ -/]*[@-~]|[()][0-9A-Za-z]|[=>])`)

// screen returns the output so far without control sequences and carriage
// returns.
func (term *terminal) screen() string {
	term.mu.Lock()
	defer term.mu.Unlock()
	return strings.ReplaceAll(escapes.ReplaceAllString(string(term.raw), ""), "\r", "")
}

// expect waits until want appears after what was matched before.
func (term *terminal) expect(want string) {
	term.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s := term.screen()
		if term.seen <= len(s) {
			if i := strings.Index(s[term.seen:], want); i >= 0 {
				term.seen += i + len(want)
				return
			}
		}
		if time.Now().After(deadline) {
			term.t.Fatalf("timed out waiting for the terminal to show %q; it shows:\n%s", want, s)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// typeLine types text and Enter.
func (term *terminal) typeLine(text string) {
	term.t.Helper()
	if _, err := io.WriteString(term.pty, text+"\r"); err != nil {
		term.t.Fatalf("typing %q: %v", text, err)
	}
}

// TestCLI_REPL types the tutorial's session at the prompt, connected to a
// follower, and reads the replies off the terminal.
func TestCLI_REPL(t *testing.T) {
	cl := startCluster(t)
	term := startTerminal(t, hostPort(t, cl.follower.Addr)...)

	term.expect(cl.follower.Addr + "> ")
	for i, s := range tutorialSession {
		term.typeLine(s.line)
		if i == 0 {
			term.expect("-> Redirected to leader " + cl.leader.Addr + "\n")
		}
		term.expect(s.reply)
		term.expect(cl.leader.Addr + "> ") // the prompt now names the leader
	}

	// History: Up recalls the last line.
	io.WriteString(term.pty, "\x1b[A\r")
	term.expect("FLUSH")
	term.expect("(integer) 0\n")

	term.typeLine("quit")
	select {
	case <-term.exited:
		if term.waitErr != nil {
			t.Fatalf("kvorum-cli exited with %v after quit", term.waitErr)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("kvorum-cli did not exit after quit; screen:\n%s", term.screen())
	}

}
