"""RQ's producer side and the final count, through a kvorum leader crash.

Usage: rq_failover.py HOST PORT1 PORT2 PORT3 MASTER_NAME OUTDIR JOBS

The worker runs elsewhere (rq_worker_loop.sh); this script only enqueues and
counts, through redis-py's Sentinel.master_for as an RQ application does.
It prints one JSON line per phase and reads one line from stdin between
phases:

1. Enqueues the first half of JOBS jobs (rqjobs.record(OUTDIR, n), job id
   job-NNN) and prints {"phase": "enqueued"}. Waits for "killed": the caller
   has killed the leader.
2. Enqueues the second half through the same connection object, retrying a
   job on ConnectionError or TimeoutError under the same job id, and prints
   {"phase": "recovered", "seconds": from "killed" to the first enqueue that
   answered, "errors": [...], "retried": job ids whose enqueue was retried}.
   Waits for "restarted": the killed node is back.
3. Polls until every job is finished, or until the queue is empty and
   nothing has changed for SETTLE seconds, and prints {"phase": "done",
   "statuses": {id: status}, "in_queue": [...], "started": [ids in the
   started registry], "failed": {id: last line of exc_info}, "resumed":
   seconds from "killed" to the first job the worker started after it}.
Any other failure ends the script with a traceback and a non-zero status.
"""
import json
import sys
import time
from datetime import timezone

import redis
from redis.sentinel import Sentinel
from rq import Queue
from rq.job import Job
from rq.registry import FailedJobRegistry, StartedJobRegistry

import rqjobs

host = sys.argv[1]
ports = [int(p) for p in sys.argv[2:5]]
name = sys.argv[5]
outdir = sys.argv[6]
total = int(sys.argv[7])
RETRY_FOR = 10.0  # seconds an enqueue keeps retrying through a failover
SETTLE = 3.0  # seconds the states must hold before unfinished jobs count as stuck
WAIT_FOR = 120.0  # seconds phase 3 waits at most

ids = ["job-%03d" % n for n in range(total)]


def emit(**fields):
    print(json.dumps(fields), flush=True)


def expect(line):
    got = sys.stdin.readline().strip()
    if got != line:
        sys.exit("expected %r on stdin, got %r" % (line, got))


sentinel = Sentinel([(host, p) for p in ports], socket_timeout=1)
conn = sentinel.master_for(name, socket_timeout=5)
queue = Queue("default", connection=conn)


def enqueue(n):
    """Enqueues job n, retrying through a failover; returns the errors seen."""
    errors = []
    start = time.monotonic()
    while True:
        try:
            queue.enqueue(rqjobs.record, outdir, n, job_id=ids[n], result_ttl=3600)
            return errors
        except (redis.ConnectionError, redis.TimeoutError) as e:
            errors.append("%s: %s" % (type(e).__name__, e))
            if time.monotonic() - start > RETRY_FOR:
                raise
            time.sleep(0.05)


half = total // 2
for n in range(half):
    assert not enqueue(n), "no failover yet, yet an enqueue failed"
emit(phase="enqueued", jobs=half)

expect("killed")
killed, killed_wall = time.monotonic(), time.time()
first = None
errors, retried = [], []
for n in range(half, total):
    errs = enqueue(n)
    if first is None:
        first = time.monotonic() - killed
    if errs:
        retried.append(ids[n])
        errors.extend(errs)
emit(phase="recovered", seconds=first, errors=errors, retried=retried)

expect("restarted")
started_at = time.monotonic()
started = StartedJobRegistry("default", connection=conn)
failed = FailedJobRegistry("default", connection=conn)
last, since = None, time.monotonic()
while True:
    try:
        jobs = Job.fetch_many(ids, connection=conn)
        in_queue = queue.get_job_ids()
        running = started.get_job_ids()
    except (redis.ConnectionError, redis.TimeoutError):
        time.sleep(0.2)
        continue
    statuses = {}
    for i, j in zip(ids, jobs):
        s = j.get_status(refresh=False) if j else None
        statuses[i] = getattr(s, "value", s)  # a JobStatus, a str, or None: no such job
    if all(s == "finished" for s in statuses.values()):
        break
    # A job stranded in "started" by the crash stays there: only the queue
    # must be empty, and nothing may have moved for SETTLE seconds.
    state = (statuses, in_queue, running)
    if state != last:
        last, since = state, time.monotonic()
    elif not in_queue and time.monotonic() - since >= SETTLE:
        break
    if time.monotonic() - started_at > WAIT_FOR:
        break
    time.sleep(0.2)

# The worker's recovery: the first job it started after the kill.
after = [j.started_at.replace(tzinfo=timezone.utc).timestamp() for j in jobs
         if j and j.started_at and j.started_at.replace(tzinfo=timezone.utc).timestamp() > killed_wall]
failures = {}
for i in failed.get_job_ids():
    job = Job.fetch(i, connection=conn)
    failures[i] = (job.exc_info or "").strip().splitlines()[-1:]
emit(phase="done", statuses=statuses, in_queue=in_queue, started=running, failed=failures,
     resumed=(min(after) - killed_wall) if after else None, seconds=time.monotonic() - started_at)
