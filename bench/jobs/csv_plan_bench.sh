#!/usr/bin/env bash
# How long POST /v1/jobs takes for a csv-clean job on a large CSV: the leader plans the job
# inside the request (reads the header, scans the file once for record-aligned splits).
# Compares release binaries side by side, alternating them so machine drift hits both.
#
#   bench/jobs/csv_plan_bench.sh BIN [BIN ...] [-- ROUNDS]
#
# Each round starts a one-node cluster on 127.0.0.61 (executorSlots 1, loopback only), times
# one create, and stops the node by its PID. The CSV (141 MB, 5M rows, two thirds with a quoted
# field) is generated once under /tmp/trireme-csv-plan-bench. Prints one table.
set -euo pipefail
bins=()
rounds=3
while [ $# -gt 0 ]; do
  if [ "$1" = "--" ]; then rounds=$2; break; fi
  bins+=("$1"); shift
done
[ "${#bins[@]}" -gt 0 ] || { echo "usage: $0 BIN [BIN ...] [-- ROUNDS]" >&2; exit 2; }
WORK=/tmp/trireme-csv-plan-bench
mkdir -p "$WORK/data/in"
if [ ! -f "$WORK/data/in/big.csv" ]; then
  python3 - "$WORK/data/in/big.csv" <<'PY'
import random, sys
random.seed(5)
names = ["alpha", "beta", "Smith, Jr", 'say "hi"', "two\nlines", "plain"]
rows = []
for i in range(200000):
    n = random.choice(names)
    q = '"' + n.replace('"', '""') + '"' if any(c in n for c in ',"\n') else n
    rows.append(f"{i},{q},{random.random() * 100:.2f},Oslo,{random.randint(0, 9)}\n")
with open(sys.argv[1], "w") as f:
    f.write("id,name,price,city,qty\n")
    block = "".join(rows)
    for _ in range(25):
        f.write(block)
PY
fi
size=$(stat -c %s "$WORK/data/in/big.csv")

create_once() {  # BIN ROUND -> seconds
  local bin=$1 round=$2 dir pid t
  dir=$(mktemp -d "$WORK/node.XXXX")
  cat > "$dir/n1.json" <<J
{"nodeId":1,"dataDir":"$dir/n1","clusterSecret":"csv-plan-bench-secret-0123456789ab",
 "members":[{"id":1,"api":"127.0.0.61:7301","peer":"127.0.0.61:7401"}],
 "logLevel":"warning","dataRoot":"$WORK/data","writeTimeoutMs":120000,"executorSlots":1}
J
  "$bin" serve --config "$dir/n1.json" > "$dir/log" 2>&1 &
  pid=$!
  for _ in $(seq 1 200); do curl -sf http://127.0.0.61:7301/readyz > /dev/null && break; sleep 0.05; done
  t=$(curl -s -o "$dir/reply" -w "%{http_code} %{time_total}" -X POST http://127.0.0.61:7301/v1/jobs \
        -H 'Content-Type: application/json' \
        -d "{\"template\":\"csv-clean\",\"parameters\":{\"inputFile\":\"in/big.csv\",\"output\":\"out/r$round/t\",\"numShards\":2,\"tempLocation\":\"tmp\",\"spec\":{\"trim\":true}}}")
  kill "$pid"; wait "$pid" 2> /dev/null || true
  rm -rf "$dir" "$WORK/data/out" "$WORK/data/tmp"
  [ "${t%% *}" = "201" ] || { echo "create failed: $t" >&2; exit 1; }
  echo "${t#* }"
}

declare -A times
for r in $(seq 1 "$rounds"); do
  for b in "${bins[@]}"; do times[$b]+="$(create_once "$b" "$r") "; done
done
printf "csv-clean job create on a %d MB CSV (%d rounds, alternated)\n" $((size / 1000000)) "$rounds"
printf "%-60s %10s %10s\n" "binary" "best s" "median s"
for b in "${bins[@]}"; do
  read -r -a ts <<< "${times[$b]}"
  sorted=$(printf "%s\n" "${ts[@]}" | sort -n)
  best=$(echo "$sorted" | head -1)
  median=$(echo "$sorted" | sed -n "$(( (${#ts[@]} + 1) / 2 ))p")
  printf "%-60s %10s %10s\n" "$b" "$best" "$median"
done
