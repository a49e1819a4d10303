// Text chat beside the video, and the agent's private notes.
// Sent and received messages look different (side, colour and a "You"/"Customer" label), and each
// sent one is marked in words and an icon: sending, delivered (the other browser acknowledged it)
// or failed (with a retry). Chat text is only in the page: never stored by us.
import { t } from "./i18n.js";
import { timeOfDay } from "./agent-format.js";

const ACK_TIMEOUT_MS = 10_000;
const ICONS = "/static/img/agent-icons.svg";

function newId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function icon(name) {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("class", "icon");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  const use = document.createElementNS("http://www.w3.org/2000/svg", "use");
  use.setAttribute("href", `${ICONS}#${name}`);
  svg.append(use);
  return svg;
}

export class ChatView {
  /** `send(message)` puts a message on the wire and returns false when it cannot. */
  constructor({ log, send }) {
    this.log = log;
    this.send = send;
    this.sent = new Map(); // id -> {item, text, timer}
    this.seen = new Set(); // received ids (a resend after a reconnect shows once)
  }

  reset() {
    for (const entry of this.sent.values()) window.clearTimeout(entry.timer);
    this.sent.clear();
    this.seen.clear();
    this.log.replaceChildren();
  }

  /** Send `text`; returns the message id. */
  say(text) {
    const id = newId();
    const item = this.item("sent", text);
    item.dataset.id = id;
    this.sent.set(id, { item, text, timer: 0 });
    this.transmit(id);
    return id;
  }

  transmit(id) {
    const entry = this.sent.get(id);
    if (!entry) return;
    this.mark(entry.item, "sending");
    window.clearTimeout(entry.timer);
    if (!this.send({ type: "chat", id, text: entry.text })) {
      this.failed(id);
      return;
    }
    entry.timer = window.setTimeout(() => this.failed(id), ACK_TIMEOUT_MS);
  }

  received(message) {
    if (!message.id || this.seen.has(message.id)) {
      if (message.id) this.send({ type: "chat_ack", id: message.id });
      return;
    }
    this.seen.add(message.id);
    this.item("received", String(message.text || ""));
    this.send({ type: "chat_ack", id: message.id });
  }

  acked(id) {
    const entry = this.sent.get(id);
    if (!entry) return;
    window.clearTimeout(entry.timer);
    this.mark(entry.item, "delivered");
  }

  failed(id) {
    const entry = this.sent.get(id);
    if (!entry || entry.item.dataset.status === "delivered") return;
    window.clearTimeout(entry.timer);
    this.mark(entry.item, "failed");
  }

  /** Re-render the words after a language switch. */
  relabel() {
    for (const item of this.log.querySelectorAll(".msg")) {
      item.querySelector(".msg-who").textContent = this.who(item.dataset.kind, Number(item.dataset.at));
      if (item.dataset.kind === "sent") this.mark(item, item.dataset.status);
    }
  }

  who(kind, at) {
    return `${t(kind === "sent" ? "agent.chat.you" : "agent.chat.customer")} · ${timeOfDay(at)}`;
  }

  item(kind, text) {
    const li = document.createElement("div");
    const at = Date.now();
    li.className = `msg msg-${kind}`;
    li.dataset.kind = kind;
    li.dataset.at = String(at);
    const who = document.createElement("span");
    who.className = "msg-who";
    who.textContent = this.who(kind, at);
    const body = document.createElement("p");
    body.className = "msg-text";
    body.textContent = text;
    li.append(who, body);
    if (kind === "sent") {
      const mark = document.createElement("span");
      mark.className = "msg-mark";
      li.append(mark);
    }
    this.log.append(li);
    this.log.scrollTop = this.log.scrollHeight;
    return li;
  }

  mark(item, status) {
    item.dataset.status = status;
    const mark = item.querySelector(".msg-mark");
    const name = { sending: "clock", delivered: "tick", failed: "cross" }[status];
    const label = document.createElement("span");
    label.textContent = t(`agent.chat.${status}`);
    mark.replaceChildren(icon(name), label);
    if (status === "failed") {
      const retry = document.createElement("button");
      retry.type = "button";
      retry.className = "btn-link";
      retry.textContent = t("agent.chat.retry");
      retry.addEventListener("click", () => this.transmit(item.dataset.id));
      mark.append(retry);
    }
  }
}

/** Private notes: sent to the server for QA, listed here, never shown to the customer. */
export class NotesView {
  constructor({ lists, send }) {
    this.lists = lists;
    this.send = send;
    this.notes = [];
  }

  reset() {
    this.notes = [];
    this.render();
  }

  add(sessionId, text) {
    const ok = this.send({ type: "note", session_id: sessionId, text });
    this.notes.push({ text, at: Date.now(), ok, saved: false });
    this.render();
    return ok;
  }

  /** The server stored a note (`saved`): they are stored in order. */
  saved() {
    const note = this.notes.find((n) => n.ok && !n.saved);
    if (note) note.saved = true;
    this.render();
  }

  render() {
    const count = document.getElementById("notes-count");
    if (count) count.textContent = this.notes.length ? `(${this.notes.length})` : "";
    for (const list of this.lists) {
      list.replaceChildren(
        ...this.notes.map((note) => {
          const li = document.createElement("li");
          li.className = note.ok ? "note" : "note note-failed";
          const when = document.createElement("span");
          when.className = "note-when";
          const mark = note.ok ? (note.saved ? "agent.notes.stored" : "agent.chat.sending") : "agent.notes.not_stored";
          when.textContent = `${timeOfDay(note.at)} · ${t(mark)}`;
          const body = document.createElement("p");
          body.textContent = note.text;
          li.append(when, body);
          return li;
        }),
      );
    }
  }
}
