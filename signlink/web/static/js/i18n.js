// Interface text on the client: reads the catalog the page embeds (#i18n, its own language, English
// filling gaps). Pages that list the catalogs' URLs (#i18n-urls) switch language without a reload (a
// running camera check goes on): the other catalog is a static, cached file fetched on first switch.
//
// Markup: data-i18n="key" sets textContent; data-i18n-attr="attr:key;attr2:key2" sets attributes.

const COOKIE = "signlink_lang";
const YEAR_S = 365 * 24 * 3600;

function readJson(id) {
  const el = document.getElementById(id);
  return el ? JSON.parse(el.textContent) : null;
}

const urls = readJson("i18n-urls");
let current = document.documentElement.lang || "en";
let strings = readJson("i18n") || {};
const all = urls ? { [current]: strings } : null;
const listeners = new Set();

export function locale() {
  return current;
}

/** The text for `key` in the current language; `{name}` placeholders filled from `values`. */
export function t(key, values = {}) {
  const text = strings[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

/** A counting text: `key.<form>` by the locale's CLDR plural rules ("1 customer", "2 customers"),
 * as the server's i18n.plural(); {count} is `values.count` when given (a formatted number), else n. */
export function tn(key, n, values = {}) {
  const form = new Intl.PluralRules(current).select(Math.abs(Number(n)));
  const chosen = `${key}.${form}` in strings ? `${key}.${form}` : `${key}.other`;
  return t(chosen, { count: n, ...values });
}

/** Pick the part of a server message `{"en": ..., "zh-CN": ...}` for the current language. */
export function pick(message) {
  if (!message) return "";
  if (typeof message === "string") return message;
  return message[current] ?? message.en ?? "";
}

export function applyTranslations(root = document) {
  for (const el of root.querySelectorAll("[data-i18n]")) {
    el.textContent = t(el.dataset.i18n);
  }
  for (const el of root.querySelectorAll("[data-i18n-attr]")) {
    for (const pair of el.dataset.i18nAttr.split(";")) {
      const [attr, key] = pair.split(":");
      if (attr && key) el.setAttribute(attr.trim(), t(key.trim()));
    }
  }
}

/** Call `fn(locale)` after every client-side language switch. */
export function onLocaleChange(fn) {
  listeners.add(fn);
}

/** Fetch `code`'s catalog once (the browser caches the file for a year per version). */
async function load(code) {
  if (all[code]) return all[code];
  const response = await fetch(urls[code], { credentials: "same-origin" });
  if (!response.ok) throw new Error(`catalog ${code}: HTTP ${response.status}`);
  all[code] = await response.json();
  return all[code];
}

/** Switch to `code` in place; resolves false when this page cannot (then follow the link). */
export async function setLocale(code) {
  if (!all || !urls[code]) return false;
  try {
    await load(code);
  } catch (err) {
    console.info("language switch by reload:", err);
    return false;
  }
  current = code;
  strings = all[code];
  document.documentElement.lang = code;
  document.cookie = `${COOKIE}=${encodeURIComponent(code)}; path=/; max-age=${YEAR_S}; samesite=lax`;
  const url = new URL(window.location.href);
  url.searchParams.set("lang", code);
  window.history.replaceState(window.history.state, "", url);
  applyTranslations();
  markLanguageLinks();
  for (const fn of listeners) fn(code);
  return true;
}

// Language links keep the page's other query parameters (such as `next`).
function markLanguageLinks() {
  for (const link of document.querySelectorAll("a[data-lang]")) {
    const url = new URL(window.location.href);
    url.searchParams.set("lang", link.dataset.lang);
    link.href = url.pathname + url.search;
    if (link.dataset.lang === current) link.setAttribute("aria-current", "true");
    else link.removeAttribute("aria-current");
  }
}

markLanguageLinks();
if (all) {
  document.addEventListener("click", (event) => {
    const link = event.target.closest && event.target.closest("a[data-lang]");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey) return;
    event.preventDefault();
    setLocale(link.dataset.lang).then((done) => {
      if (!done) window.location.assign(link.href);
    });
  });
}
