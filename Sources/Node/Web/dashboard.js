// Trireme dashboard: plain JavaScript, no build step, no other origin. Reads the client API of
// the node that served it (and /v1/cluster of every member, which answers cross-origin GETs).
// Lists use the watch API when the node offers it (an X-Trireme-Index header: the next request
// long-polls with ?waitIndex=N&wait=30s); otherwise they poll every second.
"use strict";

const $ = (selector) => document.querySelector(selector);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const state = { self: null, queues: [], jobs: new Map(), rates: new Map(), selectedQueue: null, selectedTask: null };

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "width") node.style.width = value; // CSSOM: allowed by the CSP, a style attribute is not
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child instanceof Node ? child : String(child ?? ""));
  return node;
}

function fill(tbody, rows, empty) {
  tbody.replaceChildren(...(rows.length ? rows : [el("tr", {}, el("td", { colspan: "9", class: "muted" }, empty))]));
}

async function api(path, options = {}) {
  const response = await fetch(path, { cache: "no-store", ...options });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error ? `${body.error.code}: ${body.error.message}` : `HTTP ${response.status}`);
  return { body, index: response.headers.get("X-Trireme-Index") };
}

function showError(error) {
  const box = $("#error");
  box.hidden = !error;
  box.textContent = error ? String(error.message || error) : "";
}

// "/?poll": poll every second even where the node offers watch (headless Chromium's virtual
// time, used by cluster/dashboard-test.sh, stands still while a long poll is pending).
const params = new URLSearchParams(location.search);
const pollOnly = params.has("poll");

// Calls render(body) on every change of path: long-polls while the node offers watch, else
// polls every second. Never two requests at once per list; errors back off one second.
async function watch(path, render) {
  let index = null;
  for (;;) {
    const started = Date.now();
    try {
      const sep = path.includes("?") ? "&" : "?";
      const url = index === null ? path : `${path}${sep}waitIndex=${index}&wait=30s`;
      const result = await api(url);
      render(result.body);
      showError(null);
      const fresh = result.index !== null && result.index !== index;
      index = pollOnly ? null : result.index;
      // Without watch (or if a long poll came back at once, unchanged) wait before the next call.
      if (index === null) await sleep(1000);
      else if (!fresh && Date.now() - started < 250) await sleep(250);
    } catch (error) {
      showError(error);
      index = null;
      await sleep(1000);
    }
  }
}

// ---- cluster ----

function origin(address) { return `${location.protocol}//${address}`; }

async function refreshCluster() {
  const { body: self } = await api("/v1/cluster?consistency=stale");
  state.self = self;
  $("#node").textContent = `this node: n${self.nodeId}`;
  const leader = self.leader ?? null;
  const summary = [
    ["Leader", leader === null ? "none" : `n${leader}`, "leader"], ["Term", self.term, "term"],
    ["Commit index", self.commitIndex, "commit"], ["Applied index", self.appliedIndex, "applied"],
    ["Snapshot index", self.snapshotIndex ?? 0, "snapshot"], ["Executors", (self.executors ?? []).length, "executors"],
  ];
  $("#cluster-summary").replaceChildren(...summary.map(([label, value, id]) =>
    el("div", { class: "stat" }, el("span", { class: "label" }, label), el("span", { class: "value", id }, value))));
  // Each member's own view (role, term, indexes); the leader's view gives match indexes.
  const views = await Promise.all(self.members.map((member) => member.id === self.nodeId
    ? Promise.resolve(self)
    : fetch(`${origin(member.apiAddress)}/v1/cluster?consistency=stale`, { cache: "no-store" })
        .then((r) => (r.ok ? r.json() : null)).catch(() => null)));
  const leaderView = views.find((view) => view && view.role === "leader");
  const match = new Map((leaderView?.members ?? []).map((m) => [m.id, m.matchIndex]));
  if (leaderView) match.set(leaderView.nodeId, leaderView.lastIndex);
  fill($("#members tbody"), self.members.map((member, i) => {
    const view = views[i];
    const role = view ? view.role : "unreachable";
    return el("tr", { "data-member": member.id, class: member.id === self.nodeId ? "self" : "" },
      el("td", {}, el("a", { href: `${origin(member.apiAddress)}/` }, `n${member.id}`)),
      el("td", {}, member.apiAddress),
      el("td", {}, el("span", { class: `badge ${role}` }, role)),
      el("td", {}, member.role ?? "-"),
      el("td", {}, view ? view.term : "-"),
      el("td", {}, view ? view.commitIndex : "-"),
      el("td", {}, view ? view.appliedIndex : "-"),
      el("td", {}, view ? view.lastIndex : "-"),
      el("td", {}, match.get(member.id) ?? "-"));
  }), "no members");
}

