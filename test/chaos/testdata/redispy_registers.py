"""The chaos suite's redis-py register workload (test/chaos, pyregisters_test.go).

Usage: redispy_registers.py --nodes HOST:PORT,... --duration SECONDS --seed N
       [--workers 2] [--keys 2] [--rotate 2] [--max-key-ops 1000]

Unmodified redis-py (Debian's python3-redis, 4.3.4) against a kvorum cluster
while the nemesis breaks it. Each worker thread runs, until the duration
ends, GET k (half) and SET k v GET (half, v never written before) on keys of
its own prefix ("py:"), shared by the workers: KEYS keys at a time, a new set
every ROTATE seconds, and a new set at once when one key has been used
MAX_KEY_OPS times, so no key sees more than that many operations.

  - GET goes through redis.RedisCluster, which learns the leader from
    CLUSTER SLOTS (kvorum's one shard, whose master is the Raft leader) and
    follows -MOVED. It resends a command after a ConnectionError or
    TimeoutError (up to 5 tries on one node), which is harmless for a read:
    its reply still comes from within the operation's interval.
    cluster_error_retry_attempts=1 bounds that to one round.
  - SET k v GET goes through a plain redis.Redis per node, on a connection
    taken from its pool (connect errors mean nothing was sent), with
    redis-py's ClusterParser so -MOVED, -CLUSTERDOWN and -TRYAGAIN come back
    as MovedError, ClusterDownError and TryAgainError. The worker follows a
    MovedError itself, at once the first time and 50 ms apart after that
    (followers name a dead leader until an election ends), within the
    operation's 4 s. It never resends a write after it was sent:
    RedisCluster would (see above), which could apply it twice and answer
    the value its own first send wrote, so writes do not use it.

Outcomes: "ok" (answered); "failed" (not applied, or observed nothing:
redirects still coming after 4 s, CLUSTERDOWN, TRYAGAIN, another error reply,
no connection; for a GET, anything RedisCluster raised but a ConnectionError
or TimeoutError); "unknown" (a SET whose connection broke or timed out after
it was sent, or that answered -UNCERTAIN: it may have been applied; a GET
that ended in a ConnectionError or TimeoutError). The Go side checks a failed
or unknown GET as nothing observed.

Output, on stdout, one JSON object per line:
  {"start": true, "redis_py": "4.3.4"}         first
  {"worker": 0, "kind": "get"|"set", "key": k, "value": v (set; "" for get),
   "output": the value read or replaced ("" for none), "outcome": ...,
   "call": ns, "return": ns, "error": text (failed/unknown only)}
  {"end": true, "ops": n}                        last, after every worker ended
"call" and "return" are time.clock_gettime_ns(CLOCK_MONOTONIC) readings, the
clock Go's runtime reads for time.Now's monotonic part; the Go side reads the
same clock when it starts the script and shifts every time onto its own run
clock. A traceback on stderr and a non-zero status mean the script itself
failed.
"""
import argparse
import collections
import json
import logging
import random
import sys
import threading
import time
import traceback

import redis
from redis.cluster import ClusterNode, ClusterParser
from redis.exceptions import (ClusterDownError, ConnectionError, MovedError,
                              ResponseError, TimeoutError, TryAgainError)

OP_BUDGET = 4.0  # seconds one operation may take, redirects included


def now_ns():
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC)


class Out:
    """One JSON line at a time on stdout, from any thread."""

    def __init__(self):
        self.lock = threading.Lock()
        self.n = 0

    def emit(self, **fields):
        line = json.dumps(fields)
        with self.lock:
            sys.stdout.write(line + "\n")
            sys.stdout.flush()
            self.n += 1


class Keys:
    """The keys in use: a new set every rotate seconds, or as soon as one
    key has been handed out max_ops times."""

    def __init__(self, n, rotate, max_ops, start):
        self.n, self.rotate, self.max_ops, self.start = n, rotate, max_ops, start
        self.lock = threading.Lock()
        self.epoch, self.gen = 0, 0
        self.used = collections.Counter()

    def pick(self, rng):
        with self.lock:
            epoch = int((time.monotonic() - self.start) / self.rotate)
            if epoch > self.epoch:
                self.epoch, self.gen = epoch, 0
            key = "py:%d.%d:%d" % (self.epoch, self.gen, rng.randrange(self.n))
            self.used[key] += 1
            if self.used[key] >= self.max_ops:
                self.gen += 1
            return key


def split(addr):
    host, port = addr.rsplit(":", 1)
    return host, int(port)


