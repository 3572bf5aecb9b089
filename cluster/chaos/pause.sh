#!/usr/bin/env bash
# Every --every s (±50 %), SIGSTOP a node (a frozen leader with --target leader) and SIGCONT it after --hold s.
# Stops by itself after --duration s. Acts only on the chaos cluster of --run DIR (see lib.sh).
#   cluster/chaos/pause.sh --run DIR [--duration 60] [--every 10] [--hold 3] [--target any]
set -uo pipefail
source "$(dirname "$0")/lib.sh"
parse_fault_args "$@"
choose_fault() { fault_pause "$(pick_target "$TARGET")" "$HOLD"; }
fault_loop
