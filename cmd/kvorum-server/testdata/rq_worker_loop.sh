#!/bin/sh
# rq_worker_loop.sh [rq worker options]: runs `rq worker -c rqsettings` and
# starts it again 0.5 s after it exits, as systemd's Restart=always with
# RestartSec=500ms would. The settings module and the jobs' module are found
# on PYTHONPATH. Each exit is logged to stderr.
while :; do
  /usr/bin/python3 -m rq.cli worker -c rqsettings "$@"
  echo "rq_worker_loop: rq worker exited with status $?; restarting in 0.5 s" >&2
  sleep 0.5
done
