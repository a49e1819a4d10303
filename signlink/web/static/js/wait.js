// The waiting room (and, when an agent accepts, the call) on /wait.
//
// Joins the queue once (POST /api/tickets) and keeps the ticket's token in localStorage; a reload
// or a dropped connection resumes over the WebSocket with that token instead of joining again.
// A join that gets no answer, or finds the service briefly unavailable, is sent again with backoff
// (see postTicket: never a second ticket).
// Position and estimated wait update live; the status line changes (and is announced) only when
// its words change. The camera runs as a self view so the customer can keep themselves in frame.
//
// States (data-state on #journey): joining | waiting | call | not_served | error | left | elsewhere
// | no_request.

import { CallView } from "./call-page.js";
import { setupVideoTools } from "./video-tools.js";
import { openCamera, stopStream } from "./call.js";
import { watchWhileWaiting } from "./check-watch.js";
import { applyTranslations, onLocaleChange, t, tn } from "./i18n.js";
import * as journey from "./journey.js";
import { CLOSE, SignalClient } from "./signal.js";
import { honestEstimate } from "./wait-facts.js";

const $ = (id) => document.getElementById(id);
const root = $("journey");
const request = {
  language: root.dataset.language,
  topic: root.dataset.topic,
  verdict: root.dataset.verdict,
};
const VIEW_OF = { joining: "waiting", waiting: "waiting", call: "call" };

const model = {
  state: "joining",
  language: request.language,
  topic: request.topic,
  position: null,
  estimate: null,
  served: [], // not_served: the codes with an agent online now, offered as buttons
  servedKind: "language", // ... of sign languages, or of topics in the chosen sign language
  message: null, // {title, text} catalog keys for the message view
  note: null, // a catalog key said above the place in the queue (transferred, place lost)
  socket: "idle",
  joinRetrying: false, // a join try got no answer: the next one is on its way
  camera: "starting", // starting | on | denied | missing | busy
};

// Join tries after the first: no answer, or 502-504 (a restart, a Redis failover). Then "try again".
const JOIN_RETRY_MS = [1000, 2000, 4000, 8000, 15_000];
const JOIN_RETRY_STATUS = new Set([502, 503, 504]);

let sig = null;
let token = null;
let joinRun = 0; // the current join; a newer one (or leaving) stops an older one's retries
let view = null; // the CallView while in a call
let stream = null;

function label(prefix, code) {
  const key = `${prefix}.${code}`;
  const text = t(key);
  return text === key ? code : text;
}

// ---- words ----

function estimateText(seconds) {
  const honest = honestEstimate(); // wait-facts.js: a range, or "cannot estimate" when nobody is free
  if (honest) return honest;
  if (typeof seconds !== "number" || !Number.isFinite(seconds)) return t("wait.estimate_unknown");
  if (seconds < 60) return t("wait.under_minute");
  const minutes = Math.round(seconds / 60);
  return tn("wait.minutes", minutes);
}

function positionText() {
  if (model.position === 1) return t("wait.next");
  if (typeof model.position === "number") return t("wait.position", { n: model.position });
  return "";
}

function statusText() {
  if (model.state === "joining" || model.position === null) return t("wait.joining");
  return t("wait.announce", { position: positionText(), estimate: estimateText(model.estimate) });
}

function connectionText() {
  if (model.state === "joining" && model.joinRetrying) return t("wait.join_retrying");
  // In a call the call bar says it, in the same place as every other call state.
  if (model.socket !== "reconnecting" || model.state === "call") return "";
  return t("wait.reconnecting");
}

function cameraText() {
  if (model.camera === "starting") return t("wait.camera_starting");
  if (model.camera === "on") return "";
  return `${t("wait.camera_off")} ${t(`camera.${model.camera}`)}`;
}

// ---- rendering ----

function setText(el, text) {
  if (el.textContent !== text) el.textContent = text; // unchanged words are not announced again
}

