#!/usr/bin/env bash
# Runs a WordCount job on the running cluster (start it with cluster/up.sh): the leader plans
# map tasks over cluster/sample/corpus.txt, executors on every node count, the leader adds the
# reducers, and the job writes out/wordcount/counts-0000S-of-00003. Prints the 10 most frequent
# words. The nodes' data root is the repository root ("dataRoot": "." in cluster/nodes/*.json).
#   cluster/wordcount.sh
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
ALL="$(api_of 1),$(api_of 2),$(api_of 3)"
rm -f out/wordcount/counts-*
start=$(date +%s%N)
ID=$("$BIN" job create wordcount --param inputFile=cluster/sample/corpus.txt --param output=out/wordcount/counts \
       --param numShards=3 --param tempLocation=out/tmp --json --server "$ALL" \
     | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
echo "submitted $ID"
"$BIN" job watch "$ID" --server "$ALL" --max-wait 120
echo "job done in $(( ($(date +%s%N) - start) / 1000000 )) ms"
"$BIN" job get "$ID" --json --server "$ALL" | python3 -c 'import json,sys; c=json.load(sys.stdin)["counters"]; print("counters:", ", ".join(f"{k}={v}" for k, v in sorted(c.items())))'
echo; echo "== 10 most frequent words (out/wordcount/counts-*):"
cat out/wordcount/counts-*-of-00003 | sort -t: -k2,2nr -k1,1 | sed -n 1,10p   # sed reads to the end: no SIGPIPE under pipefail
