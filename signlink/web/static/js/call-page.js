// The customer's call view on /wait: the agent's video large in a fixed place, the self view small,
// the call state and the agent's name always in the bar, text chat beside the video (below it on a
// phone) with delivered / not delivered on every sent message, and "End call".
//
// The page (wait.js) creates one CallView per session and tells it about the socket's state; the
// view owns the Call (call.js) and the chat.

import { Call } from "./call.js";
import { startCallStats } from "./call-stats.js";
import { startQualityHint } from "./call-quality.js";
import { TypingLine, TypingSender } from "./typing.js";
import { t } from "./i18n.js";

// No receipt by then: say "not delivered" (a late receipt still turns it "delivered").
const ACK_TIMEOUT_MS = 15_000;
const TITLE_AFTER_SEEN_MS = 8000; // "Your agent is ready" stays in the tab title until seen this long
const BANNER_AFTER_SEEN_MS = 20_000;
const SVG = "http://www.w3.org/2000/svg";
const STATUS_ICON = { sending: "msg-sending", delivered: "msg-delivered", failed: "msg-failed" };

function icon(name) {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("class", "icon");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  const use = document.createElementNS(SVG, "use");
  use.setAttribute("href", `/static/img/call-icons.svg#${name}`);
  svg.append(use);
  return svg;
}

function clock(at) {
  return new Date(at).toLocaleTimeString(document.documentElement.lang || undefined, {
    hour: "2-digit",
    minute: "2-digit",
  });
}

const $ = (id) => document.getElementById(id);

export class CallView {
  /**
   * sig: the page's SignalClient; session: the `session` message; stream: the camera (or null);
   * announce: true for a call that starts now (banner, title, notification), false when resuming.
   */
  constructor({ sig, session, stream, announce }) {
    this.sig = sig;
    this.session = session;
    this.agentName = session.peer?.name || t("call.agent_unknown");
    this.socketState = "open";
    this.peerAway = false;
    this.mediaState = "connecting";
    this.messages = new Map(); // id -> {id, text, mine, status, at, el}
    this.ackTimers = new Map();
    this.ready = { banner: announce, title: announce, timers: [] };
    this.call = new Call({
      signal: sig,
      role: session.role || "answerer",
      iceServers: session.ice_servers || [],
      stream,
      remoteVideo: $("remote"),
    });
    this.offs = [
      this.call.on("state", ({ state }) => {
        this.mediaState = state;
        if (state === "connected") this.peerAway = false;
        this.render();
      }),
      sig.on("peer", (msg) => this.onPeer(msg)),
      sig.on("chat", (msg) => this.onChat(msg)),
      sig.on("chat_ack", (msg) => this.mark(msg.id, "delivered")),
      sig.on("chat_failed", (msg) => this.mark(msg.id, "failed")),
      sig.on("typing", (msg) => {
        if (msg.active) this.typingLine.show(t("typing.agent", { name: this.agentName }));
        else this.typingLine.hide();
      }),
    ];
    this.typingLine = new TypingLine($("typing-text"));
    this.typingSender = new TypingSender((active) => sig.typing(active));
    this.onInput = () => this.typingSender.input($("chat-text").value);
    $("chat-text").addEventListener("input", this.onInput);
    this.onVisible = () => this.noticeSeen();
    this.onResize = () => this.render();
    document.addEventListener("visibilitychange", this.onVisible);
    window.addEventListener("focus", this.onVisible);
    $("remote").addEventListener("resize", this.onResize);
    this.call.start();
    this.offs.push(startCallStats(this.call, (message) => sig.send(message))); // call quality for QA
    this.quality = startQualityHint(this.call, { peer: "agent" }); // and, live, for the customer
    this.offs.push(() => this.quality.stop());
    if (announce) this.announceReady();
    this.render();
    this.noticeSeen();
  }

  /** The same session again after a reconnect: keep the peer and chat; a new session: not ours. */
  sameSession(session) {
    return session && session.session_id === this.session.session_id;
  }

  hasLivePeer() {
    return this.call.hasLivePeer();
  }

  setSocketState(state) {
    this.socketState = state;
    this.render();
  }

  setStream(stream) {
    this.call.setStream(stream);
  }

  onPeer(msg) {
    if (msg.state === "disconnected") this.peerAway = true;
    if (msg.state === "rejoined" || msg.state === "connected") this.peerAway = false;
    this.render();
  }

  // ---- "your agent is ready": banner, title, notification (nothing relies on sound) ----

  announceReady() {
    const banner = $("ready-banner");
    $("ready-text").textContent = t("call.ready_banner", { name: this.agentName });
    banner.hidden = false;
    banner.classList.add("ready-flash"); // 3 slow pulses, 1 per second (WCAG 2.3.1: at most 3 a second)
    $("ready-ok").addEventListener("click", () => this.hideBanner(), { once: true });
    const hidden = document.visibilityState !== "visible" || !document.hasFocus();
    if (hidden && "Notification" in window && Notification.permission === "granted") {
      try {
        const note = new Notification(t("call.ready_title"), {
          body: t("call.ready_notification", { name: this.agentName }),
          tag: "signlink-ready",
          requireInteraction: true,
          icon: "/static/img/favicon.svg",
        });
        note.addEventListener("click", () => {
          window.focus();
          note.close();
        });
        this.notification = note;
      } catch (err) {
        console.info("notification not shown:", err);
      }
    }
  }

  hideBanner() {
    const banner = $("ready-banner");
    const hadFocus = banner.contains(document.activeElement);
    banner.hidden = true;
    this.ready.banner = false;
    if (hadFocus) $("chat-text").focus();
  }