async function clusterLoop() {
  for (;;) {
    try { await refreshCluster(); showError(null); } catch (error) { showError(error); }
    $("#updated").textContent = `updated ${new Date().toLocaleTimeString()}`;
    await sleep(1000);
  }
}

// ---- queues ----

function queueRate(queue) {
  // Tasks finished per second, measured between two updates.
  const stats = queue.stats ?? {};
  const done = (stats.succeeded ?? 0) + (stats.dead ?? 0) + (stats.cancelled ?? 0);
  const now = Date.now();
  const last = state.rates.get(queue.name);
  let rate = last ? last.rate : 0;
  if (last && now - last.time >= 900) rate = Math.max(0, (done - last.done) / ((now - last.time) / 1000));
  if (!last || now - last.time >= 900) state.rates.set(queue.name, { done, time: now, rate });
  return rate;
}

async function queueVerb(name, verb) {
  try { await api(`/v1/queues/${encodeURIComponent(name)}:${verb}`, { method: "POST" }); } catch (error) { showError(error); }
}

function renderQueues(body) {
  state.queues = body.queues;
  fill($("#queues tbody"), body.queues.map((queue) => {
    const stats = queue.stats ?? {};
    const depth = (stats.queued ?? 0) + (stats.leased ?? 0) + (stats.running ?? 0);
    const paused = queue.state === "paused";
    const limit = queue.rateLimits.maxDispatchesPerSecond;
    return el("tr", { "data-queue": queue.name },
      el("td", {}, el("a", { href: "#tasks-section", onclick: () => selectQueue(queue.name) }, queue.name)),
      el("td", {}, el("span", { class: `badge ${queue.state}` }, queue.state)),
      el("td", { class: "num" }, depth), el("td", { class: "num" }, stats.running ?? 0),
      el("td", { class: "num" }, stats.succeeded ?? 0), el("td", { class: "num" }, stats.dead ?? 0),
      el("td", { class: "num" }, `${queueRate(queue).toFixed(1)}/s (max ${limit})`),
      el("td", {}, el("button", { type: "button", onclick: () => queueVerb(queue.name, paused ? "resume" : "pause") },
        paused ? "Resume" : "Pause")));
  }), "no queues");
}

// ---- jobs ----

function renderJobs(body) {
  const jobs = body.jobs.slice().sort((a, b) => b.createTime.localeCompare(a.createTime)).slice(0, 10);
  for (const job of jobs) {
    const known = state.jobs.get(job.id);
    // The list carries no counters; keep the detailed ones until the job's own read replaces them.
    state.jobs.set(job.id, known && known.state === job.state ? { ...job, counters: known.counters } : job);
  }
  for (const id of state.jobs.keys()) if (!jobs.some((job) => job.id === id)) state.jobs.delete(id);
  drawJobs();
}