function renderWaiting() {
  setText($("position"), typeof model.position === "number" ? String(model.position) : "–");
  setText($("estimate"), model.position === null ? "–" : estimateText(model.estimate));
  setText($("wait-status"), statusText());
  $("wait-what").textContent = t("wait.what", { language: label("sl", model.language) });
  $("sum-language").textContent = label("sl", model.language);
  $("sum-topic").textContent = label("topic", model.topic);
  const prefs = journey.prefs();
  const device = [prefs.device_model, prefs.device_serial].filter(Boolean).join(" · ");
  $("sum-device").textContent = device;
  $("sum-device-row").hidden = !device;
  renderNotify();
  $("wait-note").hidden = !model.note;
  setText($("wait-note"), model.note ? t(model.note) : "");
}

function renderCamera() {
  for (const video of document.querySelectorAll(".self-video")) {
    if (video.srcObject !== stream) video.srcObject = stream;
  }
  for (const el of document.querySelectorAll("[data-camera-placeholder]")) el.hidden = model.camera === "on";
  for (const el of document.querySelectorAll("[data-camera-text]")) el.textContent = cameraText();
  for (const el of document.querySelectorAll("[data-camera-retry]")) {
    el.hidden = model.camera === "on" || model.camera === "starting";
  }
}

function renderNotify() {
  const button = $("notify-button");
  const text = $("notify-text");
  let key = "wait.notify_unsupported";
  if ("Notification" in window) {
    key = { granted: "wait.notify_on", denied: "wait.notify_blocked" }[Notification.permission] || null;
  }
  button.hidden = key !== null;
  text.hidden = key === null;
  if (key) text.querySelector("span").textContent = t(key);
}

function renderMessage() {
  const state = model.state;
  const card = $("message-card");
  card.dataset.kind = state;
  if (!model.message) return;
  const title = $("message-title");
  title.querySelector("span").textContent = t(model.message.title, names());
  title.dataset.icon = state === "left" ? "leave" : "offline";
  $("message-text").textContent = t(model.message.text);
  $("message-retry").hidden = state !== "error" || model.message.text !== "wait.error_text";
  $("message-here").hidden = state !== "elsewhere";
  const onlyWayOn = $("message-retry").hidden && $("message-here").hidden;
  $("message-start").classList.toggle("btn-primary", onlyWayOn);
  $("message-start").classList.toggle("btn-secondary", !onlyWayOn);
  const choices = state === "not_served" ? model.served : [];
  const kind = model.servedKind;
  $("wait-served-choices").replaceChildren(
    ...choices.map((code) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "btn btn-secondary";
      button.dataset[kind] = code;
      button.textContent = label(kind === "language" ? "sl" : "topic", code);
      return button;
    }),
  );
}

function renderTitle() {
  if (model.state === "call") return; // the call view owns the title ("Your agent is ready", …)
  if (model.state === "waiting" && typeof model.position === "number") {
    document.title = `${t("wait.tab_title", { n: model.position })} · ${t("app.name")}`;
  } else if (model.message && VIEW_OF[model.state] === undefined) {
    document.title = `${t(model.message.title, names())} · ${t("app.name")}`;
  } else {
    document.title = `${t("wait.title")} · ${t("app.name")}`;
  }
}

function render() {
  root.dataset.state = model.state;
  const shown = VIEW_OF[model.state] || "message";
  for (const el of root.querySelectorAll("[data-view]")) el.hidden = el.dataset.view !== shown;
  renderWaiting();
  renderMessage();
  renderCamera();
  const conn = connectionText();
  setText($("conn-text").querySelector("span"), conn);
  $("conn-text").hidden = !conn;
  view?.setSocketState(model.socket);
  renderTitle();
}

function isVisible(el) {
  return typeof el.checkVisibility === "function" ? el.checkVisibility() : el.getClientRects().length > 0;
}

function setState(state, changes = {}) {
  const main = $("main");
  const before = model.state;
  const hadFocus = main.contains(document.activeElement) || document.activeElement === document.body;
  Object.assign(model, changes, { state });
  if (state !== "call") view = closeView();
  render();
  // A pressed button may have just been hidden: put the focus where the new view starts.
  const active = document.activeElement;
  const sameView = VIEW_OF[state] !== undefined && VIEW_OF[state] === VIEW_OF[before]; // joining -> waiting
  if (state !== before && !sameView && hadFocus && (active === document.body || !isVisible(active))) {
    const headings = { waiting: "wait-heading", joining: "wait-heading", call: "call-heading" };
    const heading = headings[state] || "message-title";
    $(heading).focus();
  }
}

