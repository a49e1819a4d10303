// The agent console: status, the live queue, offers, the call (video, chat, notes, transfer) and
// wrap-up, over the one WebSocket (/ws; docs/protocol.md "The call").
//
// One state object; `render()` derives the view from it: wrap-up > call > offer > idle. The server
// is the authority on the agent's status; the page only asks for changes.
import { applyTranslations, onLocaleChange, pick, t } from "./i18n.js";
import { Chime, OfferAlert, loadSettings, saveSettings } from "./agent-alert.js";
import { ChatView, NotesView } from "./agent-chat.js";
import { clock, duration, languageName, priorityName, setText, timeOfDay, topicName } from "./agent-format.js";
import { QueueView } from "./agent-queue.js";
import { AgentCall } from "./agent-call.js";
import { startCallStats } from "./call-stats.js";
import { SignalClient } from "./signal.js";

const $ = (id) => document.getElementById(id);
const root = $("console");
const baseTitle = document.title;
const SKEW_TOLERANCE_MS = 2000;
// Close codes that end the console's socket for good (signal.js does not retry them).
const CLOSED_KEYS = { 4401: "logged_out", 4403: "forbidden", 4409: "replaced" };

/** The text for `key`, or for `fallback` when the catalog has no `key`. */
function tOr(key, fallback) {
  return t(key) !== key ? t(key) : t(fallback);
}

const state = {
  conn: "connecting",
  status: "offline",
  agent: null,
  offer: null, // {offer_id, ticket, check, deadline (performance.now ms), timeout_s, receivedAt}
  accepting: false,
  session: null, // {session_id, ticket, check, startedAt (Date ms)}
  wrap: null, // {session_id, ticket, endedBy, duration_s, transferred}
  missed: null, // {at (Date ms), count, reason}
  lastCall: null,
  view: "idle",
};

// ---- wiring ----

const settings = loadSettings();
const chime = new Chime();
const alert = new OfferAlert({ banner: $("offer-banner"), settings: () => settings, chime, baseTitle });
const queue = new QueueView({
  languages: Array.from($("my-languages").children, (el) => el.dataset.code),
  topics: Array.from($("my-topics").children, (el) => el.dataset.code),
});
// `hello` runs for every new socket: a page that still holds a live call says so (docs/protocol.md).
const link = new SignalClient({ url: root.dataset.ws, hello: () => ({ role: "agent", pc: call.live() ? "live" : "new" }) });
link.on("*", (message) => handle(message));
link.on("connection", ({ state: conn, code }) => {
  state.conn = conn;
  state.closeCode = conn === "closed" ? code : null;
  render();
});
const send = (message) => link.send(message);
const chat = new ChatView({ log: $("chat-log"), send });
const notes = new NotesView({ lists: [$("note-list"), $("wrapup-note-list")], send });
const call = new AgentCall({
  signal: link,
  localVideo: $("self-video"),
  remoteVideo: $("remote-video"),
  onChange: () => renderCall(),
});
startCallStats(() => call.call, send); // call quality for QA, whichever call is current

// ---- messages from the server ----

function handle(message) {
  switch (message.type) {
    case "welcome":
      return welcome(message.state || {});
    case "agent":
      return agentStatus(message);
    case "queue_snapshot":
      queue.update(message);
      return;
    case "offer":
      return offered(message);
    case "offer_ended":
      return offerEnded(message);
    case "session":
      return sessionStarted(message);
    case "peer":
      return call.peer(message); // call.js itself restarts the media on "rejoined"
    case "chat":
      return chat.received(message);
    case "chat_ack":
      return chat.acked(message.id);
    case "chat_failed":
      return chat.failed(message.id);
    case "ended":
      return ended(message);
    case "saved":
      return saved(message);
    case "error":
      return serverError(message);
    default:
      return undefined; // pong and anything newer than this page
  }
}

