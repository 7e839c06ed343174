"""redis-py (RESP2, as RQ and Huey use it) against kvorum-server --protocol resp2.

Usage: redispy_dropin.py HOST PORT. Prints OK and exits 0 when every check holds.
"""
import sys

import redis

r = redis.Redis(host=sys.argv[1], port=int(sys.argv[2]), socket_timeout=10)
assert r.ping() is True
assert r.set("greeting", "hello") is True
assert r.get("greeting") == b"hello"
assert r.mset({"a": "1", "b": "2"}) is True
assert r.mget("a", "b", "missing") == [b"1", b"2", None]
assert r.incr("counter") == 1 and r.incrby("counter", 5) == 6
assert r.set("once", "x", nx=True) is True and r.set("once", "y", nx=True) is None
assert r.expire("greeting", 100) is True and 0 < r.ttl("greeting") <= 100
assert r.exists("a", "b", "missing") == 2
assert r.delete("a", "b") == 2
assert r.type("counter") == b"string"

# The queue, as RQ and Huey drive it.
assert r.rpush("queue", "j1", "j2", "j3") == 3
assert r.lrange("queue", 0, -1) == [b"j1", b"j2", b"j3"]
assert r.blpop(["empty", "queue"], timeout=1) == (b"queue", b"j1")
assert r.brpoplpush("queue", "processing", timeout=1) == b"j3"
assert r.lrem("processing", 1, "j3") == 1
assert r.blpop(["empty"], timeout=0.2) is None
assert r.llen("queue") == 1

with r.pipeline(transaction=False) as p:
    p.set("p1", "v1")
    p.get("p1")
    p.incr("counter")
    assert p.execute() == [True, b"v1", 7]

# Hashes, as job results are stored.
assert r.hset("job:1", mapping={"status": "done", "tries": "1"}) == 2
assert r.hgetall("job:1") == {b"status": b"done", b"tries": b"1"}
assert r.hincrby("job:1", "tries", 2) == 3
assert r.hget("job:1", "status") == b"done" and r.hlen("job:1") == 2
assert r.hdel("job:1", "status") == 1

# Sorted sets, as schedules: due jobs by score.
assert r.zadd("schedule", {"later": 200, "soon": 100, "now": 50}) == 3
assert r.zrangebyscore("schedule", "-inf", 150) == [b"now", b"soon"]
assert r.zrangebyscore("schedule", "(50", "+inf", withscores=True) == [(b"soon", 100.0), (b"later", 200.0)]
assert r.zscore("schedule", "later") == 200.0
assert r.zpopmin("schedule") == [(b"now", 50.0)]
assert r.bzpopmin(["schedule"], timeout=1) == (b"schedule", b"soon", 100.0)
assert r.zremrangebyscore("schedule", "-inf", "+inf") == 1 and r.zcard("schedule") == 0

# Transactions, as RQ enqueues: MULTI/EXEC pipelines and WATCH.
with r.pipeline(transaction=True) as p:
    p.set("t1", "v")
    p.incr("counter")
    p.rpush("queue", "j4")
    assert p.execute() == [True, 8, 2]
with r.pipeline() as p:
    p.watch("t1")
    assert p.get("t1") == b"v"
    p.multi()
    p.set("t1", "w")
    assert p.execute() == [True]
with r.pipeline() as p:
    p.watch("t1")
    r.set("t1", "changed by another client")
    p.multi()
    p.set("t1", "lost")
    try:
        p.execute()
        raise AssertionError("EXEC after a watched key changed must fail")
    except redis.WatchError:
        pass
assert r.get("t1") == b"changed by another client"

# Pub/sub on the leader.
ps = r.pubsub()
ps.subscribe("events")
assert ps.get_message(timeout=2)["type"] == "subscribe"
assert r.publish("events", "hello") == 1
msg = ps.get_message(timeout=2)
assert msg["type"] == "message" and msg["data"] == b"hello", msg
ps.close()

info = r.info()
assert info["redis_version"] and info["role"] == "master"
print("OK")