function closeView() {
  view?.close();
  return null;
}

// ---- the camera (the self view) ----

function cameraProblem(err) {
  const name = err && err.name;
  if (name === "NotAllowedError" || name === "SecurityError") return "denied";
  if (name === "NotReadableError" || name === "TrackStartError" || name === "AbortError") return "busy";
  return "missing";
}

async function startCamera() {
  model.camera = "starting";
  renderCamera();
  try {
    if (!navigator.mediaDevices?.getUserMedia) throw new Error("no getUserMedia");
    stream = await openCamera();
    model.camera = "on";
    view?.setStream(stream);
    const waiting = () => ["joining", "waiting"].includes(model.state);
    watchWhileWaiting({ stream, verdictId: root.dataset.verdict, active: waiting }); // check-watch.js
  } catch (err) {
    console.info("camera unavailable:", err);
    model.camera = cameraProblem(err);
  }
  renderCamera();
}

// ---- the queue ----

function codes(list) {
  return (list || []).map((item) => (typeof item === "string" ? item : item?.code)).filter(Boolean);
}

function names() {
  return { language: label("sl", model.language), topic: label("topic", model.topic) };
}

// 422 not_served: the language has agents but not for this topic, or the language has none now.
function notServed(data) {
  const topics = codes(data.served_topics).filter((code) => code !== model.topic);
  if (topics.length) {
    return {
      served: topics,
      servedKind: "topic",
      message: { title: "wait.topic_not_served_title", text: "wait.topic_not_served_text" },
    };
  }
  const languages = codes(data.served_languages).filter((code) => code !== model.language);
  return {
    served: languages,
    servedKind: "language",
    message: {
      title: "wait.not_served_title",
      text: languages.length ? "wait.not_served_text" : "wait.none_served",
    },
  };
}

function newToken() {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// POST /api/tickets until it answers (or the tries run out): { response, data, retried }, response
// null when nothing answered. Every try sends the same Idempotency-Key, so a try that reached the
// queue but whose answer was lost is not a second ticket: the next try gets that ticket's answer
// again (200, with its token). The token itself is always the server's.
async function postTicket(body, joinKey, run) {
  for (let attempt = 0; ; attempt += 1) {
    let response = null;
    let data = {};
    try {
      response = await fetch("/api/tickets", {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          Accept: "application/json",
          "Idempotency-Key": joinKey,
        },
        body: JSON.stringify(body),
      });
      data = await response.json().catch(() => ({}));
    } catch (err) {
      console.warn("joining the queue: no answer:", err);
    }
    const again = response === null || JOIN_RETRY_STATUS.has(response.status);
    if (!again || attempt >= JOIN_RETRY_MS.length || run !== joinRun) {
      return { response, data, retried: attempt > 0 };
    }
    model.joinRetrying = true;
    render();
    await sleep(JOIN_RETRY_MS[attempt]);
    if (run !== joinRun) return { response: null, data: {}, retried: true };
  }
}

async function join({ language = model.language, topic = model.topic } = {}) {
  const prefs = journey.prefs();
  const run = ++joinRun;
  setState("joining", {
    language,
    topic,
    position: null,
    estimate: null,
    message: null,
    note: model.note,
    joinRetrying: false,
  });
  const body = {
    language,
    topic: model.topic,
    verdict_id: request.verdict && request.verdict !== "none" ? request.verdict : null,
    priority_class: "normal",
  };
  if (prefs.device_model) body.device_model = prefs.device_model;
  if (prefs.device_serial) body.device_serial = prefs.device_serial;
  const { response, data } = await postTicket(body, newToken(), run);
  if (run !== joinRun) return; // left, or joined again, meanwhile
  model.joinRetrying = false;
  if (response === null) {
    setState("error", { message: { title: "wait.error_title", text: "wait.error_text" } });
    return;
  }
  if ((response.status === 201 || response.status === 200) && data.token) {
    // 200: an earlier try got through (its answer was lost); this is that ticket's answer again.
    const stored = { token: data.token, ticket_id: data.ticket_id, language, topic: model.topic };
    journey.saveTicket({ ...stored, phase: "waiting" });
    setState("waiting", { position: data.position ?? null, estimate: data.estimated_wait_s ?? null });
    connect(data.token, data.ws_url);
  } else if (response.status === 422 && data.error === "not_served") {
    setState("not_served", notServed(data));
  } else if (response.status === 422 && data.error === "closed") {
    setState("error", { message: { title: "hours.closed_wait_title", text: "hours.closed_wait_text" } });
  } else if (response.status === 409) {
    setState("error", { message: { title: "wait.error_title", text: "wait.already_queued" } });
  } else if (response.status === 400) {
    setState("no_request", { message: { title: "wait.no_request_title", text: "wait.no_request" } });
  } else {
    console.warn("joining the queue failed:", response.status, data);
    setState("error", { message: { title: "wait.error_title", text: "wait.error_text" } });
  }
}

