"""The job the RQ failover test enqueues (queues_test.go).

A worker imports this module by name, so the test puts testdata on the
worker's PYTHONPATH, as a deployment puts its application's package.
"""
import os


def record(outdir, n):
    """Append one line to OUTDIR/job-N for each run, so a job run twice shows."""
    with open(os.path.join(outdir, "job-%03d" % n), "a") as f:
        f.write("%d %d\n" % (n, os.getpid()))
    return n * n
