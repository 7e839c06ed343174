package cluster_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"github.com/kvorum/kvorum/cluster"
	"github.com/kvorum/kvorum/internal/resptest"
	"github.com/kvorum/kvorum/internal/testcluster"
	"github.com/kvorum/kvorum/resp"
)

// backupFixture writes one key of every kind, one with a deadline, to addr,
// and returns the reads that must answer the same after a restore.
func backupFixture(t *testing.T, addr string) [][]string {
	t.Helper()
	for _, cmd := range [][]string{
		{"SET", "s", "text"},
		{"RPUSH", "l", "a", "b", "c"},
		{"HSET", "h", "f1", "v1", "f2", "v2"},
		{"SADD", "set", "x", "y"},
		{"ZADD", "z", "1", "one", "2.5", "two"},
		{"SET", "ttl", "soon", "PX", "3600000"},
	} {
		if v := resptest.Do(t, addr, cmd...); v.IsError() {
			t.Fatalf("%v = %v", cmd, v)
		}
	}
	return [][]string{{"GET", "s"}, {"LRANGE", "l", "0", "-1"}, {"HGETALL", "h"}, {"SMEMBERS", "set"},
		{"ZRANGE", "z", "0", "-1", "WITHSCORES"}, {"GET", "ttl"}, {"DBSIZE"}}
}

// onLeader runs fn on c's leader, again on the next one if leadership
// moved under it (a loaded machine): a restore cut off that way may or may
// not have taken effect, and is safe to repeat with the same backup.
func onLeader(t *testing.T, c *testcluster.Cluster, fn func(*testcluster.Node) error) (*testcluster.Node, error) {
	t.Helper()
	for attempt := 1; ; attempt++ {
		n := c.Leader(10 * time.Second)
		err := fn(n)
		var re *resp.RedirectError
		moved := errors.Is(err, raft.ErrLeadershipLost) || errors.Is(err, raft.ErrNotLeader) || errors.As(err, &re)
		if !moved || attempt == 3 {
			return n, err
		}
		t.Logf("attempt %d: %v; again on the next leader", attempt, err)
	}
}

func answers(t *testing.T, c *resptest.Conn, reads [][]string) string {
	t.Helper()
	var b strings.Builder
	for _, r := range reads {
		fmt.Fprintf(&b, "%v=%s\n", r, c.Do(t, r...).String())
	}
	return b.String()
}

