package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	kvclient "github.com/kvorum/kvorum/client"
	"github.com/kvorum/kvorum/internal/resptest"
	"github.com/kvorum/kvorum/resp"
)

// The three-process failover tests with authentication on (issue #15):
// the same scenarios as their plain counterparts, every node run with
// --requirepass, every client carrying the password.

// failoverPassword is the default user's password in the tests below.
const failoverPassword = "failover-s3cret"

// errNoAuth matches the -NOAUTH reply of a node with a password to a
// command sent before AUTH.
var errNoAuth = &resp.Error{Code: "NOAUTH"}

// TestExactlyOnce_KillLeader with --requirepass on every node: the smart
// client with Options.Password rides through the leader kills with no
// unknown outcome, no job lost or duplicated; afterwards every node, the
// restarted ones too, refuses a client without the password with -NOAUTH.
func TestExactlyOnce_WithPassword(t *testing.T) {
	nodes := exactlyOnceKillLeader(t, failoverPassword)
	addrs := make([]string, len(nodes))
	for i, nd := range nodes {
		addrs[i] = nd.client
		if v, err := resptest.Ask(nd.client, "GET", "eo:pending"); err != nil || !errors.Is(resp.AsError(v), errNoAuth) {
			t.Errorf("%s: GET without AUTH = %v, %v, want -NOAUTH", nd.id, v, err)
		}
	}
	anon, err := kvclient.New(kvclient.Options{Addrs: addrs, MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer anon.Close()
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	if _, err := anon.Push(ctx, "eo", "intruder"); !errors.Is(err, errNoAuth) {
		t.Errorf("Push by a client without Options.Password: %v, want -NOAUTH", err)
	}
}

// TestSentinel_RedisPyFailover with --requirepass on every node: redis-py's
// Sentinel, given the password for its Sentinel connections and for the
// master, rides through the leader's kill; SENTINEL commands without AUTH
// are refused on the client and the Sentinel port alike.
func TestSentinel_RedisPyFailoverWithPassword(t *testing.T) {
	redisPySentinelFailover(t, failoverPassword)
}

// redisPyWithPassword runs a redis-py script (python3 -c
// redisPyWithPassword PASSWORD SCRIPT ARGS...) with the password set where
// a user sets it, and nowhere else: sentinel_kwargs={"password": ...} (plus
// the socket_* options redis-py would otherwise copy there) for
// Sentinel's own connections, password= for the master's (master_for) and
// for the script's direct redis.Redis connections. Sentinel's internal
// Redis class is left as it is, so its connections have the password only
// through sentinel_kwargs.
const redisPyWithPassword = `
import runpy, sys
import redis
from redis import sentinel

password = sys.argv[1]
sys.argv = sys.argv[2:]


class Sentinel(sentinel.Sentinel):
    def __init__(self, sentinels, sentinel_kwargs=None, **kwargs):
        assert sentinel_kwargs is None, sentinel_kwargs
        sentinel_kwargs = {k: v for k, v in kwargs.items() if k.startswith("socket_")}
        sentinel_kwargs["password"] = password
        super().__init__(sentinels, sentinel_kwargs=sentinel_kwargs, **kwargs)

    def master_for(self, service_name, **kwargs):
        return super().master_for(service_name, password=password, **kwargs)


class Redis(redis.Redis):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, password=password, **kwargs)


sentinel.Sentinel, redis.Redis = Sentinel, Redis
runpy.run_path(sys.argv[0], run_name="__main__")
`

// askAs is resptest.Ask after AUTH password, sent in the same write (just
// resptest.Ask if password is ""). A refused AUTH is an error.
func askAs(addr, password string, args ...string) (resp.Value, error) {
	if password == "" {
		return resptest.Ask(addr, args...)
	}
	nc, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return resp.Value{}, err
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	req := resp.AppendCommand(resp.AppendCommand(nil, "AUTH", password), args...)
	if _, err := nc.Write(req); err != nil {
		return resp.Value{}, err
	}
	rd := resp.NewReader(nc, resp.Limits{})
	v, err := rd.ReadValue()
	if err != nil {
		return resp.Value{}, err
	}
	if v.IsError() {
		return resp.Value{}, fmt.Errorf("AUTH: %w", resp.AsError(v))
	}
	return rd.ReadValue()
}
