#!/usr/bin/env bash
# bench/compare.sh: kvorum against redis-server with an fsync on every
# write (appendonly yes, appendfsync always), same machine, same run.
#
# It builds kvorum-server, starts it (resp2 replies, as a drop-in) once per
# Raft log store and redis-server on free loopback ports with data in a
# temporary directory, runs redis-benchmark -t set,get,lpush,rpop at pipeline
# depth 1 and 16 against each, interleaved test by test (redis, then kvorum
# on each store), prints a markdown table with the kvorum/redis ratios, and
# cleans up. One run gives every figure of #14's goals; lpush runs before
# rpop at each depth, with the same N, so every RPOP pops an item that LPUSH
# pushed (redis-benchmark's list is one key, "mylist"; a pop test warns when
# the list holds fewer items than it will pop).
#
#   bash bench/compare.sh            # or: make bench
#   NODES=3 UHAHA=/tmp/kvdb bash bench/compare.sh
#
# Environment: N (requests, default 200000), C (clients, 50), R (key space,
# 100000), PIPELINES ("1 16"), TESTS ("set get lpush rpop"), NODES (1; 3 runs
# a local three-node cluster per store and benchmarks its leader), STORES
# (the --raft-log-store values, "boltdb wal"), KVORUM_FLAGS (extra server
# flags), and CPUPROFILE=FILE to write a CPU profile of the first
# kvorum-server (the first store's first node) during its runs.
#
# UHAHA=BINARY adds an application of tidwall/uhaha (hashicorp/raft behind
# a Redis protocol front), e.g. its examples/kvdb built with
# `go build -o /tmp/kvdb .`: NODES nodes of it (-n ID -a ADDR -d DIR; the
# first bootstraps, the others join it with -j), each test run against its
# leader after redis and kvorum, with columns for its ops/s, uhaha/redis and
# kvorum/uhaha per store. It runs with --sync, uhaha's default, given
# explicitly so that an application defaulting to --nosync is still compared
# with an fsync on every Raft log write, as redis and kvorum are; and with
# --localtime, or its clock waits for an internet time server. UHAHA_FLAGS
# adds flags (e.g. "--backend bolt": hashicorp/raft-boltdb instead of its
# default leveldb). A test whose command the binary lacks shows "—" (kvdb
# has SET and GET but no lists). Two differences to keep in mind: uhaha
# serves a read from the leader's state without a leadership round per
# read, and kvdb gives about half of redis-benchmark's SETs (key:*, value
# xxx) an expiry of 0-10 s, so more of its GETs find no key.
set -euo pipefail

N=${N:-200000}
C=${C:-50}
R=${R:-100000}
PIPELINES=${PIPELINES:-1 16}
TESTS=${TESTS:-set get lpush rpop}
STORES=${STORES:-boltdb wal}
ROOT=$(cd "$(dirname "$0")/.." && pwd)

for tool in go redis-server redis-benchmark redis-cli; do
  command -v "$tool" >/dev/null || { echo "compare.sh: $tool not found (apt-get install redis-server redis-tools)" >&2; exit 1; }
done
if [ -n "${UHAHA:-}" ] && [ ! -x "$UHAHA" ]; then
  echo "compare.sh: UHAHA=$UHAHA is not an executable file" >&2
  exit 1
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/kvorum-bench.XXXXXX")
pids=()
cleanup() {
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$TMP"
}
trap cleanup EXIT

# free_port prints a loopback port nothing listens on, below the kernel's
# ephemeral range (so no benchmark client connection can be holding it).
free_port() {
  local p lo
  lo=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
  for _ in $(seq 100); do
    p=$((10000 + RANDOM % (lo - 10000)))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"
      return
    fi
  done
  echo "compare.sh: no free port" >&2
  exit 1
}

# wait_ready PORT NAME [LOG]: poll until a SET is acknowledged (deadline
# 30 s; then print LOG, if named, and exit).
wait_ready() {
  local deadline=$((SECONDS + 30))
  until [ "$(redis-cli -p "$1" SET compare:ready 1 2>/dev/null)" = "OK" ]; do
    if [ $SECONDS -ge $deadline ]; then
      echo "compare.sh: $2 on port $1 not ready after 30 s" >&2
      [ -n "${3:-}" ] && cat "$3" >&2
      exit 1
    fi
    sleep 0.1
  done
}

echo "building kvorum-server..." >&2
(cd "$ROOT" && go build -o "$TMP/kvorum-server" ./cmd/kvorum-server)

NODES=${NODES:-1}
profile_flags=()
if [ -n "${CPUPROFILE:-}" ]; then
  profile_flags=(--cpuprofile "$CPUPROFILE")
