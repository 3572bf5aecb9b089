#!/usr/bin/env bash
# Renders the dashboard in headless Chromium against a live three-node cluster (127.0.0.51-53)
# with a running WordCount job and a few queues, saves the screenshot to docs/dashboard.png, and
# checks that the page shows the cluster's real leader (as /v1/cluster reports it) and the
# job's real progress (between the API's counters read just before and just after the render).
# Installs Debian's chromium if missing. Everything it starts is stopped by PID on exit.
#   cluster/dashboard-test.sh [--screenshot docs/dashboard.png]
# Env: TRIREME_BIN (default .build/debug/trireme).
set -euo pipefail
cd "$(dirname "$0")/.."
SHOT="docs/dashboard.png"
[ "${1:-}" = "--screenshot" ] && SHOT="$2"
case "$SHOT" in /*) ;; *) SHOT="$PWD/$SHOT" ;; esac
if ! command -v chromium >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }
fi

NET=5
source cluster/testcluster.sh
WORK="$(mktemp -d "${TMPDIR:-/tmp}/trireme-dashboard.XXXXXX")"
cleanup() {
  local rc=$?
  trap - EXIT
  stop_test_cluster
  [ "$rc" -ne 0 ] && { echo "node logs (last lines):"; tail -n 20 "$TC_RUN"/n*.log 2>/dev/null || true; }
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 143' INT TERM   # so a signal also runs cleanup (EXIT)
mkdir -p "$WORK/data"
cp cluster/sample/corpus.txt "$WORK/data/"
# Small splits and a per-task delay (test clusters only) keep the job running during the render.
start_test_cluster "\"dataRoot\": \"$WORK/data\", \"testTaskKinds\": true, \"jobSplitBytes\": 4096"
API="http://$(tc_api 1)"
post() { curl -sf -X POST -H 'Content-Type: application/json' "$API$1" -d "${2:-{\}}" >/dev/null; }

# Queues to look at: one working (its tasks fail against a closed port, so they have attempts),
# one paused with a backlog.
post /v1/queues '{"name": "emails", "rateLimits": {"maxDispatchesPerSecond": 5}, "retryConfig": {"maxAttempts": 3, "minBackoffMs": 200}}'
post /v1/queues '{"name": "reports"}'
for i in 1 2 3; do post /v1/queues/emails/tasks "{\"kind\": \"http\", \"name\": \"welcome-$i\", \"payload\": {\"url\": \"http://127.0.0.1:9/hook\"}}"; done
post /v1/queues/reports:pause
for i in 1 2 3 4 5; do post /v1/queues/reports/tasks "{\"kind\": \"sleep\", \"payload\": {\"ms\": 10}}"; done
JOB=$(curl -sf -X POST -H 'Content-Type: application/json' "$API/v1/jobs" -d '{"template": "wordcount", "parameters":
  {"inputFile": "corpus.txt", "output": "out/counts", "numShards": 3, "testDelayMs": 1500}}' \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
echo "job $JOB running"
job_json() { curl -sf "$API/v1/jobs/$JOB?consistency=stale"; }
for _ in $(seq 1 100); do
  job_json | python3 -c 'import json,sys; c=json.load(sys.stdin)["counters"]; sys.exit(0 if c.get("tasksDone",0) > 0 else 1)' && break
  sleep 0.2
done

# Open the first emails task's attempts too (its tasks fail against a closed port).
TASK=$(curl -sf "$API/v1/queues/emails/tasks?consistency=stale" | python3 -c 'import json,sys; print(json.load(sys.stdin)["tasks"][0]["id"])')
chrome() {
  chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --user-data-dir="$WORK/chrome" \
    --window-size=1400,1000 --virtual-time-budget=6000 "$@" "$API/?poll&queue=emails&task=$TASK" 2>>"$WORK/chrome.log"
}
STATUS=$(curl -sf "$API/v1/cluster?consistency=stale")
BEFORE=$(job_json)
chrome --dump-dom > "$WORK/dom.html"
AFTER=$(job_json)
chrome --screenshot="$SHOT" >/dev/null
[ -s "$SHOT" ] || { echo "no screenshot written; see chromium's log:"; tail -n 20 "$WORK/chrome.log"; exit 1; }

python3 - "$WORK/dom.html" "$JOB" "$STATUS" "$BEFORE" "$AFTER" <<'PY'
import json, re, sys
from html.parser import HTMLParser
dom, job, status, before, after = open(sys.argv[1]).read(), sys.argv[2], *map(json.loads, sys.argv[3:])

class Page(HTMLParser):
    """Text by element id, attributes of rows by data-* key, badge text by member row."""
    def __init__(self):
        super().__init__(); self.ids = {}; self.rows = {}; self.stack = []; self.member = None; self.badges = {}
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "data-job" in a: self.rows[a["data-job"]] = a
        if "data-member" in a: self.member = a["data-member"]
        self.stack.append((a.get("id"), "badge" in a.get("class", "") and self.member))
    def handle_endtag(self, tag):
        if tag == "tr": self.member = None
        if self.stack: self.stack.pop()
    def handle_data(self, data):
        for element_id, badge_of in self.stack:
            if element_id: self.ids[element_id] = self.ids.get(element_id, "") + data
            if badge_of: self.badges[badge_of] = self.badges.get(badge_of, "") + data

page = Page(); page.feed(dom)
failures = []
leader = status.get("leader")
shown = page.ids.get("leader", "").strip()
if leader is None or shown != f"n{leader}":
    failures.append(f"leader: page shows {shown!r}, /v1/cluster says n{leader}")
if page.badges.get(str(leader), "").strip() != "leader":
    failures.append(f"members table: n{leader}'s role shows {page.badges.get(str(leader))!r}, not leader")
row = page.rows.get(job)
if row is None:
    failures.append(f"job {job} is not on the page")
else:
    done, total = int(row["data-tasks-done"]), int(row["data-tasks-total"])
    b, a = before["counters"], after["counters"]
    if not (b.get("tasksDone", 0) <= done <= a.get("tasksDone", 0)) or not (b.get("tasksTotal", 0) <= total <= a.get("tasksTotal", 0)):
        failures.append(f"job progress on the page {done}/{total} is not between the API's {b.get('tasksDone')}/{b.get('tasksTotal')} "
                        f"(before) and {a.get('tasksDone')}/{a.get('tasksTotal')} (after)")
    elif done == 0 or total == 0:
        failures.append(f"job progress {done}/{total}: the job had started, the page shows none")
    else:
        print(f"page: leader n{leader}, job {job} at {done}/{total} tasks (API: {b['tasksDone']}/{b['tasksTotal']} before, "
              f"{a['tasksDone']}/{a['tasksTotal']} after)")
if "emails" not in dom or "reports" not in dom:
    failures.append("queues emails and reports are not both on the page")
for failure in failures: print("FAIL:", failure)
sys.exit(1 if failures else 0)
PY
echo "screenshot: $SHOT"