class Worker:
    def __init__(self, wid, nodes, seed, keys, out, deadline):
        self.id, self.nodes, self.keys, self.out, self.deadline = wid, nodes, keys, out, deadline
        self.rng = random.Random(seed * 1000 + wid)
        self.addr = self.rng.choice(nodes)  # where the next SET goes
        self.plain = {}  # addr -> redis.Redis
        self.cluster = None

    def redis_for(self, addr):
        r = self.plain.get(addr)
        if r is None:
            host, port = split(addr)
            pool = redis.ConnectionPool(host=host, port=port, parser_class=ClusterParser,
                                        socket_timeout=3, socket_connect_timeout=1,
                                        retry_on_timeout=False)
            r = self.plain[addr] = redis.Redis(connection_pool=pool)
        return r

    def other_node(self):
        self.addr = self.rng.choice(self.nodes)

    def set_get(self, key, value):
        """SET key value GET: (outcome, replaced value, error text)."""
        end = time.monotonic() + OP_BUDGET
        hops = 0
        while True:
            r = self.redis_for(self.addr)
            pool = r.connection_pool
            try:
                conn = pool.get_connection("SET")
            except (ConnectionError, TimeoutError, OSError) as e:
                self.other_node()  # nothing sent
                if time.monotonic() > end:
                    return "failed", "", "connect: %s" % e
                time.sleep(0.05)  # back off before the next node
                continue
            try:
                conn.send_command("SET", key, value, "GET")
                reply = r.parse_response(conn, "SET", get=True)
            except MovedError as e:
                pool.release(conn)
                self.addr = "%s:%d" % (e.host, e.port)
                hops += 1
                if time.monotonic() > end:
                    return "failed", "", "MOVED %s (gave up after %d redirects)" % (self.addr, hops)
                if hops > 1:
                    # Followers name the old leader until an election ends.
                    time.sleep(0.05)
                continue
            except (ClusterDownError, TryAgainError) as e:
                pool.release(conn)
                self.other_node()
                return "failed", "", "%s: %s" % (type(e).__name__, e)
            except ResponseError as e:
                pool.release(conn)
                if str(e).startswith("UNCERTAIN"):
                    return "unknown", "", "UNCERTAIN: %s" % e
                return "failed", "", "%s: %s" % (type(e).__name__, e)
            except (ConnectionError, TimeoutError, OSError) as e:
                conn.disconnect()
                pool.release(conn)
                self.other_node()
                return "unknown", "", "%s after send: %s" % (type(e).__name__, e)
            pool.release(conn)
            return "ok", (reply or b"").decode(), None

    def get(self, key):
        """GET key through RedisCluster: (outcome, value, error text)."""
        try:
            if self.cluster is None:
                self.cluster = redis.RedisCluster(
                    startup_nodes=[ClusterNode(*split(a)) for a in self.nodes],
                    socket_timeout=2, socket_connect_timeout=1, cluster_error_retry_attempts=1)
            return "ok", (self.cluster.get(key) or b"").decode(), None
        except Exception as e:  # a read that failed observed nothing
            if self.cluster is not None and not isinstance(e, ResponseError):
                self.cluster.close()
                self.cluster = None  # start afresh from CLUSTER SLOTS
            outcome = "unknown" if isinstance(e, (ConnectionError, TimeoutError)) else "failed"
            return outcome, "", "%s: %s" % (type(e).__name__, e)

    def run(self):
        n = 0
        while time.monotonic() < self.deadline:
            key = self.keys.pick(self.rng)
            if self.rng.randrange(2) == 0:
                kind, value = "get", ""
                call = now_ns()
                outcome, output, err = self.get(key)
            else:
                kind, value = "set", "py%d-%d" % (self.id, n)
                call = now_ns()
                outcome, output, err = self.set_get(key, value)
            ret = now_ns()
            fields = dict(worker=self.id, kind=kind, key=key, value=value, output=output,
                          outcome=outcome, call=call)
            fields["return"] = ret
            if err:
                fields["error"] = err
            self.out.emit(**fields)
            n += 1
            if outcome != "ok":
                time.sleep(0.02)  # pacing after a failure
            time.sleep(self.rng.randrange(3) / 1000)  # pacing


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nodes", required=True)
    ap.add_argument("--duration", type=float, required=True)
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--keys", type=int, default=2)
    ap.add_argument("--rotate", type=float, default=2.0)
    ap.add_argument("--max-key-ops", type=int, default=1000)
    a = ap.parse_args()
    # RedisCluster logs every redirect and retry with a traceback; without a
    # handler Python would print them all to stderr.
    logging.getLogger("redis").addHandler(logging.NullHandler())
    nodes = a.nodes.split(",")
    start = time.monotonic()
    keys = Keys(a.keys, a.rotate, a.max_key_ops, start)
    out = Out()
    out.emit(start=True, redis_py=redis.__version__)
    workers = [Worker(i, nodes, a.seed, keys, out, start + a.duration) for i in range(a.workers)]
    crashed = []

    def run(w):
        try:
            w.run()
        except BaseException:
            traceback.print_exc()
            crashed.append(w.id)

    threads = [threading.Thread(target=run, args=(w,), daemon=True) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if crashed:
        sys.exit("workers %s crashed" % crashed)
    out.emit(end=True, ops=out.n - 1)


if __name__ == "__main__":
    main()
