// The console's video-mail inbox: the messages waiting for this agent's sign languages (the server
// filters), newest last; one opens in a dialog to watch, e-mail the customer a link back to a video
// call, and mark handled with an outcome. Re-read every 30 s while the page is visible.
import { locale, onLocaleChange, t } from "./i18n.js";
import { csrfHeaders } from "./csrf.js";
import { clock, languageName, setText, topicName } from "./agent-format.js";

const POLL_MS = 30_000;
const $ = (id) => document.getElementById(id);
const dialog = $("mail-dialog");
const video = $("mail-video");
let messages = [];
let open = null; // the message in the dialog

function when(iso) {
  return new Intl.DateTimeFormat(locale(), { dateStyle: "medium", timeStyle: "short" }).format(new Date(iso));
}

function reasonName(code) {
  const key = `agent.mail.reason.${code}`;
  return t(key) === key ? code : t(key);
}

function seen(mail) {
  return mail.watched_by.length ? t("agent.mail.watched_by", { names: mail.watched_by.join(", ") }) : t("agent.mail.new");
}

function render() {
  const list = $("inbox-list");
  list.replaceChildren(...messages.map((mail) => {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "inbox-item";
    button.dataset.id = mail.id;
    button.dataset.seen = mail.watched_by.length ? "yes" : "no";
    const line = document.createElement("span");
    line.className = "inbox-line";
    line.textContent = `${mail.language} · ${topicName(mail.topic)}`;
    const meta = document.createElement("span");
    meta.className = "inbox-meta";
    const length = mail.duration_s == null ? "" : ` · ${clock(mail.duration_s)}`;
    meta.textContent = `${when(mail.sent_at)}${length} · ${seen(mail)}`;
    button.append(line, meta);
    button.addEventListener("click", () => watch(mail));
    item.append(button);
    return item;
  }));
  $("inbox-empty").hidden = messages.length > 0;
  $("inbox-count").textContent = messages.length ? `(${messages.length})` : "";
  if (open) renderDialog();
}

async function load() {
  try {
    const response = await fetch("/api/staff/video-mail", { headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error(`status ${response.status}`);
    messages = (await response.json()).messages;
  } catch (err) {
    console.info("cannot read the video-mail inbox:", err);
    return; // the last list stays; the next poll tries again
  }
  render();
}

function renderDialog() {
  setText("mail-language", languageName(open.language));
  setText("mail-topic", topicName(open.topic));
  setText("mail-sent", when(open.sent_at));
  setText("mail-reason", reasonName(open.reason));
  setText("mail-model", open.device_model || "–");
  setText("mail-serial", open.device_serial || "–");
  setText("mail-email", open.has_email ? t("agent.mail.email_yes") : t("agent.mail.email_no"));
}

function watch(mail) {
  open = mail;
  renderDialog();
  setText("mail-callback-result", "");
  setText("mail-handle-error", "");
  $("mail-outcome").value = "";
  video.src = mail.video_url;
  dialog.showModal();
  video.focus();
}

function close() {
  video.pause();
  video.removeAttribute("src");
  video.load();
  open = null;
  if (dialog.open) dialog.close();
}

async function callBack() {
  const result = $("mail-callback-result");
  result.textContent = t("agent.mail.callback_sending");
  try {
    const response = await fetch(`/api/staff/video-mail/${open.id}/call-back`, {
      method: "POST",
      headers: csrfHeaders({ Accept: "application/json" }),
    });
    if (!response.ok) throw new Error(`status ${response.status}`);
    const body = await response.json();
    if (body.emailed) result.textContent = t("agent.mail.callback_emailed");
    else if (!open.has_email) result.textContent = t("agent.mail.callback_no_email", { link: body.link });
    else result.textContent = t("agent.mail.callback_failed", { link: body.link });
  } catch (err) {
    console.info("call-back failed:", err);
    result.textContent = t("agent.mail.error");
  }
}

async function handle(event) {
  event.preventDefault();
  const outcome = $("mail-outcome").value;
  if (!outcome) {
    setText("mail-handle-error", t("agent.mail.choose_outcome"));
    $("mail-outcome").focus();
    return;
  }
  const id = open.id;
  let response = null;
  try {
    response = await fetch(`/api/staff/video-mail/${id}/handled`, {
      method: "POST",
      headers: csrfHeaders({ "Content-Type": "application/json", Accept: "application/json" }),
      body: JSON.stringify({ outcome }),
    });
  } catch (err) {
    console.info("marking handled failed:", err);
  }
  if (!response || (!response.ok && response.status !== 409)) {
    setText("mail-handle-error", t("agent.mail.error"));
    return;
  }
  close();
  messages = messages.filter((mail) => mail.id !== id);
  render();
  setText("announce-polite", t(response.ok ? "agent.mail.handled" : "agent.mail.already_handled"));
  $("inbox-title").focus();
  load();
}

dialog.addEventListener("close", () => { if (open) close(); });
$("mail-close").addEventListener("click", close);
$("mail-callback").addEventListener("click", callBack);
$("mail-handle").addEventListener("submit", handle);
onLocaleChange(render);
document.addEventListener("visibilitychange", () => { if (!document.hidden) load(); });
setInterval(() => { if (!document.hidden) load(); }, POLL_MS);
load();
