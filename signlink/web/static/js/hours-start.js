// The start page's opening hours: as soon as a sign language (and topic) is chosen, say whether it is
// open, when it opens next in the customer's own time zone and language, and what they can do now
// (a video message, or come back). A closed line stops Continue before start.js sends them on.

import { locale, onLocaleChange, t } from "./i18n.js";

const form = document.getElementById("start-form");
const box = document.getElementById("hours-notice");
let hours = null; // the last /api/hours answer for the chosen line

function chosen(name) {
  const input = form.querySelector(`input[name="${name}"]:checked`);
  return input ? input.value : "";
}

function label(prefix, code) {
  const key = `${prefix}.${code}`;
  const text = t(key);
  return text === key ? code : text;
}

function when(iso) {
  const options = { weekday: "long", month: "long", day: "numeric", hour: "2-digit", minute: "2-digit",
    timeZoneName: "short" };
  return new Intl.DateTimeFormat(locale(), options).format(new Date(iso));
}

function paragraph(text, className) {
  const p = document.createElement("p");
  p.textContent = text;
  if (className) p.className = className;
  return p;
}

// What the customer chose and typed here goes along, so the message page does not ask it again (WCAG 3.3.7).
function mailHref() {
  const query = { language: chosen("language"), topic: chosen("topic"), reason: "closed" };
  for (const name of ["device_model", "device_serial"]) {
    const value = form.elements[name] && form.elements[name].value.trim();
    if (value) query[name] = value;
  }
  return `/mail?${new URLSearchParams(query)}`;
}

function render() {
  const language = chosen("language");
  if (!hours || !language || hours.language !== language) {
    box.replaceChildren();
    box.hidden = true;
    return;
  }
  const parts = [];
  if (!hours.open) {
    const title = document.createElement("strong");
    title.textContent = t("hours.closed_title", { language: label("sl", language) });
    parts.push(title);
    parts.push(paragraph(hours.next_opening ? t("hours.opens_next", { when: when(hours.next_opening.iso) })
      : t("hours.opens_unknown")));
    if (hours.reason) parts.push(paragraph(t("hours.closed_reason", { reason: hours.reason })));
    parts.push(paragraph(t("hours.can_now")));
    const list = document.createElement("ul");
    const mail = document.createElement("li");
    const link = document.createElement("a");
    link.href = mailHref();
    // Typed after the notice appeared: refreshed as the link is used (the notice is not re-rendered,
    // which would re-announce it).
    link.addEventListener("click", () => { link.href = mailHref(); });
    link.id = "hours-mail-link";
    link.textContent = t("hours.can_mail");
    mail.append(link);
    const back = document.createElement("li");
    back.textContent = t("hours.can_return");
    list.append(mail, back);
    parts.push(list);
    parts.push(paragraph(t("hours.emergency"), "hint"));
  } else if (typeof hours.closes_in_s === "number" && hours.closes_in_s <= 1800) {
    parts.push(paragraph(t("hours.closes_soon", { minutes: Math.max(1, Math.round(hours.closes_in_s / 60)) })));
  }
  box.replaceChildren(...parts);
  box.hidden = parts.length === 0;
  box.classList.toggle("notice-warn", !hours.open);
}

async function load() {
  const language = chosen("language");
  if (!language) return render();
  const query = new URLSearchParams({ language, topic: chosen("topic") });
  try {
    const response = await fetch(`/api/hours?${query}`, { headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error(`status ${response.status}`);
    hours = await response.json();
  } catch (err) {
    console.info("cannot read the opening hours:", err);
    hours = null; // unknown hours stop nobody: the join itself still checks
  }
  render();
}

// Capture phase on the form itself: runs before start.js's submit handler and stops it when closed.
form.addEventListener("submit", (event) => {
  if (hours && !hours.open && hours.language === chosen("language")) {
    event.preventDefault();
    event.stopImmediatePropagation();
    render();
    (document.getElementById("hours-mail-link") || box).focus();
  }
}, { capture: true });
form.addEventListener("change", (event) => {
  if (event.target.name === "language" || event.target.name === "topic") load();
});
onLocaleChange(render);
load();
setInterval(load, 60_000);
