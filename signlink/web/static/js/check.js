// The camera check page: camera preview, a live checklist, a verdict, and always a way to go on.
//
// States: idle → camera → connecting → checking → passed | failed; busy (server full, retries by
// itself); problem (no camera, blocked, network); done (continued, no `next` page to go to).

import { applyTranslations, onLocaleChange, pick, t } from "./i18n.js";
import { Busy, Refused, publish, unpublish } from "./whip.js";

const ANNOUNCE_GAP_MS = 2500; // live-region updates at most this often while checking
const SILENCE_LIMIT_MS = 15000; // no event for this long: the check is lost
const REPORT_MS = 1000; // what the sender knows goes to the server this often during a check
const CAMERA = { video: { width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 30 } }, audio: false };
const PANEL_OF = { camera: "working", connecting: "working", checking: "working" };
const LIVE_STATES = ["camera", "connecting", "checking"]; // a row may say "Checking" only in these
// No video reached the server (ICE/DTLS failed, no usable candidate): the network, not the camera.
const CONNECTION_PROBLEM = { title: "state.connection_title", text: "state.connection_failed" };

const root = document.getElementById("check");
const video = document.getElementById("preview");
const statusEl = document.getElementById("status");
const rows = new Map([...document.querySelectorAll(".criterion")].map((row) => [row.dataset.criterion, row]));
const checklist = document.getElementById("checklist");
const iceServers = JSON.parse(root.dataset.iceServers || "[]");
const NO_VERDICT = root.dataset.noVerdict; // the server's one definition (signlink/check/outcome.py)

const model = {
  state: "idle",
  criteria: null, // the latest per-criterion list from the server
  verdictId: null,
  outcome: null,
  failures: 0,
  anyway: false,
  problem: null, // {title, text} catalog keys
  busySeconds: 0,
  doneId: null,
};

let stream = null;
let session = null; // {pc, location, events, watchdog}
let retryTimer = null;
let lastAnnounced = { text: "", at: 0 };
let announceTimer = null;

// ---- announcing (role=status): changes only, never every tick ----

function announce(text, { throttle = false } = {}) {
  clearTimeout(announceTimer);
  if (text === lastAnnounced.text) return;
  const wait = throttle ? lastAnnounced.at + ANNOUNCE_GAP_MS - Date.now() : 0;
  if (wait > 0) {
    announceTimer = setTimeout(() => announce(text), wait);
    return;
  }
  statusEl.textContent = text;
  lastAnnounced = { text, at: Date.now() };
}

function failingLabels() {
  return [...rows.values()]
    .filter((row) => !row.hidden && row.dataset.status === "fail")
    .map((row) => t(`crit.${row.dataset.criterion}`));
}

function statusText() {
  const failing = failingLabels().join(t("list.sep"));
  switch (model.state) {
    case "checking":
      return failing ? t("state.checking_fix", { items: failing }) : t("state.checking");
    case "passed":
      return t("state.passed_announce");
    case "failed":
      return failing ? t("state.failed_announce", { items: failing }) : t("state.failed");
    case "problem":
      return t(model.problem.title); // the explanation is right beside it, and gets the focus
    case "busy":
      return t("state.busy");
    case "done":
      return doneText();
    default:
      return t(`state.${model.state}`);
  }
}

function doneText() {
  return model.doneId && model.doneId !== NO_VERDICT ? t("state.done_ref", { id: model.doneId }) : t("state.done_none");
}

// ---- rendering: everything the page shows comes from `model` (so a language switch just re-renders) ----

const SVG = "http://www.w3.org/2000/svg";

function icon(name) {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("class", "icon");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  const use = document.createElementNS(SVG, "use");
  use.setAttribute("href", `/static/img/icons.svg#${name}`);
  svg.append(use);
  return svg;
}

// A row shows a new status only after the old one has been up this long, so a criterion that
// flips between frames cannot make the list blink (WCAG 2.3.1); the final verdict shows at once.
const STATUS_HOLD_MS = 1000;
const shown = new Map(); // criterion -> {status, at}

function shownStatus(c, now, force) {
  const before = shown.get(c.criterion);
  if (force || !before || before.status === c.status || now - before.at >= STATUS_HOLD_MS) {
    if (!before || before.status !== c.status) shown.set(c.criterion, { status: c.status, at: now });
    return c.status;
  }
  return before.status;
}