function welcome(s) {
  state.agent = s.agent || null;
  setStatus((s.agent && s.agent.status) || "offline", s.agent);
  // After a reload: away with missed offers counted is the automatic Away (when: not known here).
  if (s.agent && s.agent.status === "away" && s.agent.missed > 0 && !state.missed) {
    state.missed = { at: null, count: s.agent.missed, reason: "missed_offers" };
  }
  if (s.offer) offered(s.offer);
  else if (state.offer) clearOffer();
  if (s.session && (!state.session || state.session.session_id !== s.session.session_id)) {
    sessionStarted({ ...s.session, ice_servers: s.session.ice_servers || s.ice_servers });
  } else if (!s.session && state.session) {
    // The call ended while this page was away from the server.
    toWrapUp(state.session, "system");
  }
  // A reload during wrap-up: the form comes back for the session still to wrap up.
  if (s.wrap_up && s.wrap_up.session_id && !state.wrap && state.status === "wrap_up") {
    toWrapUp({ session_id: s.wrap_up.session_id, ticket: {}, startedAt: 0 }, "system", false, false);
  }
  render();
}

function agentStatus(message) {
  const previous = state.status;
  setStatus(message.status, message);
  const auto = message.reason === "missed_offers" || (message.reason == null && message.missed > 0);
  if (message.status === "away" && auto && previous !== "away") {
    state.missed = { at: Date.now(), count: message.missed, reason: message.reason || "timed_out" };
    announce("polite", missedTitle() + " " + missedText());
  }
  render();
}

function setStatus(status, detail) {
  if (!status) return;
  const changed = status !== state.status;
  state.status = status;
  if (status === "available") state.missed = null;
  if (detail && detail.missed === 0 && status !== "away") state.missed = null;
  if (changed && (status === "available" || status === "away") && !state.wrap) {
    announce("polite", t(`agent.announce.${status}`));
  }
}

function offered(message) {
  const now = performance.now();
  const timeoutMs = (message.timeout_s || Number(root.dataset.offerTimeout) || 20) * 1000;
  // Trust the server's deadline unless this computer's clock is clearly off.
  let leftMs = message.deadline_ms ? message.deadline_ms - Date.now() : timeoutMs;
  if (leftMs > timeoutMs + SKEW_TOLERANCE_MS || leftMs < -SKEW_TOLERANCE_MS) leftMs = timeoutMs;
  const fresh = !state.offer || state.offer.offer_id !== message.offer_id;
  state.offer = {
    offer_id: message.offer_id,
    ticket: message.ticket || {},
    check: message.check || null,
    // The bar's full length: the whole offer time (timeout_s is what was left when it was sent).
    timeout_s: Math.max(timeoutMs / 1000, Number(root.dataset.offerTimeout) || 0),
    deadline: now + Math.max(0, leftMs),
    receivedAt: now,
  };
  state.accepting = false;
  if (!fresh) return render();
  renderOffer();
  render();
  alert.start({ title: t("agent.offer.title"), body: offerSummary(), tag: message.offer_id });
  announce("assertive", offerAnnouncement());
  call.prepareCamera().catch(() => {}); // the camera is warm when Accept is pressed
  $("accept").focus();
}

function offerEnded(message) {
  if (!state.offer || state.offer.offer_id !== message.offer_id) return;
  const accepted = message.reason === "accepted";
  clearOffer();
  if (!accepted) {
    announce("polite", tOr(`agent.offer.ended.${message.reason}`, "agent.offer.ended.withdrawn"));
    if (!state.session) call.releaseCamera();
  }
  render();
}

function clearOffer() {
  state.offer = null;
  state.accepting = false;
  alert.stop();
}

