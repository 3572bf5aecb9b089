#!/usr/bin/env bash
# Every --every s (±50 %), slow one node's disk (the leader with --target leader): each Raft-log
# persist waits $SLOW_DISK_MS ms (default 200) for --hold s. Needs the node config's
# "testFaultHooks": true (run.sh sets it). Stops by itself after --duration s.
#   cluster/chaos/slow-disk.sh --run DIR [--duration 60] [--every 10] [--hold 3] [--target any]
set -uo pipefail
source "$(dirname "$0")/lib.sh"
parse_fault_args "$@"
choose_fault() { fault_slowdisk "$(pick_target "$TARGET")" "$HOLD"; }
fault_loop
