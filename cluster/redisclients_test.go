package cluster_test

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/kvorum/kvorum/internal/testcluster"
	"github.com/redis/go-redis/v9"
)

// A go-redis ClusterClient given only a follower's address finds the
// leader through CLUSTER SLOTS / MOVED and writes and reads.
func TestCluster_GoRedisClusterClientViaFollower(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{})
	c.Leader(10 * time.Second)
	follower := c.Followers()[0]
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	rc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{follower.ClientAddr()}, Protocol: 2})
	defer rc.Close()
	for i := 0; i < 50; i++ {
		if err := rc.Set(ctx, "gr"+string(rune('a'+i%26)), i, 0).Err(); err != nil {
			t.Fatalf("go-redis SET through follower: %v", err)
		}
	}
	if err := rc.Set(ctx, "hello", "world", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	got, err := rc.Get(ctx, "hello").Result()
	if err != nil || got != "world" {
		t.Fatalf("GET = %q, %v", got, err)
	}
}

// redis-cli -c against a follower follows the redirect.
func TestCluster_RedisCliFollowsRedirect(t *testing.T) {
	if _, err := exec.LookPath("redis-cli"); err != nil {
		t.Skip("redis-cli not installed (apt-get install redis-tools)")
	}
	c := testcluster.Start(t, testcluster.Options{})
	c.Leader(10 * time.Second)
	f := c.Followers()[0]
	host, port := splitAddr(t, f.ClientAddr())
	cli := func(args ...string) string {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, "redis-cli", append([]string{"-c", "-h", host, "-p", port}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("redis-cli %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	if out := cli("set", "via", "follower"); !strings.HasSuffix(out, "OK") && !strings.HasSuffix(out, "1") {
		t.Fatalf("redis-cli -c set = %q", out)
	}
	if out := cli("get", "via"); !strings.HasSuffix(out, "follower") {
		t.Fatalf("redis-cli -c get = %q", out)
	}
}

func splitAddr(t *testing.T, addr string) (string, string) {
	i := strings.LastIndexByte(addr, ':')
	if i < 0 {
		t.Fatalf("bad address %q", addr)
	}
	return addr[:i], addr[i+1:]
}