function sessionStarted(message) {
  // The session message may not repeat the offer's check result: keep what the offer said.
  const last = state.offer || state.accepted;
  const ticketId = message.ticket && message.ticket.id;
  const offer = last && (!ticketId || last.ticket.id === ticketId) ? last : null;
  state.accepted = null;
  if (state.offer) clearOffer();
  const known = state.session && state.session.session_id === message.session_id;
  const before = known ? state.session : offer || {};
  state.session = {
    session_id: message.session_id,
    ticket: message.ticket || before.ticket || {},
    check: message.check || before.check || null,
    startedAt: known ? state.session.startedAt : Date.now(),
    peerConnected: message.peer ? message.peer.connected !== false : true,
    peerName: (message.peer && message.peer.name) || "",
  };
  if (!known) {
    chat.reset();
    notes.reset();
  }
  call.start({
    sessionId: message.session_id,
    iceServers: message.ice_servers || [],
    role: message.role,
    peerConnected: state.session.peerConnected,
  });
  renderCallFacts();
  render();
  if (!known) {
    announce("polite", t("agent.announce.call"));
    $("call-title").focus();
  }
}

function ended(message) {
  if (!state.session || (message.session_id && message.session_id !== state.session.session_id)) return;
  const by = message.by || "system";
  toWrapUp(state.session, by === "transfer" ? "agent" : by, by === "transfer" || state.transferring);
  render();
}

function saved(message) {
  if (message.what === "note") notes.saved();
  if (message.what === "wrap_up") announce("polite", t("agent.wrapup.saved"));
}

function toWrapUp(session, by, transferred = false, announceIt = true) {
  state.transferring = false;
  call.stop();
  state.wrap = {
    session_id: session.session_id,
    ticket: session.ticket || {},
    endedBy: by,
    duration_s: session.startedAt ? (Date.now() - session.startedAt) / 1000 : null,
    transferred,
  };
  state.session = null;
  $("wrapup-form").reset();
  if (transferred) $("wrapup-outcome").value = "transferred";
  else if (by === "system") $("wrapup-outcome").value = "dropped";
  setText("wrapup-error", "");
  $("wrapup-outcome").removeAttribute("aria-invalid");
  renderWrap();
  render();
  if (announceIt) announce("polite", t(transferred ? "agent.announce.transferred" : `agent.announce.ended_${by}`));
  $("wrapup-outcome").focus();
}

function serverError(message) {
  // The socket stays open; say what went wrong where the agent is looking.
  const key = `agent.error.${message.code}`;
  const text = t(key) !== key ? t(key) : t("agent.error.generic", { message: message.message || message.code });
  if (state.accepting) state.accepting = false;
  if (state.transferring) {
    state.transferring = false;
    $("transfer-submit").disabled = false;
  }
  announce("assertive", text);
  state.error = { text, view: state.view };
  render();
}

// ---- actions ----

$("server-error-close").addEventListener("click", () => {
  state.error = null;
  render();
});

$("set-available").addEventListener("click", () => {
  if (settings.sound) chime.unlock(); // a gesture: audio may start later when an offer comes
  send({ type: "status", status: "available" });
});
$("set-away").addEventListener("click", () => send({ type: "status", status: "away" }));

$("accept").addEventListener("click", () => {
  if (!state.offer || state.accepting) return;
  state.accepting = true;
  state.accepted = state.offer;
  alert.stop();
  if (!send({ type: "accept", offer_id: state.offer.offer_id })) state.accepting = false;
  render();
});
$("decline").addEventListener("click", () => {
  if (!state.offer) return;
  send({ type: "decline", offer_id: state.offer.offer_id });
  clearOffer();
  call.releaseCamera();
  render();
  $("idle-title").focus();
});

$("end-call").addEventListener("click", () => {
  if (!state.session) return;
  send({ type: "end" });
  toWrapUp(state.session, "agent");
});

$("transfer-form").addEventListener("submit", (event) => {
  event.preventDefault();
  if (!state.session) return;
  const language = $("transfer-language").value;
  const topic = $("transfer-topic").value;
  if (state.transferring || !send({ type: "transfer", language, topic })) return;
  // The call ends when the server has put the ticket back in the queue (`ended` by "transfer").
  state.transferring = true;
  $("transfer-submit").disabled = true;
  announce("polite", t("agent.transfer.pending"));
});

function sendOnEnter(input, form) {
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
}

$("chat-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const text = $("chat-input").value.trim();
  if (!text || !state.session) return;
  chat.say(text);
  $("chat-input").value = "";
});
sendOnEnter($("chat-input"), $("chat-form"));

