#!/usr/bin/env bash
# Every --every s (±50 %), cut a node off from both peers (through the run's proxy) and heal after --hold s.
# Stops by itself after --duration s. Acts only on the chaos cluster of --run DIR (see lib.sh).
#   cluster/chaos/partition.sh --run DIR [--duration 60] [--every 10] [--hold 3] [--target any]
set -uo pipefail
source "$(dirname "$0")/lib.sh"
parse_fault_args "$@"
choose_fault() { fault_partition "$(pick_target "$TARGET")" "$HOLD"; }
fault_loop
