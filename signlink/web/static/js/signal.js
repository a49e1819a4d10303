// The WebSocket client for /ws, for either party (customer or agent). Wire format: docs/protocol.md.
//
// It keeps one party connected across drops: reconnects with backoff, says `hello` again on every
// new socket (so the server resumes the party: same queue place, same session), pings every 10 s
// (for a waiting customer that ping is the queue heartbeat) and gives up only on close codes that
// say retrying cannot help.
//
/**
 * API
 *
 *   import { SignalClient } from "./signal.js";
 *   const sig = new SignalClient({
 *     url: "/ws",                                   // relative is fine: becomes ws(s)://this-host/ws
 *     hello: () => ({ role: "customer", token, pc: call?.hasLivePeer() ? "live" : "new" }),
 *   });                                             // `hello` is called for every new socket
 *   const off = sig.on("queue", (msg) => ...);      // any server message type: welcome, queue, session,
 *                                                   // peer, signal, chat, chat_ack, chat_failed, ended,
 *                                                   // error, offer, offer_ended, agent, queue_snapshot…
 *   sig.on("*", (msg) => ...);                      // every server message
 *   sig.on("connection", ({ state, code, reason, attempt, delayMs }) => ...);
 *       // state: "connecting" → "open" (welcome received) → "reconnecting" (dropped; next try in delayMs)
 *       //        → … → "closed" (for good: sig.close(), or a close code in FATAL_CLOSE_CODES)
 *   sig.connect();
 *   sig.state                                       // the current connection state
 *   sig.send({ type: "...", ... }) -> boolean       // false (and nothing sent) unless "open"
 *   sig.signal(data)                                // {sdp} | {candidate}: relayed to the other party
 *   sig.chat(text) -> id | null                     // null when not open; watch chat_ack / chat_failed
 *   sig.chatAck(id), sig.end(), sig.leave()         // chat receipt, end the call, leave the queue
 *   sig.typing(active)                              // "I am writing" on/off: relayed, never stored
 *   sig.status("available"|"away"), sig.accept(offerId), sig.decline(offerId)
 *   sig.wrapUp(sessionId, outcome, notes), sig.transfer(language, topic), sig.note(sessionId, text)
 *   sig.close()                                     // no reconnect after this
 *
 * Messages sent while the socket is down are not queued: a signal is useless late (the call
 * restarts ICE after a reconnect) and a chat message must show "failed" rather than arrive late.
 */

export const PING_INTERVAL_MS = 10_000;
// No message at all (not even a pong) for this long: the socket is dead even if the browser has not noticed.
export const SILENCE_LIMIT_MS = 25_000;
const BACKOFF_MS = [500, 1000, 2000, 4000, 8000, 10_000];
export const CLOSE = {
  BAD_HELLO: 4400,
  UNAUTHENTICATED: 4401,
  FORBIDDEN: 4403,
  UNKNOWN: 4404,
  REPLACED: 4409,
};
// Retrying cannot help: the token or session is gone, or a newer tab of the same party took over.
export const FATAL_CLOSE_CODES = new Set(Object.values(CLOSE));
const CLIENT_TIMEOUT = 4000; // our own close code when the socket went silent

function wsUrl(url) {
  const absolute = new URL(url, window.location.href);
  absolute.protocol = absolute.protocol === "https:" ? "wss:" : "ws:";
  return absolute.href;
}