$("note-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const text = $("note-input").value.trim();
  if (!text || !state.session) return;
  notes.add(state.session.session_id, text);
  $("note-input").value = "";
});
sendOnEnter($("note-input"), $("note-form"));

$("wrapup-form").addEventListener("submit", (event) => {
  event.preventDefault();
  if (!state.wrap) return;
  const outcome = $("wrapup-outcome").value;
  if (!outcome) {
    $("wrapup-outcome").setAttribute("aria-invalid", "true");
    setText("wrapup-error", t("agent.wrapup.need_outcome"));
    $("wrapup-outcome").focus();
    return;
  }
  const next = new FormData($("wrapup-form")).get("next") === "away" ? "away" : "available";
  const sent = send({
    type: "wrap_up",
    session_id: state.wrap.session_id,
    outcome,
    notes: $("wrapup-notes").value.trim(),
    next,
  });
  if (!sent) {
    setText("wrapup-error", t("agent.wrapup.offline"));
    return;
  }
  state.lastCall = { at: Date.now(), outcome, ticket: state.wrap.ticket };
  state.wrap = null;
  notes.reset();
  call.releaseCamera();
  render();
  $("idle-title").focus();
});

// Alert settings
const optFlash = $("opt-flash");
const optSound = $("opt-sound");
const optNotify = $("opt-notify");
optFlash.checked = settings.flash;
optSound.checked = settings.sound;
optNotify.checked = settings.notify && "Notification" in window && Notification.permission === "granted";
optFlash.addEventListener("change", () => {
  settings.flash = optFlash.checked;
  saveSettings(settings);
});
optSound.addEventListener("change", () => {
  settings.sound = optSound.checked;
  if (settings.sound && chime.unlock()) chime.play();
  saveSettings(settings);
});
$("test-sound").addEventListener("click", () => {
  if (chime.unlock()) window.setTimeout(() => chime.play(), 50);
});
optNotify.addEventListener("change", async () => {
  if (!optNotify.checked) {
    settings.notify = false;
    saveSettings(settings);
    return;
  }
  const permission = "Notification" in window ? await Notification.requestPermission() : "denied";
  settings.notify = permission === "granted";
  optNotify.checked = settings.notify;
  setText("notify-hint", t(settings.notify ? "agent.opt.notify_hint" : "agent.opt.notify_denied"));
  saveSettings(settings);
});
// With sound chosen in an earlier visit, audio can start only after some gesture on this page.
document.addEventListener("pointerdown", () => settings.sound && chime.unlock(), { once: true });
document.addEventListener("keydown", () => settings.sound && chime.unlock(), { once: true });

// ---- rendering ----

const polite = $("announce-polite");
const assertive = $("announce-assertive");

function announce(kind, text) {
  const region = kind === "assertive" ? assertive : polite;
  region.textContent = "";
  // A new node after a tick, so the same words twice are still read.
  window.setTimeout(() => {
    region.textContent = text;
  }, 50);
}

function viewOf() {
  if (state.wrap) return "wrapup";
  if (state.session) return "call";
  if (state.offer) return "offer";
  return "idle";
}

function render() {
  state.view = viewOf();
  root.dataset.view = state.view;
  root.dataset.status = state.status;
  root.dataset.conn = state.conn;
  root.dataset.session = state.session ? state.session.session_id : "";
  for (const panel of root.querySelectorAll("[data-panel]")) panel.hidden = panel.dataset.panel !== state.view;

  // Between End and the server's word, the wrap-up already shows as such.
  const shown = state.wrap && state.status === "in_call" ? "wrap_up" : state.status;
  $("status-pill").dataset.status = shown;
  setText("status-text", t(`agent.status.${shown}`));

  const settable = state.conn === "open" && (state.status === "available" || state.status === "away");
  for (const [id, status] of [["set-available", "available"], ["set-away", "away"]]) {
    const button = $(id);
    button.disabled = !settable;
    button.setAttribute("aria-pressed", String(state.status === status));
  }
  const conn = $("conn");
  conn.dataset.conn = state.conn;
  setText("conn-text", t(`agent.conn.${state.conn}`));
  // A refusal stays in view until closed or until the console moves on to another view.
  if (state.error && state.error.view !== state.view) state.error = null;
  const box = $("server-error");
  if (state.view === "call" && box.parentElement !== $("call-actions")) $("call-actions").append(box);
  if (state.view !== "call" && box.nextElementSibling !== $("server-error-home")) $("server-error-home").before(box);
  box.hidden = !state.error;
  if (state.error) setText("server-error-text", state.error.text);

  renderIdle();
  if (state.view === "offer") renderOfferTick();
  if (state.view === "call") renderCall();
  $("accept").disabled = state.accepting;
  $("decline").disabled = state.accepting;
  setText("bar-queue-text", queue.summary());
}