fi
kpid=""

# start_kvorum STORE: start NODES nodes on --raft-log-store STORE and set
# KPORT[STORE] to the client port of the one that acknowledges a SET
# (followers answer -MOVED). Not in a subshell: pids must reach cleanup.
declare -A KPORT KPORTS
start_kvorum() {
  local store=$1 i port gport seed="" leader="" deadline
  local kports=()
  for i in $(seq "$NODES"); do
    port=$(free_port)
    kports+=("$port")
    cluster_flags=(--gossip-addr "")
    if [ "$NODES" -gt 1 ]; then
      gport=$(free_port)
      cluster_flags=(--node-id "n$i" --gossip-addr "127.0.0.1:$gport" --raft-addr "127.0.0.1:$(free_port)" --bootstrap-expect "$NODES")
      [ -n "$seed" ] && cluster_flags+=(--join "$seed")
      [ -z "$seed" ] && seed="127.0.0.1:$gport"
    else
      cluster_flags+=(--raft-addr 127.0.0.1:0)
    fi
    # shellcheck disable=SC2086 # KVORUM_FLAGS is a list of flags
    "$TMP/kvorum-server" --listen "127.0.0.1:$port" "${cluster_flags[@]}" --raft-log-store "$store" \
      --data-dir "$TMP/kvorum-$store-$i" --protocol resp2 --log-level warn "${profile_flags[@]}" ${KVORUM_FLAGS:-} \
      >/dev/null 2>"$TMP/kvorum-$store-$i.log" &
    pids+=($!)
    [ -z "$kpid" ] && kpid=$!
    profile_flags=() # profile the first node only
  done
  deadline=$((SECONDS + 30))
  while [ -z "$leader" ]; do
    for port in "${kports[@]}"; do
      if [ "$(redis-cli -p "$port" SET compare:ready 1 2>/dev/null)" = "OK" ]; then leader=$port; break; fi
    done
    if [ -z "$leader" ]; then
      [ $SECONDS -ge $deadline ] && { echo "compare.sh: no kvorum leader on $store after 30 s" >&2; cat "$TMP"/kvorum-"$store"-*.log >&2; exit 1; }
      sleep 0.1
    fi
  done
  KPORT[$store]=$leader
  KPORTS[$store]="${kports[*]}"
}

