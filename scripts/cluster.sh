#!/usr/bin/env bash
# scripts/cluster.sh start|stop|status: a three-node kvorum cluster as
# local processes on 127.0.0.1, as README's "Three local nodes" shows.
#
#   node  client  raft   gossip  data dir  log
#   n1    31417   31418  31419   data/n1   data/n1.log
#   n2    31427   31428  31429   data/n2   data/n2.log
#   n3    31437   31438  31439   data/n3   data/n3.log
#
# The ports stay clear of a single node's defaults (31337-31339) and of
# the docker-compose cluster's host ports (31337, 31347, 31357), so all
# three can run at once. n1's gossip port is everyone's seed.
#
# start builds bin/kvorum-server and bin/kvorum-cli, starts the nodes in the
# background (pids in data/n$i.pid) and waits until one leads. stop sends
# SIGTERM and waits; the nodes run with --leave-on-terminate=false, so a
# stopped cluster starts again with the same three voters and its data.
# Remove data/ to start afresh.
set -euo pipefail
cd "$(dirname "$0")/.."

nodes=(1 2 3)

pid_of() { # prints the pid of node $1 if it is running
  local f="data/n$1.pid"
  [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null && cat "$f"
}

role_of() { # prints master, slave or "-" for the node on client port $1
  bin/kvorum-cli -p "$1" --raw info replication 2>/dev/null | tr -d '\r' | sed -n 's/^role://p' | grep . || echo -
}

start() {
  for i in "${nodes[@]}"; do
    if pid=$(pid_of "$i"); then
      echo "n$i is already running (pid $pid); scripts/cluster.sh stop first" >&2
      exit 1
    fi
  done
  # Stamped as `make build` does (kvorum-server --version).
  local ldflags="-X github.com/kvorum/kvorum/internal/version.stamp=$(git describe --tags --always --dirty 2>/dev/null || echo dev)"
  go build -ldflags "$ldflags" -o bin/kvorum-server ./cmd/kvorum-server
  go build -ldflags "$ldflags" -o bin/kvorum-cli ./cmd/kvorum-cli
  mkdir -p data
  for i in "${nodes[@]}"; do
    bin/kvorum-server --node-id n$i --data-dir data/n$i \
      --listen 127.0.0.1:314${i}7 --raft-addr 127.0.0.1:314${i}8 --gossip-addr 127.0.0.1:314${i}9 \
      --bootstrap-expect 3 --join 127.0.0.1:31419 --leave-on-terminate=false >"data/n$i.log" 2>&1 &
    echo $! >"data/n$i.pid"
  done
  for _ in $(seq 100); do
    for i in "${nodes[@]}"; do
      if [ "$(role_of 314${i}7)" = master ]; then
        status
        return 0
      fi
      if ! pid_of "$i" >/dev/null; then
        echo "n$i exited; the end of data/n$i.log:" >&2
        tail -n 20 "data/n$i.log" >&2
        exit 1
      fi
    done
    sleep 0.1
  done
  echo "no leader after 10s; see data/n*.log" >&2
  status
  exit 1
}

stop() {
  local pids=()
  for i in "${nodes[@]}"; do
    if pid=$(pid_of "$i"); then
      kill -TERM "$pid"
      pids+=("$pid")
    fi
    rm -f "data/n$i.pid"
  done
  for pid in "${pids[@]}"; do
    for _ in $(seq 200); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      echo "pid $pid did not stop within 20s" >&2
      exit 1
    fi
  done
  echo "stopped ${#pids[@]} node(s)"
}

status() {
  for i in "${nodes[@]}"; do
    if pid=$(pid_of "$i"); then
      echo "n$i  pid $pid  client 127.0.0.1:314${i}7  role $(role_of 314${i}7)"
    else
      echo "n$i  not running"
    fi
  done
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: scripts/cluster.sh start|stop|status" >&2; exit 2 ;;
esac
