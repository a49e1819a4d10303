// Honest waiting: what is true about this wait (agents busy or away, we close soon, a range when the
// estimate is uncertain), read from GET /api/waiting with the ticket's token every few seconds.
// wait.js asks `honestEstimate()` before it words an estimate, so it never says "less than a
// minute" without the server's evidence.

import { onLocaleChange, t } from "./i18n.js";
import { ticket } from "./journey.js";

const POLL_MS = 10_000;
let facts = null;

function minutes(seconds) {
  return Math.max(1, Math.round(seconds / 60));
}

/** The estimate's words when the facts say more than the mean; null: let wait.js word it. */
export function honestEstimate() {
  if (!facts || facts.state !== "waiting") return null;
  if (facts.fact === "away" || facts.fact === "no_agents") return t("wait.estimate_none");
  const e = facts.estimate;
  if (!e || facts.fact === "free") return null;
  const low = minutes(e.low_s);
  const high = minutes(e.high_s);
  return low === high ? t("wait.minutes", { n: low }) : t("wait.estimate_range", { low, high });
}

function factText() {
  if (!facts || facts.state !== "waiting") return "";
  const lines = [];
  if (facts.fact === "busy") lines.push(t("wait.fact_busy"));
  if (facts.fact === "away") lines.push(t("wait.fact_away"));
  if (facts.closed) lines.push(t("wait.fact_closed"));
  else if (typeof facts.closes_in_s === "number") {
    lines.push(t("wait.fact_closing", { minutes: minutes(facts.closes_in_s) }));
  }
  return lines.join(" ");
}

function render() {
  const box = document.getElementById("wait-facts");
  if (!box) return;
  const text = factText();
  if (box.textContent !== text) box.textContent = text;
  box.hidden = !text;
  const estimate = document.getElementById("estimate");
  const words = honestEstimate();
  if (estimate && words && estimate.textContent !== words) estimate.textContent = words;
}

async function poll() {
  const current = ticket();
  if (!current || !current.token || current.phase !== "waiting") return;
  try {
    const response = await fetch("/api/waiting", {
      headers: { Accept: "application/json", Authorization: `Bearer ${current.token}` },
    });
    if (!response.ok) return;
    facts = await response.json();
  } catch (err) {
    console.info("cannot read the waiting facts:", err);
    return;
  }
  render();
}

onLocaleChange(render);
poll();
setInterval(poll, POLL_MS);