// A backup taken on one cluster's leader restores into another cluster:
// every kind of value, deadlines, on the leader at once and on the
// followers through Raft's snapshot install; a damaged backup changes
// nothing; and reads and writes go on right after the restore.
func TestBackup_RestoreIntoAnotherCluster(t *testing.T) {
	src := testcluster.Start(t, testcluster.Options{})
	leader := src.Leader(10 * time.Second)
	reads := backupFixture(t, leader.ClientAddr())
	want := answers(t, resptest.Dial(t, leader.ClientAddr()), reads)
	var backup bytes.Buffer
	if _, err := onLeader(t, src, func(n *testcluster.Node) error { backup.Reset(); return n.Backup(&backup) }); err != nil {
		t.Fatal(err)
	}
	for _, f := range src.Followers() {
		if err := f.Backup(&bytes.Buffer{}); err == nil {
			t.Fatalf("a follower (%s) took a backup", f.ID())
		}
	}

	dst := testcluster.Start(t, testcluster.Options{})
	dl := dst.Leader(10 * time.Second)
	resptest.Do(t, dl.ClientAddr(), "SET", "before", "restore")
	damaged := bytes.Clone(backup.Bytes())
	damaged[len(damaged)-10] ^= 0xff
	for name, b := range map[string][]byte{"damaged": damaged, "truncated": backup.Bytes()[:backup.Len()/2], "not a backup": []byte("hello\n")} {
		if err := dl.Restore(b); !errors.Is(err, cluster.ErrBackupFormat) {
			t.Fatalf("%s backup: err = %v, want ErrBackupFormat", name, err)
		}
	}
	if v := resptest.Do(t, dl.ClientAddr(), "GET", "before"); v.Text() != "restore" {
		t.Fatalf("after refused restores GET before = %v: the state changed", v)
	}
	dl, err := onLeader(t, dst, func(n *testcluster.Node) error { return n.Restore(backup.Bytes()) })
	if err != nil {
		t.Fatal(err)
	}
	c := resptest.Dial(t, dl.ClientAddr())
	if got := answers(t, c, reads); got != want {
		t.Fatalf("restored leader answers\n%s\nwant\n%s", got, want)
	}
	if v := c.Do(t, "GET", "before"); !v.IsNull() {
		t.Fatalf("GET before = %v: a restore replaces the whole state", v)
	}
	if v := c.Do(t, "PTTL", "ttl"); v.Int() <= 0 || v.Int() > 3600000 {
		t.Fatalf("PTTL ttl = %v after restore, want its deadline kept", v)
	}
	if v := c.Do(t, "INCR", "after"); v.Int() != 1 {
		t.Fatalf("INCR after restore = %v", v)
	}
	for _, f := range dst.Followers() {
		fc := resptest.Dial(t, f.ClientAddr())
		fc.Do(t, "READONLY")
		resptest.WaitFor(t, f.ID()+" has the restored state", 10*time.Second, func() bool {
			return fc.Do(t, "GET", "after").Text() == "1" && answers(t, fc, reads) == strings.Replace(want, "[DBSIZE]="+resp.Int(6).String(), "[DBSIZE]="+resp.Int(7).String(), 1)
		})
	}
}

// sealed returns a backup whose header claims index and holds stream with
// its true size and checksum: what anyone can make.
func sealed(index uint64, stream []byte) []byte {
	sum := sha256.Sum256(stream)
	return append([]byte(fmt.Sprintf("KVORUM-BACKUP 1 %d 1 %d %s\n", index, len(stream), hex.EncodeToString(sum[:]))), stream...)
}

// A backup whose checksum matches but whose stream the state machine
// cannot read, or whose header names another index or one near the top of
// uint64, is refused before Raft sees it (Raft's restore would panic on an
// unreadable stream and leave it on disk), and the node goes on serving.
func TestBackup_RestoreRefusesWhatItCannotRead(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Nodes: 1})
	n := c.Leader(10 * time.Second)
	resptest.Do(t, n.ClientAddr(), "SET", "k", "v")
	var good bytes.Buffer
	if err := n.Backup(&good); err != nil {
		t.Fatal(err)
	}
	_, rest, _ := bytes.Cut(good.Bytes(), []byte("\n"))
	var index uint64
	fmt.Sscanf(good.String(), "KVORUM-BACKUP 1 %d", &index)
	newer := resp.AppendValue(nil, resp.Array(resp.BulkString("kvorum-snapshot"), resp.Int(99), resp.Int(int64(index)), resp.Int(0)))
	for name, b := range map[string][]byte{
		"a newer format":              sealed(index, newer),
		"cut and resealed":            sealed(index, rest[:len(rest)/2]),
		"an index below its stream's": sealed(1, rest),
		"an index near 2^64":          sealed(1<<64-1, rest),
		"a size that is a lie":        []byte(strings.Replace(string(sealed(index, rest)), fmt.Sprintf(" %d ", len(rest)), " 4294967296 ", 1)),
	} {
		if err := n.Restore(b); !errors.Is(err, cluster.ErrBackupFormat) {
			t.Fatalf("%s: err = %v, want ErrBackupFormat", name, err)
		}
	}
	if v := resptest.Do(t, n.ClientAddr(), "GET", "k"); v.Text() != "v" {
		t.Fatalf("GET k after refused restores = %v", v)
	}
	if err := n.Restore(good.Bytes()); err != nil {
		t.Fatalf("the good backup: %v", err)
	}
}