function newId() {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export class SignalClient {
  constructor({ url = "/ws", hello }) {
    this.url = wsUrl(url);
    this.hello = hello;
    this.state = "idle";
    this.ws = null;
    this.attempt = 0;
    this.listeners = new Map();
    this.timers = { retry: null, ping: null, silence: null };
    this.stopped = false;
    this.onOnline = () => {
      // The network is back: do not sit out the rest of a long backoff.
      if (this.state === "reconnecting") this.openSocket();
    };
    window.addEventListener("online", this.onOnline);
  }

  /** Subscribe to a server message type, "*" (every message) or "connection". Returns `off()`. */
  on(type, fn) {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type).add(fn);
    return () => this.listeners.get(type)?.delete(fn);
  }

  emit(type, detail) {
    for (const fn of [...(this.listeners.get(type) || [])]) {
      try {
        fn(detail);
      } catch (err) {
        console.error(`signal: a "${type}" listener failed:`, err);
      }
    }
  }

  setState(state, extra = {}) {
    this.state = state;
    this.emit("connection", { state, attempt: this.attempt, ...extra });
  }

  connect() {
    this.stopped = false;
    this.openSocket();
  }

  openSocket() {
    clearTimeout(this.timers.retry);
    this.dropSocket();
    this.setState(this.attempt === 0 ? "connecting" : "reconnecting");
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch (err) {
      console.warn("signal: cannot open the socket:", err);
      this.scheduleRetry(1006, "");
      return;
    }
    this.ws = ws;
    ws.addEventListener("open", () => {
      if (ws !== this.ws) return;
      ws.send(JSON.stringify({ type: "hello", ...this.hello() }));
      this.keepAlive();
    });
    ws.addEventListener("message", (event) => {
      if (ws === this.ws) this.receive(event.data);
    });
    ws.addEventListener("close", (event) => {
      if (ws !== this.ws) return; // a socket we already dropped
      this.ws = null;
      this.stopTimers();
      if (this.stopped) return;
      if (FATAL_CLOSE_CODES.has(event.code)) {
        this.stopped = true;
        this.setState("closed", { code: event.code, reason: event.reason });
        return;
      }
      this.scheduleRetry(event.code, event.reason);
    });
  }

  receive(raw) {
    let msg;
    try {
      msg = JSON.parse(raw);
    } catch (err) {
      console.warn("signal: a message that is not JSON:", err);
      return;
    }
    if (!msg || typeof msg.type !== "string") return;
    this.heard();
    if (msg.type === "pong") return;
    if (msg.type === "welcome") {
      this.attempt = 0;
      this.setState("open");
    }
    this.emit(msg.type, msg);
    this.emit("*", msg);
  }

  scheduleRetry(code, reason) {
    const delayMs = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)] * (0.8 + Math.random() * 0.4);
    this.attempt += 1;
    this.setState("reconnecting", { code, reason, delayMs: Math.round(delayMs) });
    this.timers.retry = setTimeout(() => this.openSocket(), delayMs);
  }

  keepAlive() {
    clearInterval(this.timers.ping);
    this.timers.ping = setInterval(() => this.rawSend({ type: "ping" }), PING_INTERVAL_MS);
    this.heard();
  }

  heard() {
    clearTimeout(this.timers.silence);
    this.timers.silence = setTimeout(() => {
      console.info("signal: nothing heard for a while; reconnecting");
      const ws = this.ws;
      this.ws = null;
      this.stopTimers();
      ws?.close(CLIENT_TIMEOUT, "silent");
      this.scheduleRetry(CLIENT_TIMEOUT, "silent");
    }, SILENCE_LIMIT_MS);
  }

  stopTimers() {
    clearInterval(this.timers.ping);
    clearTimeout(this.timers.silence);
  }

  dropSocket() {
    const ws = this.ws;
    this.ws = null;
    this.stopTimers();
    if (ws && ws.readyState <= WebSocket.OPEN) ws.close(1000, "reconnect");
  }

  rawSend(msg) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(msg));
    return true;
  }

  /** Send a message now; false (nothing sent) unless the party is connected and welcomed. */
  send(msg) {
    return this.state === "open" && this.rawSend(msg);
  }

  /** Close for good (leaving the page, the call is over): no reconnect. */
  close() {
    this.stopped = true;
    clearTimeout(this.timers.retry);
    window.removeEventListener("online", this.onOnline);
    this.dropSocket();
    if (this.state !== "closed") this.setState("closed", { code: 1000, reason: "closed by the page" });
  }

  // ---- typed helpers ----

  signal(data) {
    return this.send({ type: "signal", data });
  }

  chat(text) {
    const id = newId();
    return this.send({ type: "chat", id, text }) ? id : null;
  }

  typing(active) {
    return this.send({ type: "typing", active: Boolean(active) });
  }

  chatAck(id) {
    return this.send({ type: "chat_ack", id });
  }

  end() {
    return this.send({ type: "end" });
  }

  leave() {
    return this.send({ type: "leave" });
  }

  status(status) {
    return this.send({ type: "status", status });
  }

  accept(offerId) {
    return this.send({ type: "accept", offer_id: offerId });
  }

  decline(offerId) {
    return this.send({ type: "decline", offer_id: offerId });
  }

  wrapUp(sessionId, outcome, notes = "") {
    return this.send({ type: "wrap_up", session_id: sessionId, outcome, notes });
  }

  transfer(language, topic) {
    return this.send({ type: "transfer", language, topic });
  }

  note(sessionId, text) {
    return this.send({ type: "note", session_id: sessionId, text });
  }
}