// What to fix, in the server's words, right under the video (on a phone the checklist is far below).
function renderFixList(messages) {
  for (const list of root.querySelectorAll("[data-fix-list]")) {
    if (list.dataset.shown === messages.join("\n")) continue;
    list.dataset.shown = messages.join("\n");
    list.replaceChildren(
      ...messages.map((text) => {
        const li = document.createElement("li");
        const span = document.createElement("span");
        span.textContent = text;
        li.append(icon("fail"), span);
        return li;
      }),
    );
    list.hidden = messages.length === 0;
  }
}

// A criterion the page was not rendered with (the server judges something new): a row like the others.
function rowFor(name) {
  if (!rows.has(name) && rows.size) {
    const row = rows.values().next().value.cloneNode(true);
    row.dataset.criterion = name;
    const label = row.querySelector(".crit-label");
    label.dataset.i18n = `crit.${name}`;
    label.textContent = t(`crit.${name}`) === `crit.${name}` ? name.replace(/_/g, " ") : t(`crit.${name}`);
    row.querySelector(".crit-icon").replaceChildren(icon("pending"));
    checklist.append(row);
    rows.set(name, row);
  }
  return rows.get(name);
}

// Once the check is over nothing is "Checking" any more: what was never judged reads "not measured".
function settled(status) {
  return status === "pending" && !LIVE_STATES.includes(model.state) ? "not_measured" : status;
}

function renderChecklist({ force = false } = {}) {
  const now = Date.now();
  const seen = new Set();
  const fixes = [];
  for (const c of model.criteria || []) {
    if (!c || typeof c.criterion !== "string") continue;
    const row = rowFor(c.criterion);
    if (!row) continue;
    seen.add(c.criterion);
    const status = settled(shownStatus(c, now, force));
    const message = status === "fail" ? pick(c.message) : "";
    row.hidden = false;
    row.dataset.status = status;
    row.querySelector(".status-word").textContent = t(`status.${status}`);
    row.querySelector(".crit-message").textContent = message;
    if (status === "fail") fixes.push(message || t(`crit.${c.criterion}`));
  }
  for (const [name, row] of rows) {
    if (model.criteria && !seen.has(name)) {
      row.hidden = true; // the server does not check this one
      row.dataset.status = "idle";
      shown.delete(name);
    }
    if (!model.criteria) {
      const status = LIVE_STATES.includes(model.state) ? "pending" : "idle";
      shown.delete(name);
      row.hidden = false;
      row.dataset.status = status;
      row.querySelector(".status-word").textContent = status === "idle" ? "" : t("status.pending");
      row.querySelector(".crit-message").textContent = "";
    }
  }
  renderFixList([...new Set(fixes)]);
}

function render() {
  root.dataset.state = model.state;
  renderChecklist({ force: model.state === "passed" || model.state === "failed" });
  const panel = PANEL_OF[model.state] || model.state;
  for (const el of root.querySelectorAll("[data-panel]")) el.hidden = el.dataset.panel !== panel;
  document.getElementById("anyway").hidden = !model.anyway;
  const bodyKey = !failingLabels().length
    ? "state.failed_generic"
    : model.outcome === "timed_out"
      ? "state.timed_out_body"
      : "state.failed_body";
  document.getElementById("failed-body").textContent = t(bodyKey);
  if (model.problem) {
    document.getElementById("problem-title").textContent = t(model.problem.title);
    document.getElementById("problem-text").textContent = t(model.problem.text);
  }
  document.getElementById("busy-text").textContent = t("state.busy_retry", { seconds: model.busySeconds });
  document.getElementById("done-text").textContent = doneText();
  document.getElementById("placeholder").hidden = Boolean(video.srcObject);
  document.title = `${t("check.title")} · ${t("app.name")}`;
}

function isVisible(el) {
  return typeof el.checkVisibility === "function" ? el.checkVisibility() : el.getClientRects().length > 0;
}

function setState(state, changes = {}) {
  const main = document.getElementById("main");
  const hadFocus = main.contains(document.activeElement) || document.activeElement === document.body;
  Object.assign(model, changes, { state });
  render();
  announce(statusText());
  // A pressed button may have just been hidden: put focus where the new state's content starts.
  const active = document.activeElement;
  if (hadFocus && (active === document.body || !isVisible(active))) {
    const title = root.querySelector(`[data-panel="${PANEL_OF[state] || state}"] .result-title`);
    (title || main).focus();
  }
}

// ---- the camera ----