# start_uhaha: start NODES nodes of the uhaha binary $UHAHA and set UPORT to
# its leader's client port. A node joins through the leader, so the first
# node must lead (it bootstraps alone) before the others start; then wait
# until the leader's configuration holds them all and ask it for the leader.
UPORT=""
start_uhaha() {
  local i port seed="" n deadline join
  for i in $(seq "$NODES"); do
    port=$(free_port)
    join=()
    [ -n "$seed" ] && join=(-j "127.0.0.1:$seed")
    # shellcheck disable=SC2086 # UHAHA_FLAGS is a list of flags
    "$UHAHA" -n "$i" -a "127.0.0.1:$port" -d "$TMP/uhaha-$i" --sync --localtime -l warn "${join[@]}" ${UHAHA_FLAGS:-} \
      >/dev/null 2>"$TMP/uhaha-$i.log" &
    pids+=($!)
    if [ -z "$seed" ]; then
      seed=$port
      wait_ready "$seed" "uhaha node 1" "$TMP/uhaha-1.log"
    fi
  done
  deadline=$((SECONDS + 30))
  until n=$(redis-cli -p "$seed" RAFT INFO num_peers 2>/dev/null | tr -d '\r' | sed -n 2p) && [ "$n" = $((NODES - 1)) ]; do
    [ $SECONDS -ge $deadline ] && { echo "compare.sh: uhaha has ${n:-no} peers of $((NODES - 1)) after 30 s" >&2; cat "$TMP"/uhaha-*.log >&2; exit 1; }
    sleep 0.1
  done
  UPORT=$(redis-cli -p "$seed" RAFT LEADER 2>/dev/null | tr -d '\r')
  UPORT=${UPORT##*:}
  wait_ready "$UPORT" "uhaha leader"
}

# uhaha_knows TEST: whether the uhaha binary has TEST's command (the test's
# name up to its first "_", sent without arguments: a known command answers
# a wrong number of arguments, an unknown one "unknown command").
uhaha_knows() {
  local out
  out=$(redis-cli -p "$UPORT" "${1%%_*}" 2>&1 || true)
  [[ ${out,,} != *"unknown command"* ]]
}

# check_list PORT NAME P: before a pop test, warn when mylist (the one list
# of redis-benchmark's LPUSH, RPUSH, LPOP and RPOP) holds fewer items than
# the test pops (N in batches of P), since the pops past its end would time
# a read of an empty list.
check_list() {
  local have need=$(( (N + $3 - 1) / $3 * $3 ))
  have=$(redis-cli -p "$1" LLEN mylist 2>/dev/null | tr -d '\r')
  if ! [ "$have" -ge "$need" ] 2>/dev/null; then
    echo "compare.sh: warning: mylist on $2 holds ${have:-nothing} items for $need pops (run lpush before rpop, same N)" >&2
  fi
  return 0
}

# acct PORT: the accounting counters of a node's INFO raft, in this order:
# log_writes commands_applied log_write_usec apply_usec batch_queue_usec
# batch_commit_usec proposed_batches proposed_commands log_syncs_per_write
# read_rounds reads_confirmed read_round_usec batch_linger_usec
# batch_linger_joined.
acct() {
  redis-cli -p "$1" INFO raft | tr -d '\r' | awk -F: '
    { v[$1] = $2 }
    END { split("log_writes commands_applied log_write_usec apply_usec batch_queue_usec batch_commit_usec proposed_batches proposed_commands log_syncs_per_write read_rounds reads_confirmed read_round_usec batch_linger_usec batch_linger_joined", k, " ")
          for (i = 1; i <= 14; i++) printf "%s ", (("raft_" k[i]) in v) ? v["raft_" k[i]] : 0; print "" }'
}

# follower_port STORE: the client port of one node of STORE other than its
# leader, or nothing (and success, for set -e) when it has no other node.
follower_port() {
  local p
  for p in ${KPORTS[$1]}; do
    [ "$p" != "${KPORT[$1]}" ] && { echo "$p"; return 0; }
  done
  return 0
}

# acct_row TEST STORE LEADER_BEFORE LEADER_AFTER FOLLOWER_BEFORE FOLLOWER_AFTER:
# one row of the commit-cycle table from the counters around a run, or, for
# a run without writes, a row of the read-round table starting "R".
acct_row() {
  awk -v test="$1" -v store="$2" -v lb="$3" -v la="$4" -v fb="$5" -v fa="$6" 'BEGIN {
    split(lb, b, " "); split(la, a, " "); split(fb, c, " "); split(fa, d, " ")
    for (i = 1; i <= 14; i++) { L[i] = a[i] - b[i]; F[i] = d[i] - c[i] }
    if (L[7] <= 0) {
      if (L[10] > 0) printf "R| %s | %s | %d | %.1f | %.3f |\n", test, store, L[10], L[11] / L[10], L[12] / L[10] / 1000
      else printf "| %s | %s | no writes |\n", test, store
      exit
    }
    syncs = a[9]
    fsl = (L[2] > 0) ? L[1] * syncs / L[2] : 0
    fsf = (F[2] > 0) ? F[1] * syncs / F[2] : 0
    queue = L[5] / L[7] / 1000; commit = L[6] / L[7] / 1000
    lstore = (L[1] > 0) ? L[3] / L[1] / 1000 : 0; fstore = (F[1] > 0) ? F[3] / F[1] / 1000 : 0
    apply = L[4] / L[7] / 1000
    repl = commit - lstore - apply; if (repl < 0) repl = 0
    printf "| %s | %s | %.3f | %.3f | %.1f | %.2f | %.2f | %.1f | %.2f | %.2f | %.2f | %.2f | %.2f |\n",
      test, store, fsl, fsf, L[8] / L[7], queue, L[13] / L[7] / 1000, L[14] / L[7], lstore, repl, fstore, apply, commit }'
}

# One cluster per store, all started before the first test so the tests
# interleave; an idle cluster only sends heartbeats.
for store in $STORES; do
  echo "starting kvorum-server on $store ($NODES node(s))..." >&2
  start_kvorum "$store"
done

RPORT=$(free_port)
mkdir -p "$TMP/redis"
redis-server --port "$RPORT" --bind 127.0.0.1 --appendonly yes --appendfsync always \
  --dir "$TMP/redis" --save '' --daemonize no --logfile "$TMP/redis.log" &
pids+=($!)

wait_ready "$RPORT" redis-server

if [ -n "${UHAHA:-}" ]; then
  echo "starting $UHAHA ($NODES node(s))..." >&2
  start_uhaha
fi

# bench PORT P TEST: ops/s of one redis-benchmark test.
bench() {
  redis-benchmark -h 127.0.0.1 -p "$1" -c "$C" -n "$N" -r "$R" -P "$2" -t "$3" -q 2>/dev/null |
    tr '\r' '\n' | awk -v t="$3" 'toupper($1) == toupper(t) ":" { v = $2 } END { if (v == "") v = 0; print v }'
}

