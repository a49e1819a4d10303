// The rating after the call: a face (1..5) and an optional comment -> POST /api/ratings -> thank you.
// The ticket token from the call is the only key; the journey is over once the rating is sent or skipped.

import { applyTranslations, t } from "./i18n.js";
import { forgetTicket, ticket } from "./journey.js";

const $ = (id) => document.getElementById(id);
const root = $("rate");
const form = $("rate-form");
const current = ticket();

function show(state) {
  root.dataset.state = state;
  for (const el of root.querySelectorAll("[data-view]")) el.hidden = el.dataset.view !== state;
  const heading = { sent: "thanks-title", nothing: "nothing-title" }[state];
  if (heading) $(heading).focus();
}

function fail(key) {
  const error = $("send-error");
  error.textContent = t(key);
  error.hidden = false;
}

async function submit(event) {
  event.preventDefault();
  const choice = form.querySelector('input[name="score"]:checked');
  $("score-error").hidden = Boolean(choice);
  $("score-group").classList.toggle("has-error", !choice);
  if (!choice) {
    form.querySelector('input[name="score"]').focus();
    return;
  }
  const body = { token: current.token, score: Number(choice.value) };
  const comment = form.comment.value.trim();
  if (comment) body.comment = comment;
  $("rate-send").disabled = true;
  try {
    const response = await fetch("/api/ratings", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
    });
    // 409: this call was rated already (a second tab, a double press): thank them all the same.
    if (!response.ok && response.status !== 409) {
      console.warn("rating not stored:", response.status);
      if (response.status >= 500) {
        fail("rate.error");
        return;
      }
    }
  } catch (err) {
    console.warn("rating not sent:", err);
    fail("rate.error");
    return;
  } finally {
    $("rate-send").disabled = false;
  }
  forgetTicket();
  show("sent");
}

form.addEventListener("submit", submit);
form.addEventListener("change", () => {
  $("score-error").hidden = true;
  $("score-group").classList.remove("has-error");
});
$("rate-skip").addEventListener("click", forgetTicket);
applyTranslations(root);
if (!current) show("nothing");