function drawJobs() {
  const jobs = [...state.jobs.values()].sort((a, b) => b.createTime.localeCompare(a.createTime));
  fill($("#jobs tbody"), jobs.map((job) => {
    const c = job.counters ?? {};
    const total = c.tasksTotal ?? 0;
    const done = c.tasksDone ?? 0;
    const percent = total ? Math.round((100 * done) / total) : (job.state === "DONE" ? 100 : 0);
    const counters = Object.entries(c).filter(([key]) => !key.startsWith("tasks"))
      .map(([key, value]) => `${key} ${value.toLocaleString("en")}`).join(" · ");
    return el("tr", { "data-job": job.id, "data-tasks-done": done, "data-tasks-total": total },
      el("td", { class: "mono" }, job.id), el("td", {}, job.template),
      el("td", {}, el("span", { class: `badge ${job.state.toLowerCase()}` }, job.state)),
      el("td", {}, el("div", { class: "bar" }, el("div", { class: "fill", width: `${percent}%` })),
        el("span", { class: "progress-text" }, `${done}/${total} tasks (${percent}%)`)),
      el("td", { class: "small" }, job.error ? `error: ${job.error}` : counters || "-"));
  }), "no jobs");
}

async function jobDetailLoop() {
  // Counters come from GET /v1/jobs/{id}: refresh every second while a shown job can change.
  for (;;) {
    const live = [...state.jobs.values()].filter((job) => !job.counters || Object.keys(job.counters).length === 0
      || ["QUEUED", "RUNNING", "CANCELLING"].includes(job.state));
    await Promise.all(live.map((job) => api(`/v1/jobs/${encodeURIComponent(job.id)}?consistency=stale`)
      .then(({ body }) => state.jobs.set(body.id, body)).catch(() => {})));
    if (live.length) drawJobs();
    await sleep(1000);
  }
}

// ---- tasks and attempts ----

function selectQueue(name) {
  state.selectedQueue = name;
  $("#tasks-title").textContent = `Tasks of ${name}`;
  $("#attempts-queue").value = name;
}

async function tasksLoop() {
  for (;;) {
    const queue = state.selectedQueue;
    if (queue) {
      try {
        const { body } = await api(`/v1/queues/${encodeURIComponent(queue)}/tasks?consistency=stale&pageSize=20`);
        fill($("#tasks tbody"), body.tasks.map((task) => el("tr", {},
          el("td", { class: "mono" }, el("a", { href: "#attempts", onclick: () => showAttempts(queue, task.id) }, task.id)),
          el("td", {}, task.name ?? "-"), el("td", {}, task.kind),
          el("td", {}, el("span", { class: `badge ${task.state}` }, task.state)),
          el("td", { class: "num" }, task.attempts), el("td", { class: "small" }, task.lastError ?? ""))), "no tasks");
      } catch (error) { showError(error); }
    }
    if (state.selectedTask) await showAttempts(...state.selectedTask);
    await sleep(1000);
  }
}

async function showAttempts(queue, task) {
  state.selectedTask = [queue, task];
  $("#attempts-queue").value = queue;
  $("#attempts-task").value = task;
  try {
    const { body } = await api(`/v1/queues/${encodeURIComponent(queue)}/tasks/${encodeURIComponent(task)}/attempts?consistency=stale`);
    fill($("#attempts-table tbody"), body.attempts.map((a) => el("tr", {},
      el("td", { class: "num" }, a.attempt), el("td", {}, a.executor), el("td", {}, a.node ?? "-"),
      el("td", { class: "small" }, a.dispatchTime), el("td", { class: "num" }, a.durationMs === undefined ? "…" : `${a.durationMs} ms`),
      el("td", {}, el("span", { class: `badge ${a.outcome ?? "running"}` }, a.outcome ?? "in flight")),
      el("td", { class: "small" }, a.error ?? ""))), "no attempts yet");
  } catch (error) {
    showError(error);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("#attempts-form").addEventListener("submit", (event) => {
    event.preventDefault();
    showAttempts($("#attempts-queue").value.trim(), $("#attempts-task").value.trim());
  });
  // "/?queue=Q&task=T" opens a queue's tasks and a task's attempts (links, the browser test).
  if (params.get("queue")) selectQueue(params.get("queue"));
  if (params.get("queue") && params.get("task")) showAttempts(params.get("queue"), params.get("task"));
  clusterLoop();
  watch("/v1/queues?consistency=stale&pageSize=1000", renderQueues);
  watch("/v1/jobs?consistency=stale&pageSize=1000", renderJobs);
  jobDetailLoop();
  tasksLoop();
});
