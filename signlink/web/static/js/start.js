// The start page: choose a sign language and a topic (remembered for the next visit), see at once
// which sign languages have an agent online, then go to the camera check, which leads to /wait.

import { applyTranslations, onLocaleChange, t } from "./i18n.js";
import { DEVICE_MAX, forgetTicket, prefs, savePrefs, ticket } from "./journey.js";

const SERVICE_REFRESH_MS = 20_000;

const root = document.getElementById("start");
const form = document.getElementById("start-form");
const languages = JSON.parse(root.dataset.languages || "[]");
const model = {
  // sign language -> Set of topics with an agent online now (null: any topic); null while unknown,
  // and then nobody is stopped
  served: null,
};

function label(prefix, code) {
  const key = `${prefix}.${code}`;
  const text = t(key);
  return text === key ? code : text;
}

function chosen(name) {
  const input = form.querySelector(`input[name="${name}"]:checked`);
  return input ? input.value : "";
}

function choose(name, value) {
  const input = [...form.querySelectorAll(`input[name="${name}"]`)].find((el) => el.value === value);
  if (input) input.checked = true;
  return input;
}

// ---- which sign languages (and topics in them) are served now ----

/** What keeps the choice from a queue now: {kind: "language"|"topic", language, topic, choices} or null. */
function unserved() {
  const language = chosen("language");
  if (model.served === null || !language) return null;
  if (!model.served.has(language)) {
    return { kind: "language", language, choices: languages.filter((code) => model.served.has(code)) };
  }
  const topics = model.served.get(language); // null: the server did not say, so any topic
  const topic = chosen("topic");
  if (!topic || !topics || topics.has(topic)) return null;
  const order = [...form.querySelectorAll('input[name="topic"]')].map((el) => el.value);
  return { kind: "topic", language, topic, choices: order.filter((code) => topics.has(code)) };
}

function renderService() {
  for (const card of form.querySelectorAll(".choice-language")) {
    const code = card.dataset.value;
    const status = model.served === null ? "unknown" : model.served.has(code) ? "served" : "not_served";
    card.dataset.status = status;
    card.querySelector(".served").textContent = status === "unknown" ? "" : t(`start.${status}`);
  }
  renderNotServed();
}

function renderNotServed() {
  const problem = unserved();
  document.getElementById("not-served-body").hidden = !problem;
  if (!problem) return;
  const names = { language: label("sl", problem.language), topic: label("topic", problem.topic || "") };
  const title = problem.kind === "language" ? "start.not_served_now" : "start.topic_not_served_now";
  document.getElementById("not-served-text").textContent = t(title, names);
  const list = problem.kind === "language" ? "start.served_list" : "start.served_topics";
  const listText = problem.choices.length ? t(list) : t("start.none_served");
  document.getElementById("served-list-text").textContent = listText;
  const buttons = problem.choices.map((code) => {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "btn btn-secondary";
    button.dataset[problem.kind] = code;
    button.textContent = label(problem.kind === "language" ? "sl" : "topic", code);
    return button;
  });
  document.getElementById("served-choices").replaceChildren(...buttons);
}

async function loadService() {
  try {
    const response = await fetch("/api/service", { headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error(`status ${response.status}`);
    const body = await response.json();
    model.served = new Map(
      (body.languages || [])
        .filter((l) => l.served_now)
        .map((l) => [l.code, Array.isArray(l.topics) ? new Set(l.topics) : null]),
    );
  } catch (err) {
    console.info("cannot tell which sign languages are served now:", err);
    model.served = null;
  }
  renderService();
}

// ---- the form ----

function showError(name, show) {
  document.getElementById(`${name}-error`).hidden = !show;
  document.getElementById(`${name}-group`).classList.toggle("has-error", show);
}

function remember() {
  savePrefs({
    language: chosen("language"),
    topic: chosen("topic"),
    device_model: form.device_model.value.trim().slice(0, DEVICE_MAX),
    device_serial: form.device_serial.value.trim().slice(0, DEVICE_MAX),
  });
}

function submit(event) {
  event.preventDefault();
  const language = chosen("language");
  const topic = chosen("topic");
  showError("language", !language);
  showError("topic", !topic);
  remember();
  if (!language || !topic) {
    form.querySelector(`input[name="${language ? "topic" : "language"}"]`).focus();
    return;
  }
  if (unserved()) {
    renderNotServed();
    const first = document.querySelector("#served-choices button");
    (first || form.querySelector('input[name="language"]:checked')).focus();
    return;
  }
  const wait = `/wait?${new URLSearchParams({ language, topic })}`;
  window.location.assign(`/check?${new URLSearchParams({ next: wait })}`);
}

function restore() {
  const saved = prefs();
  const preselect = root.dataset.preselectLanguage;
  choose("language", preselect || saved.language);
  choose("topic", saved.topic);
  form.device_model.value = saved.device_model;
  form.device_serial.value = saved.device_serial;
  if (preselect) remember();
}

function showResume() {
  const current = ticket();
  if (current && current.phase === "ended") {
    forgetTicket(); // the call is over and they came back here: the rating was skipped
    return;
  }
  document.getElementById("resume").hidden = !current;
}

form.addEventListener("submit", submit);
form.addEventListener("change", (event) => {
  if (event.target.name === "language" || event.target.name === "topic") {
    showError(event.target.name, false);
    renderNotServed();
  }
  remember();
});
form.addEventListener("input", remember);
document.getElementById("served-choices").addEventListener("click", (event) => {
  const button = event.target.closest("button[data-language], button[data-topic]");
  if (!button) return;
  const name = button.dataset.language ? "language" : "topic";
  const input = choose(name, button.dataset[name]);
  remember();
  renderNotServed();
  input.focus();
});
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") loadService();
});
onLocaleChange(renderService);

applyTranslations(root);
restore();
showResume();
renderService();
loadService();
setInterval(loadService, SERVICE_REFRESH_MS);