function connect(ticketToken, url = "/ws") {
  token = ticketToken;
  sig?.close();
  sig = new SignalClient({
    url: url || "/ws",
    hello: () => ({ role: "customer", token, pc: view?.hasLivePeer() ? "live" : "new" }),
  });
  sig.on("connection", onConnection);
  sig.on("welcome", onWelcome);
  sig.on("queue", onQueue);
  sig.on("session", (msg) => onSession(msg));
  sig.on("ended", onEnded);
  sig.on("transferred", onTransferred);
  sig.on("left", (msg) => {
    if (msg.reason !== "left") placeLost(); // silent too long: the queue let the place go
  });
  sig.on("error", (msg) => console.info("server says:", msg.code, msg.message));
  sig.connect();
}

function onConnection({ state, code }) {
  model.socket = state;
  if (state === "closed" && (code === CLOSE.UNKNOWN || code === CLOSE.UNAUTHENTICATED)) {
    placeLost();
    return;
  }
  if (state === "closed" && code === CLOSE.REPLACED) {
    setState("elsewhere", { message: { title: "wait.elsewhere_title", text: "wait.elsewhere_text" } });
    return;
  }
  if (state === "closed" && (code === CLOSE.BAD_HELLO || code === CLOSE.FORBIDDEN)) {
    setState("error", { message: { title: "wait.error_title", text: "wait.error_text" } });
    return;
  }
  render();
}

// The server no longer knows the ticket (silent too long, or it is from an old visit): join again.
function placeLost() {
  sig?.close();
  sig = null;
  const hadPlace = journey.ticket()?.phase === "waiting" && model.position !== null;
  journey.forgetTicket();
  model.note = hadPlace ? "wait.place_lost" : null;
  if (model.language && model.topic) join();
  else setState("no_request", { message: { title: "wait.no_request_title", text: "wait.no_request" } });
}

function onWelcome(msg) {
  const s = msg.state || {};
  if (s.language) model.language = s.language;
  if (s.topic) model.topic = s.topic;
  if (s.state === "waiting" || s.state === "offered") {
    if (model.state === "call") journey.updateTicket({ phase: "waiting" });
    const position = s.position ?? model.position;
    setState("waiting", { position, estimate: s.estimated_wait_s ?? model.estimate });
  } else if (s.state === "in_call" && s.session) {
    onSession(s.session);
  } else if (s.state === "ended") {
    finish("system");
  } else if (s.state === "abandoned") {
    placeLost();
  }
}

// The agent passed the call on to another sign language or topic; the waited time is kept.
function onTransferred(msg) {
  model.language = msg.language || model.language;
  model.topic = msg.topic || model.topic;
  journey.updateTicket({ phase: "waiting", language: model.language, topic: model.topic });
  const estimate = msg.estimated_wait_s ?? null;
  setState("waiting", { position: msg.position ?? null, estimate, note: "wait.transferred" });
}

function onQueue(msg) {
  // A queue update during a call means the agent transferred us to another queue: back to waiting.
  if (model.state === "call") journey.updateTicket({ phase: "waiting" });
  setState("waiting", { position: msg.position ?? null, estimate: msg.estimated_wait_s ?? null });
}

