"""redis-py's Sentinel client against three kvorum nodes, through a leader crash.

Usage: sentinel_failover.py HOST PORT1 PORT2 PORT3 MASTER_NAME BUDGET_SECONDS

Phase 1 drives strings and the queue through Sentinel.master_for, checks the
Sentinel API as redis-py reads it, subscribes to +switch-master on every
node, and prints one JSON line {"phase": "ready", "master": "host:port"}.
It then waits for a line on stdin: the caller has killed that master.

Phase 2 writes through the same client object, unchanged, retrying on
ConnectionError and TimeoutError (what a Redis Sentinel failover gives a
client) for up to BUDGET_SECONDS, then checks the data and the
+switch-master messages and prints one JSON line {"phase": "done", ...}.
Any other failure ends the script with a traceback and a non-zero status.
"""
import json
import sys
import time

import redis
from redis.sentinel import Sentinel

host = sys.argv[1]
ports = [int(p) for p in sys.argv[2:5]]
name = sys.argv[5]
budget = float(sys.argv[6])


def emit(**fields):
    print(json.dumps(fields), flush=True)


sentinel = Sentinel([(host, p) for p in ports], socket_timeout=1)
master = sentinel.master_for(name, socket_timeout=2)

# Phase 1: the queue and strings through the master, as RQ uses them.
assert master.set("greeting", "hello") is True
assert master.get("greeting") == b"hello"
assert master.lpush("queue", "j1", "j2") == 2
assert master.blpop(["queue"], timeout=1) == (b"queue", b"j2")
assert master.blpop(["empty"], timeout=0.2) is None

# The Sentinel API, asked of every node: all name the same master.
old = sentinel.discover_master(name)
assert master.connection_pool.master_address == old, (master.connection_pool.master_address, old)
nodes = [redis.Redis(host, p, socket_timeout=1) for p in ports]
for node in nodes:
    ip, port = node.sentinel_get_master_addr_by_name(name)
    assert (ip.decode(), port) == old, (ip, port, old)
    state = node.sentinel_master(name)
    assert state["is_master"] and not state["is_sdown"] and (state["ip"], state["port"]) == old, state
    assert state["num-slaves"] == 2 and state["num-other-sentinels"] == 2 and state["quorum"] == 2, state
    replicas = node.sentinel_slaves(name)
    assert len(replicas) == 2 and all(r["is_slave"] and not r["is_sdown"] for r in replicas), replicas
    others = node.sentinel_sentinels(name)
    assert len(others) == 2 and all(s["is_sentinel"] for s in others), others
    # redis-py 4.3.4's sentinel_ckquorum wants a bare OK; Redis, like kvorum, says more.
    assert node.execute_command("SENTINEL", "CKQUORUM", name).startswith(b"OK 3 usable Sentinels"), name
    assert len(node.execute_command("SENTINEL MYID")) == 40
assert sorted(sentinel.discover_slaves(name)) == sorted((host, p) for p in ports if p != old[1])
assert redis.Redis(*old).execute_command("ROLE")[0] == b"master"

# +switch-master, subscribed on every node.
subs = {}
for node, port in zip(nodes, ports):
    ps = node.pubsub()
    ps.subscribe("+switch-master")
    msg = ps.get_message(timeout=2)
    assert msg and msg["type"] == "subscribe", msg
    subs[port] = ps

emit(phase="ready", master="%s:%d" % old)
if not sys.stdin.readline():
    sys.exit("stdin closed before the master was killed")

# Phase 2: the same client object, no code change, through the failover.
start = time.monotonic()
errors = []
while True:
    try:
        assert master.set("after-failover", "yes") is True
        break
    except (redis.ConnectionError, redis.TimeoutError) as e:
        errors.append("%s: %s" % (type(e).__name__, e))
        if time.monotonic() - start > budget:
            emit(phase="done", ok=False, seconds=time.monotonic() - start, errors=errors)
            sys.exit(1)
        time.sleep(0.02)
seconds = time.monotonic() - start

new = sentinel.discover_master(name)
assert new != old and new[1] in ports, (old, new)
assert master.get("greeting") == b"hello"  # acknowledged before the crash
assert master.get("after-failover") == b"yes"
assert master.lpush("queue", "j3") == 2
assert master.blpop(["queue"], timeout=1) == (b"queue", b"j3")
assert master.blpop(["queue"], timeout=1) == (b"queue", b"j1")

# Each surviving node tells of the switch.
switches = []
deadline = time.monotonic() + 5
for port, ps in subs.items():
    if port == old[1]:
        continue
    while time.monotonic() < deadline:
        msg = ps.get_message(timeout=max(0.01, deadline - time.monotonic()))
        if msg and msg["type"] == "message":
            switches.append(msg["data"].decode())
            break
    ps.close()

emit(phase="done", ok=True, seconds=seconds, errors=errors, old="%s:%d" % old, new="%s:%d" % new,
     switches=switches)
