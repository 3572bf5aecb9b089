#!/usr/bin/env bash
# Each node's view of the cluster: role, term, leader, commit and applied index.
source "$(dirname "$0")/lib.sh"
exec "$BIN" cluster status --server "$(api_of 1),$(api_of 2),$(api_of 3)" "$@"
