#!/usr/bin/env bash
# Every --every s (±50 %), kill -9 a node (--target leader|random|any) and restart it after --hold s.
# Stops by itself after --duration s. Acts only on the chaos cluster of --run DIR (see lib.sh).
#   cluster/chaos/kill.sh --run DIR [--duration 60] [--every 10] [--hold 3] [--target any]
set -uo pipefail
source "$(dirname "$0")/lib.sh"
parse_fault_args "$@"
choose_fault() { fault_kill "$(pick_target "$TARGET")" "$HOLD"; }
fault_loop