function onSession(session) {
  const stored = journey.ticket() || {};
  if (view && view.sameSession(session)) {
    setState("call");
    return;
  }
  // News only if this browser has not shown this session yet (not after a reload mid-call).
  const announce = !(stored.phase === "in_call" && stored.session_id === session.session_id);
  const agentName = session.peer?.name || "";
  journey.updateTicket({ phase: "in_call", session_id: session.session_id, agent_name: agentName });
  view = closeView();
  model.state = "call"; // before the view renders: it owns the title from now on
  view = new CallView({ sig, session, stream, announce });
  setState("call");
}

function onEnded(msg) {
  finish(msg.by || "system");
}

function finish(by) {
  journey.updateTicket({ phase: "ended" });
  view = closeView();
  sig?.close();
  stopStream(stream);
  window.location.assign(`/rate?${new URLSearchParams({ by })}`);
}

async function leave() {
  joinRun += 1; // a join still retrying stops
  const current = journey.ticket();
  sig?.leave();
  if (current) {
    try {
      const response = await fetch("/api/tickets/current", {
        method: "DELETE",
        headers: { Authorization: `Bearer ${current.token}` },
      });
      if (!response.ok && response.status !== 404) console.warn("leaving the queue:", response.status);
    } catch (err) {
      console.warn("leaving the queue failed:", err); // the server drops a silent ticket anyway
    }
  }
  sig?.close();
  sig = null;
  journey.forgetTicket();
  stopStream(stream);
  stream = null;
  model.camera = "starting";
  setState("left", { message: { title: "wait.left_title", text: "wait.left_text" } });
}

// ---- wiring ----

function confirm(dialogId, yes, action) {
  const dialog = $(dialogId);
  dialog.addEventListener("close", () => {
    if (dialog.returnValue === yes) action();
  });
  return () => {
    dialog.returnValue = "";
    dialog.showModal();
  };
}

$("leave").addEventListener("click", confirm("leave-dialog", "leave", leave));
$("end-call").addEventListener(
  "click",
  confirm("end-dialog", "end", () => {
    if (!sig?.end()) finish("customer"); // offline: the server ends the held call after its grace time
  }),
);
$("notify-button").addEventListener("click", async () => {
  try {
    await Notification.requestPermission();
  } catch (err) {
    console.info("notification permission:", err);
  }
  renderNotify();
  if (!$("notify-button").hidden) return;
  $("notify-text").setAttribute("tabindex", "-1");
  $("notify-text").focus(); // the button is gone: keep the focus where it was
});
$("message-retry").addEventListener("click", () => join());
$("wait-served-choices").addEventListener("click", (event) => {
  const button = event.target.closest("button[data-language], button[data-topic]");
  if (!button) return;
  const { language, topic } = button.dataset;
  const choice = language ? { language } : { topic };
  journey.savePrefs(choice);
  join(choice);
});
$("message-here").addEventListener("click", () => {
  setState("waiting");
  connect(token);
});
for (const button of document.querySelectorAll("[data-camera-retry]")) {
  button.addEventListener("click", startCamera);
}
$("chat-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const text = $("chat-text").value.trim();
  if (!text || !view) return;
  view.send(text);
  $("chat-text").value = "";
});
$("chat-text").addEventListener("keydown", (event) => {
  // Enter sends, Shift+Enter starts a new line (and an IME composition is left alone).
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    $("chat-form").requestSubmit();
  }
});
onLocaleChange(() => {
  render();
  view?.relabel();
});
window.addEventListener("pagehide", (event) => {
  if (!event.persisted) sig?.close(); // a reload resumes with the token
});
window.addEventListener("pageshow", (event) => {
  if (event.persisted) window.location.reload(); // back from the bfcache: the socket is gone
});

function begin() {
  applyTranslations(root);
  setupVideoTools({
    root: document.querySelector(".view.call"),
    box: $("remote-box"),
    video: $("remote"),
    key: "customer",
  });
  const stored = journey.ticket();
  if (stored && stored.phase !== "ended") {
    model.language = stored.language || model.language;
    model.topic = stored.topic || model.topic;
    setState("joining");
    connect(stored.token);
  } else if (stored && !request.verdict) {
    window.location.replace("/rate"); // the call ended while this page was away: rate it
    return;
  } else if (model.language && model.topic) {
    journey.forgetTicket();
    join();
  } else {
    setState("no_request", { message: { title: "wait.no_request_title", text: "wait.no_request" } });
    return;
  }
  startCamera();
}

begin();
