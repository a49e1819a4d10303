// What the customer's pages remember in this browser (localStorage), in one place.
//
// - `signlink.prefs`: sign language, topic, device model and serial (asked once, filled in next time).
// - `signlink.ticket`: the queue ticket's bearer token and what it is for; a reload or a dropped
//   connection resumes with it instead of joining again. Removed when the journey is over.

const PREFS = "signlink.prefs";
const TICKET = "signlink.ticket";
export const DEVICE_MAX = 100; // characters, for the model and for the serial

function read(key) {
  try {
    const value = JSON.parse(window.localStorage.getItem(key) || "null");
    return value && typeof value === "object" ? value : null;
  } catch (err) {
    console.info(`ignoring unreadable ${key}:`, err);
    return null;
  }
}

function write(key, value) {
  try {
    if (value === null) window.localStorage.removeItem(key);
    else window.localStorage.setItem(key, JSON.stringify(value));
  } catch (err) {
    console.info(`cannot store ${key} (private mode?):`, err); // the page still works, it just forgets
  }
}

/** {language, topic, device_model, device_serial}: every field a string, maybe empty. */
export function prefs() {
  const p = read(PREFS) || {};
  const text = (v) => (typeof v === "string" ? v.slice(0, DEVICE_MAX) : "");
  return {
    language: text(p.language),
    topic: text(p.topic),
    device_model: text(p.device_model),
    device_serial: text(p.device_serial),
  };
}

export function savePrefs(changes) {
  write(PREFS, { ...prefs(), ...changes });
}

/**
 * The current ticket {token, ticket_id, language, topic, phase, session_id?, agent_name?} or null.
 * phase: "waiting" | "in_call" | "ended" (the call is over, the rating not yet given).
 */
export function ticket() {
  const t = read(TICKET);
  return t && typeof t.token === "string" && t.token ? t : null;
}

export function saveTicket(value) {
  write(TICKET, value);
}

export function updateTicket(changes) {
  const current = ticket();
  if (current) write(TICKET, { ...current, ...changes });
}

export function forgetTicket() {
  write(TICKET, null);
}