rows=()
declare -A kops # one test's kvorum ops/s per store, for the kvorum/uhaha ratios
acct_rows=()
read_rows=()
for p in $PIPELINES; do
  for t in $TESTS; do
    echo "running $t -P $p against redis-server, kvorum-server ($STORES)${UHAHA:+ and uhaha}..." >&2
    pop=""; case $t in lpop | rpop) pop=1 ;; esac
    [ -n "$pop" ] && check_list "$RPORT" redis-server "$p"
    r=$(bench "$RPORT" "$p" "$t")
    row="| ${t^^} P$p | $(printf '%.0f' "$r") |"
    kops=()
    for store in $STORES; do
      fport=$(follower_port "$store")
      lb=$(acct "${KPORT[$store]}"); fb=""; [ -n "$fport" ] && fb=$(acct "$fport")
      [ -n "$pop" ] && check_list "${KPORT[$store]}" "kvorum $store" "$p"
      k=$(bench "${KPORT[$store]}" "$p" "$t")
      kops[$store]=$k
      la=$(acct "${KPORT[$store]}"); fa=""; [ -n "$fport" ] && fa=$(acct "$fport")
      arow=$(acct_row "${t^^} P$p" "$store" "$lb" "$la" "${fb:-$lb}" "${fa:-$la}")
      if [ "${arow:0:1}" = R ]; then read_rows+=("${arow:1}"); else acct_rows+=("$arow"); fi
      row+=$(awk -v r="$r" -v k="$k" 'BEGIN {
        ratio = (r > 0) ? sprintf("%.2f", k / r) : "n/a"
        printf " %.0f | %s× |", k, ratio }')
    done
    if [ -n "${UHAHA:-}" ]; then
      if uhaha_knows "$t"; then
        [ -n "$pop" ] && check_list "$UPORT" uhaha "$p"
        u=$(bench "$UPORT" "$p" "$t")
        row+=$(awk -v r="$r" -v u="$u" 'BEGIN { printf " %.0f | %s |", u, (r > 0) ? sprintf("%.2f×", u / r) : "n/a" }')
        for store in $STORES; do
          row+=$(awk -v u="$u" -v k="${kops[$store]}" 'BEGIN { printf " %s |", (u > 0) ? sprintf("%.2f×", k / u) : "n/a" }')
        done
      else
        row+=" — | — |"
        for store in $STORES; do row+=" — |"; done
      fi
    fi
    rows+=("$row")
  done
done

echo
echo "redis-benchmark -c $C -n $N -r $R -t ${TESTS// /,}; $(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
if [ -n "${UHAHA:-}" ]; then
  echo
  echo "uhaha: $UHAHA ($("$UHAHA" -v 2>/dev/null | head -n1)), --sync --localtime ${UHAHA_FLAGS:-}"
fi
echo
what="one node"
[ "$NODES" -gt 1 ] && what="$NODES nodes, leader"
head="| test | redis-server AOF always (ops/s) |"
rule="|---|---|"
for store in $STORES; do
  head+=" kvorum $store, $what (ops/s) | kvorum $store/redis |"
  rule+="---|---|"
done
if [ -n "${UHAHA:-}" ]; then
  head+=" uhaha, $what (ops/s) | uhaha/redis |"
  rule+="---|---|"
  for store in $STORES; do
    head+=" kvorum $store/uhaha |"
    rule+="---|"
  done
fi
echo "$head"
echo "$rule"
printf '%s\n' "${rows[@]}"
echo
echo "Commit cycle per test (INFO raft's accounting, differences around each run; ms per batch"
echo "unless named; linger = the part of the queue spent waiting for the clients just answered, joined = the"
echo "commands that arrived meanwhile; replication = commit - leader store - apply, the followers' round trip"
echo "with their store):"
echo
echo "| test | store | fsyncs/cmd leader | fsyncs/cmd follower | cmds/batch | queue | linger | joined (cmds/batch) | leader store (ms/write) | replication | follower store (ms/write) | leader apply | commit |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
printf '%s\n' "${acct_rows[@]}"
if [ "${#read_rows[@]}" -gt 0 ]; then
  echo
  echo "Read rounds per test (the leader's read gate: leadership confirmations, reads each served, ms per round):"
  echo
  echo "| test | store | rounds | reads/round | round (ms) |"
  echo "|---|---|---:|---:|---:|"
  printf '%s\n' "${read_rows[@]}"
fi

if [ -n "${CPUPROFILE:-}" ]; then
  kill -TERM "$kpid"
  wait "$kpid" 2>/dev/null || true
  echo "CPU profile of kvorum-server written to $CPUPROFILE" >&2
fi