function renderIdle() {
  let key = "connecting";
  if (state.conn === "open" || state.agent) {
    key = { available: "available", away: "away", offline: "connecting" }[state.status] || "available";
  }
  if (state.conn === "reconnecting" && state.agent) key = "reconnecting";
  if (state.conn === "closed") key = CLOSED_KEYS[state.closeCode] || "closed";
  setText("idle-title", t(`agent.idle.${key}`));
  setText("idle-text", t(`agent.idle.${key}_body`));
  // A socket closed for good: one clear way on (log in again, or reload to take over here).
  $("idle-action").hidden = state.conn !== "closed";
  if (state.conn === "closed") {
    const link = $("idle-link");
    link.href = key === "logged_out" ? "/login?next=%2Fagent" : "/agent";
    link.textContent = t(key === "logged_out" ? "agent.idle.log_in" : "agent.idle.reload");
  }

  const missed = $("missed");
  missed.hidden = !state.missed || state.status !== "away";
  if (!missed.hidden) {
    setText("missed-title", missedTitle());
    setText("missed-text", missedText());
  }
  const last = $("last-call");
  last.hidden = !state.lastCall;
  if (state.lastCall) {
    setText("last-call", t("agent.idle.last_call", {
      time: timeOfDay(state.lastCall.at),
      outcome: t(`agent.outcome.${state.lastCall.outcome}`),
    }));
  }
}

function missedTitle() {
  if (state.missed && state.missed.at === null) return t("agent.missed.title_no_time");
  return t("agent.missed.title", { time: timeOfDay(state.missed ? state.missed.at : Date.now()) });
}

function missedText() {
  const m = state.missed || { count: 1, reason: "timed_out" };
  return t("agent.missed.body", { n: m.count });
}

function offerSummary() {
  const ticket = state.offer ? state.offer.ticket : {};
  return t("agent.offer.summary", {
    language: languageName(ticket.language || ""),
    topic: topicName(ticket.topic || ""),
    waited: duration(ticket.waited_s || 0),
  });
}

function checkWords(check) {
  if (!check) return { result: "none", title: t("agent.check.none"), failing: [] };
  const failing = (check.failing || []).map((f) => pick(f.message) || f.criterion);
  if (check.passed) return { result: "passed", title: t("agent.check.passed"), failing: [] };
  const key = check.continued_despite_failure ? "agent.check.continued" : "agent.check.failed";
  return { result: "failed", title: t(key), failing: failing.length ? failing : [t("agent.check.no_details")] };
}

function offerAnnouncement() {
  const words = checkWords(state.offer.check);
  const parts = [t("agent.offer.title") + ".", offerSummary() + "."];
  if (words.result === "failed") parts.push(words.title + ": " + words.failing.join(t("list.sep")) + ".");
  parts.push(t("agent.offer.seconds_to_answer", { s: Math.round(secondsLeft()) }));
  return parts.join(" ");
}