function cameraProblem(err) {
  const name = err && err.name;
  if (name === "NotAllowedError" || name === "SecurityError") return "camera.denied";
  if (name === "NotReadableError" || name === "TrackStartError" || name === "AbortError") return "camera.busy";
  return "camera.missing";
}

async function openCamera() {
  if (stream && stream.getVideoTracks().some((track) => track.readyState === "live")) return true;
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    setState("problem", { problem: { title: "camera.title", text: "camera.unsupported" } });
    return false;
  }
  setState("camera", { criteria: null });
  try {
    stream = await navigator.mediaDevices.getUserMedia(CAMERA);
  } catch (err) {
    console.info("camera unavailable:", err);
    setState("problem", { problem: { title: "camera.title", text: cameraProblem(err) } });
    return false;
  }
  video.srcObject = stream;
  return true;
}

function stopCamera() {
  if (stream) for (const track of stream.getTracks()) track.stop();
  stream = null;
  video.srcObject = null;
}

// ---- one check on the server ----

function endSession({ tellServer }) {
  if (!session) return;
  const { pc, location, events, watchdog, reporter } = session;
  session = null;
  clearTimeout(watchdog);
  clearInterval(reporter);
  events?.close();
  pc.close();
  if (tellServer) unpublish(location);
}

function networkProblem(err) {
  console.warn("camera check failed:", err);
  endSession({ tellServer: true });
  setState("problem", { problem: { title: "state.error_title", text: "state.error" } });
}

function keepAlive() {
  clearTimeout(session.watchdog);
  session.watchdog = setTimeout(() => networkProblem(new Error("no events from the server")), SILENCE_LIMIT_MS);
}

function onFeedback(data) {
  if (model.state !== "checking" || !Array.isArray(data.criteria)) return; // no frame analysed yet
  model.criteria = data.criteria;
  renderChecklist();
  announce(statusText(), { throttle: true });
}

function connectionProblem(err) {
  console.warn("no video reached the server:", err);
  endSession({ tellServer: true });
  setState("problem", { criteria: null, problem: CONNECTION_PROBLEM });
}

function onVerdict(data) {
  if (data.outcome === "no_media") {
    connectionProblem(new Error(`check ended: ${data.outcome} (${data.reason})`));
    return;
  }
  endSession({ tellServer: false });
  const changes = { criteria: data.criteria, verdictId: data.verdict_id, outcome: data.outcome };
  if (data.outcome === "passed" || data.passed === true) {
    setState("passed", changes);
  } else if (data.outcome === "failed" || data.outcome === "timed_out") {
    const failures = model.failures + 1;
    // Nobody is locked out: after a second failure (or a time-out) they may go on regardless.
    const anyway = model.anyway || failures >= 2 || data.outcome === "timed_out";
    setState("failed", { ...changes, failures, anyway });
  } else {
    // ended_by_client (the video stopped reaching the server) or interrupted (server restart):
    // the page did not ask for it, so offer to try again.
    networkProblem(new Error(`check ended: ${data.outcome} (${data.reason})`));
  }
}

function listen(location) {
  const events = new EventSource(`${location}/events`);
  session.events = events;
  const handle = (fn) => (event) => {
    keepAlive();
    let data;
    try {
      data = JSON.parse(event.data);
    } catch (err) {
      console.warn("bad event from the server:", err);
      return;
    }
    fn(data);
  };
  events.addEventListener("feedback", handle(onFeedback));
  events.addEventListener("verdict", handle(onVerdict));
  // The process that held the check stopped (relayed by another one): offer a new check.
  events.addEventListener("lost", handle((data) => networkProblem(new Error(data.message || "check lost"))));
  events.addEventListener("error", () => {
    // EventSource reconnects by itself; CLOSED means it gave up (the check is gone).
    if (events.readyState === EventSource.CLOSED) networkProblem(new Error("event stream closed"));
  });
}

// ---- what the sender knows (POST /api/checks/<id>/sender): the server cannot see these ----

