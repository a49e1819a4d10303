// The video-message page: camera on (self-view), record with a visible countdown that stops by itself
// at the limit, review, send (mail-upload.js), then a confirmation that stays on the page. No sound is
// recorded. Screen readers hear the start, 30 and 10 seconds left, and the stop (#rec-status), not
// every second; the countdown itself is a timer that is not read aloud on its own.

import { onLocaleChange, t } from "./i18n.js";
import { Refused, Unreachable, sendVideo } from "./mail-upload.js";

const root = document.getElementById("mail");
const form = document.getElementById("mail-form");
const maxS = Number(root.dataset.maxS);
const $ = (id) => document.getElementById(id);
const preview = $("preview");
const review = $("review");
const TYPES = ["video/webm;codecs=vp8", "video/webm;codecs=vp9", "video/webm", "video/mp4"];
const ANNOUNCE_AT = [30, 10];

let stream = null;
let recorder = null;
let recording = null; // {blob, duration_s}
let upload = {}; // mail-upload.js's memory of this recording's upload
let startedAt = 0;
let ticker = null;
let announced = new Set();
let status = { key: "", values: {} }; // re-rendered on a language switch
let error = null;
let sent = null;

function clock(seconds) {
  const s = Math.max(0, Math.ceil(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

function show(ids) {
  for (const id of ["camera-on", "record", "stop", "send", "again"]) $(id).hidden = !ids.includes(id);
}

function say(key, values = {}) {
  status = { key, values };
  $("rec-status").textContent = key ? t(key, values) : "";
}

function fail(key, values = {}) {
  error = key ? { key, values } : null;
  $("mail-error").hidden = !key;
  $("mail-error-text").textContent = key ? t(key, values) : "";
}

function renderTexts() {
  $("mail-intro").textContent = t("mail.intro", { seconds: maxS });
  say(status.key, status.values);
  if (error) fail(error.key, error.values);
  if (sent) renderSent();
}

function setLeft(seconds) {
  $("countdown").textContent = clock(seconds);
  $("time-bar").value = maxS - seconds;
}

async function cameraOn() {
  fail("");
  if (!navigator.mediaDevices || !window.MediaRecorder) return fail("mail.error_unsupported");
  try {
    stream = await navigator.mediaDevices.getUserMedia({
      video: { width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 30 } },
      audio: false,
    });
  } catch (err) {
    console.info("camera refused:", err);
    return fail(err && err.name === "NotAllowedError" ? "mail.error_camera_denied" : "mail.error_no_camera");
  }
  for (const track of stream.getVideoTracks()) track.contentHint = "motion";
  preview.srcObject = stream;
  say("mail.status_camera");
  show(["record"]);
  $("record").focus();
}

function tick() {
  const left = maxS - (performance.now() - startedAt) / 1000;
  setLeft(left);
  for (const mark of ANNOUNCE_AT) {
    if (left <= mark && mark < maxS && !announced.has(mark)) {
      announced.add(mark);
      say("mail.status_left", { seconds: mark });
    }
  }
  if (left <= 0) stop(true);
}

function record() {
  fail("");
  const mimeType = TYPES.find((type) => MediaRecorder.isTypeSupported(type));
  if (!mimeType) return fail("mail.error_unsupported");
  const parts = [];
  recorder = new MediaRecorder(stream, { mimeType, videoBitsPerSecond: 1_000_000 });
  recorder.addEventListener("dataavailable", (event) => {
    if (event.data.size) parts.push(event.data);
  });
  recorder.addEventListener("stop", () => {
    const blob = new Blob(parts, { type: recorder.mimeType.split(";")[0] || mimeType.split(";")[0] });
    recording = { blob, duration_s: Math.min(maxS, (performance.now() - startedAt) / 1000) };
    upload = {};
    review.src = URL.createObjectURL(blob);
    review.hidden = false;
    preview.hidden = true;
    show(["send", "again"]);
    $("send").focus();
  }, { once: true });
  recorder.start(1000);
  startedAt = performance.now();
  announced = new Set();
  setLeft(maxS);
  ticker = setInterval(tick, 250);
  $("rec-badge").hidden = false;
  say("mail.status_recording", { seconds: maxS });
  show(["stop"]);
  $("stop").focus();
}

function stop(atLimit = false) {
  if (!recorder || recorder.state === "inactive") return;
  clearInterval(ticker);
  recorder.stop();
  $("rec-badge").hidden = true;
  const took = Math.min(maxS, (performance.now() - startedAt) / 1000);
  if (atLimit) setLeft(0);
  say(atLimit ? "mail.status_limit" : "mail.status_review", { duration: clock(took) });
}

function again() {
  if (review.src) URL.revokeObjectURL(review.src);
  review.removeAttribute("src");
  review.hidden = true;
  preview.hidden = false;
  recording = null;
  setLeft(maxS);
  fail("");
  record();
}

function details() {
  const value = (name) => form.elements[name].value.trim();
  return {
    language: value("language"),
    topic: value("topic"),
    device_model: value("device_model"),
    device_serial: value("device_serial"),
    email: value("email"),
    locale: document.documentElement.lang,
    reason: root.dataset.reason,
    duration_s: Math.round(recording.duration_s * 10) / 10,
  };
}

const REFUSALS = {
  too_large: "mail.error_too_large",
  too_long: "mail.error_too_long",
  wrong_type: "mail.error_wrong_type",
  bad_field: "mail.error_bad_field",
};

async function send(event) {
  event.preventDefault();
  if (!recording) return;
  const language = form.elements.language;
  const topic = form.elements.topic;
  if (!language.value || !topic.value) {
    fail("mail.error_choose");
    (language.value ? topic : language).focus();
    return;
  }
  if (form.elements.email.value && !form.elements.email.checkValidity()) {
    fail("mail.error_bad_field");
    form.elements.email.focus();
    return;
  }
  fail("");
  show([]);
  $("upload").hidden = false;
  say("mail.status_sending", { percent: 0 });
  try {
    const done = await sendVideo(recording.blob, details(), upload, {
      onProgress: (share) => {
        $("upload-bar").value = Math.round(share * 100);
        say("mail.status_sending", { percent: Math.round(share * 100) });
      },
      onRetry: () => say("mail.status_retrying"),
    });
    finish(done.id);
  } catch (err) {
    $("upload").hidden = true;
    say("");
    if (err instanceof Refused) {
      fail(REFUSALS[err.code] || "mail.error_server", { status: err.status, seconds: maxS });
      show(err.code === "bad_field" ? ["send", "again"] : ["again"]);
    } else {
      if (!(err instanceof Unreachable)) console.error("video mail:", err);
      fail("mail.error_network");
      show(["send", "again"]);
      $("send").focus();
    }
  }
}

function renderSent() {
  $("sent-ref").textContent = sent.id;
  $("sent-next").textContent = sent.email ? t("mail.sent_email", { email: sent.email }) : t("mail.sent_no_email");
}

function finish(id) {
  sent = { id, email: form.elements.email.value.trim() };
  if (stream) for (const track of stream.getTracks()) track.stop();
  form.hidden = true;
  renderSent();
  $("sent").hidden = false;
  $("sent-heading").focus();
}

$("camera-on").addEventListener("click", cameraOn);
$("record").addEventListener("click", record);
$("stop").addEventListener("click", () => stop(false));
$("again").addEventListener("click", again);
form.addEventListener("submit", send);
onLocaleChange(renderTexts);
setLeft(maxS);
renderTexts();
