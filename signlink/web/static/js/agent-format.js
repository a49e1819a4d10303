// Words and numbers the console shows: durations, clock times, sign-language and topic names.
import { locale, t } from "./i18n.js";

/** "2 min 5 s" / "45 s": a duration in words (for facts and announcements). */
export function duration(seconds) {
  const total = Math.max(0, Math.round(seconds));
  const m = Math.floor(total / 60);
  const s = total % 60;
  if (m >= 60) return t("agent.dur.hm", { h: Math.floor(m / 60), m: m % 60 });
  return m > 0 ? t("agent.dur.ms", { m, s }) : t("agent.dur.s", { s });
}

/** "2:05": a compact duration for tables and timers. */
export function clock(seconds) {
  const total = Math.max(0, Math.floor(seconds));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

/** The local time of an epoch-ms instant, "14:02". */
export function timeOfDay(ms) {
  return new Date(ms).toLocaleTimeString(locale(), { hour: "2-digit", minute: "2-digit" });
}

/** "CSL · Chinese Sign Language" (the code alone for a language the catalog does not name). */
export function languageName(code) {
  const key = `agent.sl.${code}`;
  const name = t(key);
  return name === key ? code : `${code} · ${name}`;
}

export function topicName(code) {
  const key = `agent.topic.${code}`;
  const name = t(key);
  return name === key ? code : name;
}

export function priorityName(code) {
  const key = `agent.priority.${code}`;
  const name = t(key);
  return name === key ? code || "–" : name;
}

/** Set the text of the element with this id (missing elements are a template bug: fail loudly). */
export function setText(id, text) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing`);
  el.textContent = text;
  return el;
}
