// The live supervisor view: refreshes the figures from /api/qa/live every few seconds.
//
// The page arrives complete from the server; this keeps it current. Updates are deliberately not
// announced (a live region talking every 5 s drowns everything else); the time of the last update
// is on screen, "Pause updates" stops them (WCAG 2.2.2), and a failed update says so and retries.
// Data becomes text through textContent only.
import { t, tn } from "./i18n.js";

const API = "/api/qa/live";
const STATUSES = ["available", "on_offer", "in_call", "wrap_up", "away"];
const root = document.getElementById("live");
const refreshMs = Number(root.dataset.refreshMs) || 5000;
const pauseButton = document.getElementById("live-pause");
const errorBox = document.getElementById("live-error");
let timer = null;
let paused = false;
let inFlight = null;

function label(group, code) {
  const key = `${group}.${code}`;
  const text = t(key);
  return text === key ? String(code) : text;
}

/** A duration as [number, unit] pairs, as qa_format.Fmt.duration_parts: 1 min 05 s, 2 h 03 min. */
export function durationParts(seconds) {
  if (seconds == null || !Number.isFinite(seconds)) return [];
  const total = Math.round(seconds);
  if (total < 60) return [[String(total), t("qa.unit.s")]];
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const pad = (n) => String(n).padStart(2, "0");
  if (hours) return [[String(hours), t("qa.unit.h")], [pad(minutes), t("qa.unit.min")]];
  return [[String(minutes), t("qa.unit.min")], [pad(total % 60), t("qa.unit.s")]];
}

export function duration(seconds) {
  const parts = durationParts(seconds);
  return parts.length ? parts.map(([n, u]) => `${n} ${u}`).join(" ") : "–";
}

// Number and unit in their own spans (the unit set smaller), like the server's duration macro.
function setDuration(id, seconds) {
  const node = document.getElementById(id);
  const parts = durationParts(seconds);
  const children = [];
  if (!parts.length) children.push(cell("span", "–", "n"));
  parts.forEach(([n, u], i) => {
    if (i) children.push(document.createTextNode(" "));
    children.push(cell("span", n, "n"), document.createTextNode("\u2009"), cell("span", u, "u"));
  });
  node.replaceChildren(...children);
}

function clock(epochS) {
  const d = new Date(epochS * 1000);
  return d.toISOString().slice(11, 19);
}

function setText(id, value) {
  const node = document.getElementById(id);
  if (node && node.textContent !== value) node.textContent = value;
}

function cell(tag, content, className = "") {
  const node = document.createElement(tag);
  node.textContent = content;
  if (className) node.className = className;
  return node;
}

// An agent count in its column, named for tests and styles (data-col), as the server renders it.
function counted(column, value) {
  const node = cell("td", String(value ?? 0), "num");
  node.dataset.col = column;
  return node;
}

/** Queues with someone waiting or an agent online, longest wait first (as qa_pages.active_lines). */
export function activeLines(lines) {
  return lines
    .filter((line) => line.waiting || line.online_agents)
    .sort((a, b) => b.waiting - a.waiting || b.longest_wait_s - a.longest_wait_s || a.language.localeCompare(b.language));
}

export function render(data) {
  const waiting = Number(data.waiting) || 0;
  setText("live-waiting", String(waiting));
  setText("live-waiting-unit", tn("qa.live.customers", waiting));
  setDuration("live-longest", waiting ? data.longest_wait_s : null);
  for (const status of STATUSES) setText(`live-agents-${status}`, String((data.agents || {})[status] ?? 0));
  const all = data.lines || [];
  const active = activeLines(all);
  const rows = active.map((line) => {
    const tr = document.createElement("tr");
    tr.dataset.line = `${line.language}/${line.topic}`;
    const unstaffed = line.waiting && !line.online_agents;
    if (unstaffed) tr.dataset.unstaffed = "true";
    const online = cell("td", String(line.online_agents), "num");
    if (unstaffed) online.append(" ", cell("span", t("qa.live.unstaffed"), "qa-sub"));
    const head = cell("th", line.language);
    head.scope = "row";
    tr.append(
      head,
      cell("td", label("topic", line.topic)),
      cell("td", String(line.waiting), "num"),
      cell("td", line.waiting ? duration(line.longest_wait_s) : "–", "num"),
      online,
      counted("serving", line.serving_agents),
      counted("in_call", line.in_call_agents),
    );
    return tr;
  });
  document.getElementById("live-lines-body").replaceChildren(...rows);
  document.getElementById("live-lines").hidden = rows.length === 0;
  document.getElementById("live-empty").hidden = rows.length > 0;
  const quiet = document.getElementById("live-quiet");
  quiet.hidden = all.length === active.length;
  quiet.textContent = tn("qa.live.quiet", all.length - active.length);
  const at = document.getElementById("live-at");
  at.textContent = clock(data.at);
  at.dateTime = new Date(data.at * 1000).toISOString();
}

async function refresh() {
  if (inFlight) return;
  inFlight = new AbortController();
  try {
    const response = await fetch(API, { headers: { Accept: "application/json" }, signal: inFlight.signal });
    if (response.status === 401) {
      window.location.assign(`/login?next=${encodeURIComponent(location.pathname)}`);
      return;
    }
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    render(await response.json());
    errorBox.hidden = true;
    root.dataset.state = paused ? "paused" : "live";
    root.dataset.updates = String(Number(root.dataset.updates || 0) + 1);
  } catch (error) {
    if (error.name === "AbortError") return;
    errorBox.hidden = false;
    root.dataset.state = "error";
  } finally {
    inFlight = null;
  }
}

function schedule() {
  clearTimeout(timer);
  if (!paused) timer = setTimeout(async () => {
    await refresh();
    schedule();
  }, refreshMs);
}

pauseButton.addEventListener("click", () => {
  paused = !paused;
  pauseButton.textContent = t(paused ? "qa.live.resume" : "qa.live.pause");
  setText("live-state", t(paused ? "qa.live.paused" : "qa.live.updated"));
  root.dataset.state = paused ? "paused" : "live";
  if (paused) {
    clearTimeout(timer);
    if (inFlight) inFlight.abort();
  } else {
    refresh().then(schedule);
  }
});

// A hidden tab need not poll; it catches up as soon as it is shown again.
document.addEventListener("visibilitychange", () => {
  if (document.hidden) clearTimeout(timer);
  else if (!paused) refresh().then(schedule);
});

schedule();
