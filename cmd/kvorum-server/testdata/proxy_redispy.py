"""Plain redis-py (no Cluster, no Sentinel) connected to a kvorum follower.

Usage: proxy_redispy.py MODE HOST FOLLOWER_PORT LEADER_PORT

MODE proxy: the follower runs --follower-mode proxy, so every connection
below is relayed to the leader: strings, pipelines (also as a connection's
first bytes, handed over in mid-batch), MULTI/EXEC with WATCH (a conflict
from a second client makes EXEC answer nil), BLPOP woken by a push from
another connection, SUBSCRIBE/PUBLISH. A connection that says
READWRITE first still gets MOVED.

MODE redirect: the follower runs the default --follower-mode redirect, so
a plain client's write gets MOVED naming the leader.

Prints OK and exits 0 when every check holds; any failure ends the script
with a traceback and a non-zero status.
"""
import sys
import threading
import time

import redis

mode, host = sys.argv[1], sys.argv[2]
follower_port, leader_port = int(sys.argv[3]), int(sys.argv[4])
moved = "MOVED 0 %s:%d" % (host, leader_port)


def connect(port):
    # One connection per object: what a WATCH or a BLPOP is tied to.
    return redis.Redis(host, port, socket_timeout=10, single_connection_client=True)


def raw(client, *args):
    """Sends one command on client's connection; returns the reply as read."""
    client.connection.send_command(*args)
    return client.connection.read_response()


def wait_for(what, check, timeout=5):
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            sys.exit("timed out after %ss waiting for %s" % (timeout, what))
        time.sleep(0.005)  # poll interval


def expect_moved(call):
    try:
        call()
    except redis.ResponseError as e:
        assert str(e) == moved, (str(e), moved)
    else:
        raise AssertionError("no %s" % moved)


leader = connect(leader_port)

if mode == "redirect":
    r = connect(follower_port)
    assert r.ping() is True  # a local command, answered by the follower
    expect_moved(lambda: r.set("k", "v"))
    expect_moved(lambda: r.get("k"))
    assert r.execute_command("ROLE")[0] == b"slave"
    print("OK")
    sys.exit(0)

assert mode == "proxy", mode
r = connect(follower_port)
assert r.ping() is True
assert r.set("greeting", "hello") is True
assert r.get("greeting") == b"hello"
assert leader.get("greeting") == b"hello"  # the write went to the leader
assert r.execute_command("ROLE")[0] == b"master"  # the leader answers now
assert r.incr("counter") == 1 and r.incrby("counter", 4) == 5
pipe = r.pipeline(transaction=False)
pipe.set("a", "1").set("b", "2").mget("a", "b", "missing").delete("a", "b")
assert pipe.execute() == [True, True, [b"1", b"2", None], 2]

# A connection whose first bytes are a pipeline: the follower answers the
# PING, hands over at the SET, and the leader gets the rest of the batch.
pipe = connect(follower_port).pipeline(transaction=False)
pipe.ping().set("p", "1").incr("p").get("p")
assert pipe.execute() == [True, True, 2, b"2"]
# The same with MULTI ... EXEC in one write, handed over at MULTI.
tx = connect(follower_port).pipeline(transaction=True)
tx.ping().set("t", "1").incr("t").get("t")
assert tx.execute() == [True, True, 2, b"2"]

# MULTI/EXEC with WATCH, as redis-py's transaction helper does it.
other = connect(follower_port)  # a second client, relayed too
with r.pipeline() as tx:
    tx.watch("balance")
    assert tx.get("balance") is None
    tx.multi()
    tx.set("balance", "10").incrby("balance", 5)
    assert tx.execute() == [True, 15]
with r.pipeline() as tx:
    tx.watch("balance")
    assert other.set("balance", "0") is True  # a conflicting write
    tx.multi()
    tx.set("balance", "20")
    try:
        tx.execute()
    except redis.WatchError:
        pass
    else:
        raise AssertionError("EXEC after a conflicting write did not fail")
# The same by hand, replies unparsed: EXEC itself answers nil.
assert raw(r, "WATCH", "balance") == b"OK"
assert other.incr("balance") == 1
assert raw(r, "MULTI") == b"OK"
assert raw(r, "SET", "balance", "99") == b"QUEUED"
assert raw(r, "EXEC") is None
assert leader.get("balance") == b"1"

# BLPOP through the follower, woken by an RPUSH from another client.
popped = []
waiter = threading.Thread(target=lambda: popped.append(r.blpop(["jobs"], timeout=10)))
waiter.start()
wait_for("the BLPOP to block on the leader",
         lambda: leader.info("clients")["blocked_clients"] == 1)
assert other.rpush("jobs", "j1") == 1
waiter.join(15)
assert popped == [(b"jobs", b"j1")], popped
assert r.blpop(["jobs"], timeout=0.2) is None

# SUBSCRIBE through the follower; PUBLISH from another client.
sub = redis.Redis(host, follower_port, socket_timeout=10).pubsub()
sub.subscribe("news")
msg = sub.get_message(timeout=5)
assert msg and msg["type"] == "subscribe" and msg["channel"] == b"news", msg
assert other.publish("news", "hi") == 1
msg = sub.get_message(timeout=5)
assert msg and msg["type"] == "message" and msg["data"] == b"hi", msg
sub.close()

# A connection that said READWRITE follows redirects: it is not relayed.
aware = connect(follower_port)
assert aware.execute_command("READWRITE") is True
expect_moved(lambda: aware.set("k", "v"))

print("OK")