  // Once the customer has had the page in view for a while, the title and banner go back to normal.
  noticeSeen() {
    if (document.visibilityState !== "visible" || !document.hasFocus()) return;
    this.notification?.close();
    if (this.ready.title) {
      this.ready.timers.push(
        setTimeout(() => {
          this.ready.title = false;
          this.render();
        }, TITLE_AFTER_SEEN_MS),
      );
    }
    if (this.ready.banner) this.ready.timers.push(setTimeout(() => this.hideBanner(), BANNER_AFTER_SEEN_MS));
  }

  // ---- chat ----

  send(text) {
    this.typingSender.stop();
    const id = this.sig.chat(text);
    const message = {
      id: id || `local-${Date.now()}`,
      text,
      mine: true,
      status: id ? "sending" : "failed",
      at: Date.now(),
    };
    this.add(message);
    if (id) this.waitForAck(id);
    return Boolean(id);
  }

  resend(oldId) {
    const message = this.messages.get(oldId);
    if (!message) return;
    const id = this.sig.chat(message.text);
    if (!id) return; // still offline: it stays "not delivered"
    this.messages.delete(oldId);
    message.id = id;
    message.el.dataset.id = id;
    this.messages.set(id, message);
    this.mark(id, "sending");
    this.waitForAck(id);
  }

  waitForAck(id) {
    this.ackTimers.set(
      id,
      setTimeout(() => this.mark(id, "failed"), ACK_TIMEOUT_MS),
    );
  }

  onChat(msg) {
    if (typeof msg.text !== "string") return;
    this.typingLine.hide();
    this.add({ id: `in-${msg.id}`, text: msg.text, mine: false, status: "received", at: Date.now() });
    this.sig.chatAck(msg.id);
  }

  mark(id, status) {
    const message = this.messages.get(id);
    if (!message || !message.mine || message.status === "delivered") return;
    if (status !== "sending") clearTimeout(this.ackTimers.get(id));
    message.status = status;
    this.renderMessage(message);
  }

  add(message) {
    const li = document.createElement("li");
    li.className = `msg ${message.mine ? "msg-out" : "msg-in"}`;
    li.dataset.id = message.id;
    const who = document.createElement("span");
    who.className = "msg-who";
    const text = document.createElement("p");
    text.className = "msg-text";
    text.textContent = message.text;
    const meta = document.createElement("span");
    meta.className = "msg-meta";
    li.append(who, text, meta);
    message.el = li;
    this.messages.set(message.id, message);
    this.renderMessage(message);
    const box = $("chat-log-box");
    const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
    $("chat-log").append(li);
    if (atBottom || message.mine) li.scrollIntoView({ block: "nearest" });
    $("chat-empty").hidden = true;
  }

  renderMessage(message) {
    const li = message.el;
    li.dataset.status = message.status;
    li.querySelector(".msg-who").textContent = message.mine ? t("call.you") : this.agentName;
    const meta = li.querySelector(".msg-meta");
    const time = document.createElement("time");
    time.textContent = clock(message.at);
    if (!message.mine) {
      meta.replaceChildren(time);
      return;
    }
    const status = document.createElement("span");
    status.className = "msg-status";
    const word = document.createTextNode(t(`call.msg_${message.status}`));
    status.append(icon(STATUS_ICON[message.status]), word);
    const parts = [time, status];
    if (message.status === "failed") {
      const retry = document.createElement("button");
      retry.type = "button";
      retry.className = "msg-retry";
      retry.textContent = t("call.msg_retry");
      retry.addEventListener("click", () => this.resend(message.id));
      parts.push(retry);
    }
    const hadFocus = meta.contains(document.activeElement);
    meta.replaceChildren(...parts);
    if (hadFocus) $("chat-text").focus(); // the retry button is gone
  }

  // ---- rendering ----

  /** What the bar says: our connection first, then the agent's, then the video's. */
  shownState() {
    if (this.socketState === "reconnecting" || this.socketState === "connecting") return "reconnecting";
    if (this.peerAway) return "peer_away";
    if (this.mediaState === "connected") return "connected";
    if (this.mediaState === "reconnecting") return "reconnecting";
    return "connecting";
  }

  render() {
    const state = this.shownState();
    $("agent-name").textContent = t("call.agent", { name: this.agentName });
    const stateEl = $("call-state");
    stateEl.dataset.state = state === "peer_away" ? "reconnecting" : state;
    const text = t(`call.state_${state}`, { name: this.agentName });
    if ($("call-state-text").textContent !== text) $("call-state-text").textContent = text;
    const remote = $("remote");
    // The agent's picture stays in view while it moves (their socket may drop while the video goes on).
    const showing = this.mediaState === "connected" && remote.videoWidth > 0;
    $("remote-placeholder").hidden = showing;
    $("remote-placeholder-text").textContent = text;
    $("remote-box").dataset.state = state;
    if (this.ready.banner) $("ready-text").textContent = t("call.ready_banner", { name: this.agentName });
    document.title = this.ready.title
      ? `${t("call.ready_title")} · ${t("app.name")}`
      : `${t("call.title", { name: this.agentName })} · ${t("app.name")}`;
  }

  /** After a language switch: every text again, the messages' status words too. */
  relabel() {
    this.quality.relabel();
    this.render();
    for (const message of this.messages.values()) this.renderMessage(message);
  }

  close() {
    for (const off of this.offs) off();
    this.typingSender.stop();
    this.typingLine.hide();
    $("chat-text").removeEventListener("input", this.onInput);
    for (const timer of this.ackTimers.values()) clearTimeout(timer);
    for (const timer of this.ready.timers) clearTimeout(timer);
    document.removeEventListener("visibilitychange", this.onVisible);
    window.removeEventListener("focus", this.onVisible);
    $("remote").removeEventListener("resize", this.onResize);
    this.notification?.close();
    this.call.close();
  }
}
