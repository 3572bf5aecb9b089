#!/usr/bin/env bash
# Every --every s (±50 %), kill -9 all nodes at once and restart them after --hold s.
# Stops by itself after --duration s. Acts only on the chaos cluster of --run DIR (see lib.sh).
#   cluster/chaos/restart-all.sh --run DIR [--duration 60] [--every 20] [--hold 2]
set -uo pipefail
source "$(dirname "$0")/lib.sh"
parse_fault_args "$@"
choose_fault() { fault_restart_all "$HOLD"; }
fault_loop
