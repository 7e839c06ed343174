package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// pyDict is a Python dict literal: pairs in insertion order, as the
// tutorial's ProtocolHandler writes them.
type pyDict [][2]any

// pyEncode writes a value exactly as the tutorial's ProtocolHandler._write
// does: str -> $bulk, int -> :int, list/tuple -> *array, dict -> %dict.
func pyEncode(dst []byte, v any) []byte {
	switch v := v.(type) {
	case string:
		return fmt.Appendf(dst, "$%d\r\n%s\r\n", len(v), v)
	case int:
		return fmt.Appendf(dst, ":%d\r\n", v)
	case []any:
		dst = fmt.Appendf(dst, "*%d\r\n", len(v))
		for _, e := range v {
			dst = pyEncode(dst, e)
		}
		return dst
	case pyDict:
		dst = fmt.Appendf(dst, "%%%d\r\n", len(v))
		for _, kv := range v {
			dst = pyEncode(pyEncode(dst, kv[0]), kv[1])
		}
		return dst
	}
	panic(fmt.Sprintf("pyEncode: unsupported %T", v))
}

// tutorialStep is one line of the tutorial's example session: what
// Client.execute sends (its methods upper-case the command name) and the
// exact reply bytes kvorum owes in native mode.
type tutorialStep struct {
	py    string // the session line, for messages
	args  []any
	reply string
}

// tutorialSession is the tutorial's example session. Its last line prints
// 2, but the tutorial's own flush returns len(self._kv) and three keys
// remain (k2, k3, kx): kvorum follows the code (SPEC §3).
var tutorialSession = []tutorialStep{
	{"client.mset('k1', 'v1', 'k2', ['v2-0', 1, 'v2-2'], 'k3', 'v3')",
		[]any{"MSET", "k1", "v1", "k2", []any{"v2-0", 1, "v2-2"}, "k3", "v3"}, ":3\r\n"},
	{"client.get('k2')", []any{"GET", "k2"}, "*3\r\n$4\r\nv2-0\r\n:1\r\n$4\r\nv2-2\r\n"},
	{"client.mget('k3', 'k1')", []any{"MGET", "k3", "k1"}, "*2\r\n$2\r\nv3\r\n$2\r\nv1\r\n"},
	{"client.delete('k1')", []any{"DELETE", "k1"}, ":1\r\n"},
	{"client.get('k1')", []any{"GET", "k1"}, "$-1\r\n"},
	{"client.delete('k1')", []any{"DELETE", "k1"}, ":0\r\n"},
	{"client.set('kx', {'vx': {'vy': 0, 'vz': [1, 2, 3]}})",
		[]any{"SET", "kx", pyDict{{"vx", pyDict{{"vy", 0}, {"vz", []any{1, 2, 3}}}}}}, ":1\r\n"},
	{"client.get('kx')", []any{"GET", "kx"},
		"%1\r\n$2\r\nvx\r\n%2\r\n$2\r\nvy\r\n:0\r\n$2\r\nvz\r\n*3\r\n:1\r\n:2\r\n:3\r\n"},
	{"client.flush()", []any{"FLUSH"}, ":3\r\n"},
}

// TestTutorialSession replays the tutorial's example session over raw TCP
// in native mode, sending the bytes its Python client sends, and compares
// every reply byte for byte: one request at a time, then the whole session
// pipelined in one write.
func TestTutorialSession(t *testing.T) {
	t.Parallel()
	p := start(t, t.TempDir())

	// The encoder is the tutorial's: check it against the bytes written out.
	wantFirst := "*7\r\n$4\r\nMSET\r\n$2\r\nk1\r\n$2\r\nv1\r\n$2\r\nk2\r\n*3\r\n$4\r\nv2-0\r\n:1\r\n$4\r\nv2-2\r\n$2\r\nk3\r\n$2\r\nv3\r\n"
	if got := string(pyEncode(nil, tutorialSession[0].args)); got != wantFirst {
		t.Fatalf("encoder: got %q, want %q", got, wantFirst)
	}

	t.Run("one-at-a-time", func(t *testing.T) { tutorialOneAtATime(t, p.addr) })

	t.Run("pipelined", func(t *testing.T) {
		c := dial(t, p.addr)
		var req []byte
		var want string
		for _, step := range tutorialSession {
			req = pyEncode(req, step.args)
			want += step.reply
		}
		c.conn.SetDeadline(time.Now().Add(ioTimeout))
		if _, err := c.conn.Write(req); err != nil {
			t.Fatalf("write: %v", err)
		}
		br := bufio.NewReader(c.conn)
		got := make([]byte, len(want))
		if n, err := io.ReadFull(br, got); err != nil {
			t.Fatalf("read %d reply bytes, got %d (%q): %v", len(want), n, got[:n], err)
		}
		if string(got) != want {
			t.Errorf("pipelined session:\n got %q\nwant %q", got, want)
		}
		expectPong(t, c.conn, br) // and nothing stray between
	})
}

// expectPong checks that the next reply on the connection is PING's: no
// stray bytes followed the session's replies.
func expectPong(t *testing.T, w io.Writer, br *bufio.Reader) {
	t.Helper()
	if _, err := w.Write([]byte("PING\r\n")); err != nil {
		t.Fatalf("write PING: %v", err)
	}
	got, err := readFrame(br)
	if err != nil || string(got) != "+PONG\r\n" {
		t.Fatalf("after the session: got %q (%v), want +PONG", got, err)
	}
}

// TestRedisCLI types the tutorial's session (with flat values: redis-cli
// sends only strings) into redis-cli, against a server whose connections
// default to resp2, and again after HELLO 3 (redis-cli -3). The replies are
// Redis's: OK, bulk strings, (nil).
func TestRedisCLI(t *testing.T) {
	t.Parallel()
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		t.Skip("redis-cli not on PATH (apt-get install redis-tools)")
	}
	p := start(t, t.TempDir(), "--protocol", "resp2")
	session := strings.Join([]string{
		"MSET k1 v1 k2 v2 k3 v3",
		"GET k2",
		"MGET k3 k1",
		"DELETE k1",
		"GET k1",
		"DELETE k1",
		"SET kx vx",
		"GET kx",
		"FLUSH",
		"DBSIZE",
	}, "\n") + "\n"
	want := strings.Join([]string{
		"OK",
		`"v2"`,
		`1) "v3"`,
		`2) "v1"`,
		"(integer) 1",
		"(nil)",
		"(integer) 0",
		"OK",
		`"vx"`,
		"(integer) 3",
		"(integer) 0",
	}, "\n") + "\n"
	host, port, _ := strings.Cut(p.addr, ":")
	for _, tc := range []struct {
		name  string
		flags []string
	}{
		{"resp2", nil},
		{"hello3", []string{"-3"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
			defer cancel()
			args := append([]string{"-h", host, "-p", port, "--no-raw"}, tc.flags...)
			cmd := exec.CommandContext(ctx, cli, args...)
			cmd.Stdin = strings.NewReader(session)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("redis-cli %v: %v\nstdout:\n%s\nstderr:\n%s", args, err, out, stderr.String())
			}
			if string(out) != want {
				t.Errorf("redis-cli %v:\n got:\n%s\nwant:\n%s", args, out, want)
			}
		})
	}
}

// tutorialOneAtATime runs the tutorial's session on one connection to
// addr, one request at a time, checking each reply byte for byte, then a
// PING.
func tutorialOneAtATime(t *testing.T, addr string) {
	t.Helper()
	c := dial(t, addr)
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
			t.Errorf("%s:\n got %q\nwant %q", step.py, got, step.reply)
		}
	}
	expectPong(t, c.conn, br)
}
