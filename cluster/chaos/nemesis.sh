#!/usr/bin/env bash
# The mixed nemesis of run.sh: every --every s (±50 %) one fault from --faults
# (kill,pause,partition,slowdisk,restart-all), on the leader or a random node, held --hold s, then healed,
# so at most one fault is active at a time. Stops by itself after --duration s.
#   cluster/chaos/nemesis.sh --run DIR --faults kill,pause,partition [--duration 60] [--every 8] [--hold 3]
set -uo pipefail
source "$(dirname "$0")/lib.sh"
FAULTS=kill,pause,partition
parse_fault_args "$@"
IFS=, read -r -a CHOICES <<< "$FAULTS"
for f in "${CHOICES[@]}"; do
  case "$f" in kill|pause|partition|slowdisk|restart-all) ;; *) echo "unknown fault $f" >&2; exit 2 ;; esac
done
choose_fault() {
  local f="${CHOICES[$((RANDOM % ${#CHOICES[@]}))]}"
  case "$f" in
    restart-all) fault_restart_all "$HOLD" ;;
    *) "fault_$f" "$(pick_target "$TARGET")" "$HOLD" ;;
  esac
}
fault_loop
