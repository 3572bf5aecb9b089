# Shared by the chaos scripts. Every script acts on ONE chaos cluster, the one whose run
# directory it is given (--run DIR, written by run.sh): nodes are started, stopped, paused and
# cut off by the PIDs and files in that directory only — never by process name.
#
# $RUN/env (written by run.sh) sets BIN and NODES; $RUN/nN.json is node N's config,
# $RUN/nN.pid its PID, $RUN/blocked the proxy's list of cut links ("1>2" lines),
# $RUN/faults.jsonl the fault timeline the checker reads.
CHAOS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$CHAOS_DIR/../.." && pwd)"

load_run() {
  RUN="$1"
  [ -f "$RUN/env" ] || { echo "not a chaos run directory: $RUN" >&2; exit 2; }
  # shellcheck disable=SC1091
  source "$RUN/env"
}

api_of() { echo "127.0.0.3$1:7301"; }
pid_of() { cat "$RUN/n$1.pid" 2>/dev/null; }
alive() { local p; p=$(pid_of "$1") && [ -n "$p" ] && kill -0 "$p" 2>/dev/null; }
now_ns() { date +%s%N; }

# Waits (at most 5 s) until PID $1 has exited (a zombie counts as exited).
wait_gone() {
  local i
  for i in $(seq 1 50); do
    kill -0 "$1" 2>/dev/null || return 0
    grep -q ') Z' "/proc/$1/stat" 2>/dev/null && return 0
    sleep 0.1
  done
}

# log_fault FAULT PHASE TARGET: one line of the timeline.
log_fault() {
  printf '{"timeNs":%s,"fault":"%s","phase":"%s","target":"%s"}\n' "$(now_ns)" "$1" "$2" "$3" >> "$RUN/faults.jsonl"
  echo "$(date +%T) $1 $2 $3"
}

start_node() {
  alive "$1" && return 0
  (cd "$ROOT" && exec "$BIN" serve --config "$RUN/n$1.json" >> "$RUN/n$1.log" 2>&1) &
  echo $! > "$RUN/n$1.pid"
  disown $! 2>/dev/null || true   # no "Killed" job notices; we track it by its PID file
}

# The node that says it leads, among the live ones; empty if none does.
leader() {
  local n
  for n in $NODES; do
    alive "$n" || continue
    if curl -s --max-time 0.5 "http://$(api_of "$n")/v1/cluster" | grep -q '"role" *: *"leader"'; then
      echo "$n"; return 0
    fi
  done
}

# pick_target leader|random|any: "any" is the leader half the time.
pick_target() {
  local mode="$1" l
  if [ "$mode" = any ]; then mode=$([ $((RANDOM % 2)) -eq 0 ] && echo leader || echo random); fi
  if [ "$mode" = leader ]; then l=$(leader); [ -n "$l" ] && { echo "$l"; return; }; fi
  set -- $NODES
  shift $((RANDOM % $#)); echo "$1"
}

# Each fault: inject, hold for $2 seconds, heal. Bounded by construction.
fault_kill() {
  local n="$1" p; p=$(pid_of "$n")
  alive "$n" || return 0
  log_fault kill start "n$n"
  kill -KILL "$p"; wait_gone "$p"
  sleep "$2"
  start_node "$n"
  log_fault kill end "n$n"
}

fault_pause() {
  local n="$1" p; p=$(pid_of "$n")
  alive "$n" || return 0
  log_fault pause start "n$n"
  kill -STOP "$p"
  sleep "$2"
  kill -CONT "$p" 2>/dev/null || true
  log_fault pause end "n$n"
}

# Cuts node $1 off from its peers in both directions (clients still reach its API).
fault_partition() {
  local n="$1" m lines=""
  for m in $NODES; do [ "$m" != "$n" ] && lines="$lines$n>$m"$'\n'"$m>$n"$'\n'; done
  log_fault partition start "n$n"
  printf '%s' "$lines" > "$RUN/blocked.tmp" && mv "$RUN/blocked.tmp" "$RUN/blocked"
  sleep "$2"
  : > "$RUN/blocked.tmp" && mv "$RUN/blocked.tmp" "$RUN/blocked"
  log_fault partition end "n$n"
}

# Slows node $1's disk: every Raft-log persist waits $SLOW_DISK_MS ms (default 200) for $2 s
# (the node's test-only FaultHooks read <dataDir>/fault-fsync-delay-ms).
fault_slowdisk() {
  local n="$1" file="$RUN/n$1/fault-fsync-delay-ms"
  alive "$n" || return 0
  log_fault slowdisk start "n$n"
  echo "${SLOW_DISK_MS:-200}" > "$file.tmp" && mv "$file.tmp" "$file"
  sleep "$2"
  rm -f "$file"
  log_fault slowdisk end "n$n"
}

# kill -9 every node at once, restart all after $1 seconds.
fault_restart_all() {
  local n p
  log_fault restart-all start all
  for n in $NODES; do p=$(pid_of "$n"); alive "$n" && kill -KILL "$p"; done
  for n in $NODES; do p=$(pid_of "$n"); [ -n "$p" ] && wait_gone "$p"; done
  sleep "$1"
  for n in $NODES; do start_node "$n"; done
  log_fault restart-all end all
}

# Undo everything: resume paused nodes, reconnect links, heal disks, restart dead nodes.
heal_all() {
  local n p
  : > "$RUN/blocked.tmp" && mv "$RUN/blocked.tmp" "$RUN/blocked"
  for n in $NODES; do rm -f "$RUN/n$n/fault-fsync-delay-ms"; done
  for n in $NODES; do p=$(pid_of "$n"); [ -n "$p" ] && kill -CONT "$p" 2>/dev/null; done
  for n in $NODES; do start_node "$n"; done
}

# Waits (at most $1 seconds) until every node reports ready.
wait_ready() {
  local deadline=$(( $(date +%s) + $1 )) n count
  while [ "$(date +%s)" -lt "$deadline" ]; do
    count=0
    for n in $NODES; do
      curl -s --max-time 1 "http://$(api_of "$n")/readyz" 2>/dev/null | grep -q '"ready"' && count=$((count + 1))
    done
    [ "$count" -eq "$(echo $NODES | wc -w)" ] && return 0
    sleep 0.5
  done
  return 1
}

# The fault loop of every script: until $DURATION seconds have passed, wait $EVERY s (±50 %),
# then run one fault chosen by choose_fault. Stops itself.
fault_loop() {
  local end=$(( $(date +%s) + DURATION ))
  while true; do
    local pause_ms=$(( EVERY * 500 + RANDOM % (EVERY * 1000 + 1) ))
    sleep "$(printf '%d.%03d' $((pause_ms / 1000)) $((pause_ms % 1000)))"
    [ "$(date +%s)" -lt $(( end - HOLD )) ] || break
    choose_fault
  done
}

# Common flags: --run DIR --duration S --every T --hold D --target leader|random|any
parse_fault_args() {
  DURATION=60; EVERY=10; HOLD=3; TARGET=any; RUN=""
  while [ $# -gt 0 ]; do
    case "$1" in
      --run) RUN="$2"; shift 2 ;;
      --duration) DURATION="$2"; shift 2 ;;
      --every) EVERY="$2"; shift 2 ;;
      --hold) HOLD="$2"; shift 2 ;;
      --target) TARGET="$2"; shift 2 ;;
      --faults) FAULTS="$2"; shift 2 ;;
      *) echo "unknown flag $1" >&2; exit 2 ;;
    esac
  done
  [ -n "$RUN" ] || { echo "--run DIR is required (a directory made by run.sh)" >&2; exit 2; }
  load_run "$RUN"
}