function renderOffer() {
  const { ticket, check } = state.offer;
  setText("offer-language", languageName(ticket.language || ""));
  setText("offer-topic", topicName(ticket.topic || ""));
  setText("offer-priority", priorityName(ticket.priority_class));
  setText("offer-model", ticket.device_model || t("agent.f.not_given"));
  setText("offer-serial", ticket.device_serial || t("agent.f.not_given"));
  const words = checkWords(check);
  const box = $("offer-check");
  box.dataset.result = words.result;
  // The waiting room kept watching (check-watch.js): say how recent this state is.
  const age = check && check.measured_age_s != null ? Math.round(check.measured_age_s) : null;
  const measured = age === null ? "" : t("agent.check.measured", { s: age });
  setText("offer-check-title", measured ? `${words.title} ${measured}` : words.title);
  $("offer-check-failing").replaceChildren(
    ...words.failing.map((text) => {
      const li = document.createElement("li");
      li.textContent = text;
      return li;
    }),
  );
  renderOfferTick();
}

function secondsLeft() {
  return state.offer ? Math.max(0, (state.offer.deadline - performance.now()) / 1000) : 0;
}

function renderOfferTick() {
  if (!state.offer) return;
  const left = Math.ceil(secondsLeft());
  setText("countdown-num", String(left));
  setText("countdown-text", left > 0 ? t("agent.offer.seconds_left", { s: left }) : t("agent.offer.time_up"));
  $("offer-banner").dataset.late = String(left <= 5);
  $("countdown-fill").style.transform = `scaleX(${secondsLeft() / state.offer.timeout_s})`;
  const waited = (state.offer.ticket.waited_s || 0) + (performance.now() - state.offer.receivedAt) / 1000;
  setText("offer-waited", duration(waited));
}

function renderCallFacts() {
  const s = state.session;
  if (!s) return;
  const ticket = s.ticket || {};
  setText("call-who", `${languageName(ticket.language || "")} · ${topicName(ticket.topic || "")}`);
  setText("call-model", ticket.device_model || t("agent.f.not_given"));
  setText("call-serial", ticket.device_serial || t("agent.f.not_given"));
  const words = checkWords(s.check);
  const short = words.result === "failed" && s.check.continued_despite_failure ? "continued" : words.result;
  const check = setText("call-check", t(`agent.check.short.${short}`));
  check.dataset.result = words.result;
  check.title = words.failing.join(t("list.sep"));
  $("transfer-language").value = ticket.language || $("transfer-language").value;
  $("transfer-topic").value = ticket.topic || $("transfer-topic").value;
}

function renderCall() {
  if (!state.session) return;
  setText("call-timer", clock((Date.now() - state.session.startedAt) / 1000));
  const key = call.videoState();
  const el = setText("peer-state", t(`agent.call.${key}`));
  el.dataset.peer = key;
  const placeholder = $("remote-placeholder");
  placeholder.hidden = key === "video_ok";
  placeholder.textContent = t(`agent.call.${key}`);
  const noCamera = $("no-camera");
  noCamera.hidden = !call.cameraError;
  if (call.cameraError) noCamera.textContent = t("agent.call.no_camera");
}

function renderWrap() {
  const w = state.wrap;
  const ticket = w.ticket || {};
  const summary = ticket.language && w.duration_s !== null
    ? t("agent.wrapup.summary", {
      language: languageName(ticket.language),
      topic: topicName(ticket.topic || ""),
      duration: duration(w.duration_s),
      by: t(`agent.ended_by.${w.endedBy}`),
    })
    : t("agent.wrapup.summary_unknown"); // after a reload: the page no longer knows the call
  setText("wrapup-summary", summary);
  $("wrapup-saved").hidden = notes.notes.length === 0;
}

// One clock for the countdown and the call timer; the queue's waits tick once a second.
let ticks = 0;
window.setInterval(() => {
  if (state.view === "offer") renderOfferTick();
  if (state.view === "call") renderCall();
  ticks += 1;
  if (ticks % 4 === 0) queue.render();
}, 250);

onLocaleChange(() => {
  if (state.offer) renderOffer();
  if (state.session) renderCallFacts();
  if (state.wrap) renderWrap();
  chat.relabel();
  notes.render();
  queue.render();
  render();
});

applyTranslations();
render();
link.connect();