async function senderReport(pc, last) {
  const report = { track_muted: null, fps: null, frames_encoded: null, bitrate_kbps: null };
  const track = stream && stream.getVideoTracks()[0];
  if (track) report.track_muted = track.muted;
  const stats = await pc.getStats();
  stats.forEach((s) => {
    if (s.type === "outbound-rtp" && s.kind === "video") {
      report.fps = typeof s.framesPerSecond === "number" ? s.framesPerSecond : null;
      report.frames_encoded = typeof s.framesEncoded === "number" ? s.framesEncoded : null;
      if (s.qualityLimitationReason) report.quality_limitation_reason = s.qualityLimitationReason;
      if (last.bytes !== null && s.timestamp > last.at) {
        report.bitrate_kbps = Math.max(0, ((s.bytesSent - last.bytes) * 8) / (s.timestamp - last.at));
      }
      last.bytes = s.bytesSent;
      last.at = s.timestamp;
    } else if (s.type === "remote-inbound-rtp" && s.kind === "video" && typeof s.fractionLost === "number") {
      report.packet_loss = Math.min(1, Math.max(0, s.fractionLost));
    }
  });
  return report;
}

function startReports(current) {
  const last = { bytes: null, at: 0 };
  const send = async () => {
    if (session !== current) return;
    try {
      const body = JSON.stringify(await senderReport(current.pc, last));
      const headers = { "Content-Type": "application/json" };
      await fetch(`${current.location}/sender`, { method: "POST", headers, body });
    } catch (err) {
      console.info("sender report not sent:", err); // the check goes on without it
    }
  };
  current.reporter = setInterval(send, REPORT_MS);
  const track = stream && stream.getVideoTracks()[0];
  if (track) track.addEventListener("mute", send); // a camera that stops delivering: say so at once
}

// The server is full: say so once, count down visibly (not announced), then try again by itself.
function waitAndRetry(seconds) {
  const until = Date.now() + seconds * 1000;
  setState("busy", { busySeconds: seconds });
  retryTimer = setInterval(() => {
    const left = Math.ceil((until - Date.now()) / 1000);
    if (left > 0) {
      model.busySeconds = left;
      document.getElementById("busy-text").textContent = t("state.busy_retry", { seconds: left });
      return;
    }
    clearInterval(retryTimer);
    connect();
  }, 1000);
}

async function connect() {
  clearInterval(retryTimer);
  setState("connecting", { criteria: null });
  let published;
  try {
    published = await publish(stream, { endpoint: "/api/checks", iceServers });
  } catch (err) {
    if (err instanceof Busy) {
      waitAndRetry(err.retryAfterS);
      return;
    }
    if (err instanceof Refused && err.code === "no_ice_candidate") {
      connectionProblem(err);
      return;
    }
    networkProblem(err);
    return;
  }
  session = { ...published, events: null, watchdog: null, reporter: null };
  session.pc.addEventListener("connectionstatechange", () => {
    if (session && session.pc.connectionState === "failed") connectionProblem(new Error("connection failed"));
  });
  setState("checking");
  keepAlive();
  listen(published.location);
  startReports(session);
}

async function startCheck() {
  endSession({ tellServer: true });
  if (await openCamera()) await connect();
}

// ---- going on ----

/** `next` if it is a path on this site ("/..." but not "//..." nor "/\..."), else null. */
function safeNext(value) {
  if (!value || !value.startsWith("/") || value.startsWith("//") || value.includes("\\")) return null;
  const url = new URL(value, window.location.origin);
  return url.origin === window.location.origin ? url : null;
}

function goOn(verdictId) {
  const next = safeNext(root.dataset.next);
  endSession({ tellServer: true });
  stopCamera();
  if (next) {
    next.searchParams.set("verdict", verdictId);
    window.location.assign(next.pathname + next.search + next.hash);
    return;
  }
  setState("done", { doneId: verdictId });
}

async function continueAnyway() {
  const id = model.verdictId;
  if (!id) {
    goOn(NO_VERDICT); // the verdict could not be recorded: nothing to mark
    return;
  }
  try {
    const response = await fetch(`/api/verdicts/${encodeURIComponent(id)}/continue`, { method: "POST" });
    if (!response.ok) console.warn("recording 'continued anyway' failed:", response.status);
  } catch (err) {
    console.warn("recording 'continued anyway' failed:", err); // still let them go on
  }
  goOn(id);
}

// ---- wiring ----

function on(id, fn) {
  document.getElementById(id).addEventListener("click", fn);
}

on("start", startCheck);
on("retry", startCheck);
on("retry-problem", startCheck);
on("continue", () => goOn(model.verdictId || NO_VERDICT));
on("continue-anyway", continueAnyway);
on("continue-without", () => goOn(NO_VERDICT));
onLocaleChange(() => {
  render();
  announce(statusText());
});
window.addEventListener("pagehide", () => endSession({ tellServer: true }));
applyTranslations(root);
render();
