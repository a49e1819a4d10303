// The live quality hint under the signer's video, on both sides: plain words about this side's own
// video (what it sends) and the other side's (what arrives), from the browser's WebRTC stats.
// Visual only (no live region: it would talk over the signing); it changes at most every 2 s and
// only after the same reading twice in a row, so it never flickers (WCAG 2.3.1).
//
/**
 * API
 *
 *   import { startQualityHint, judge } from "./call-quality.js";
 *   const stop = startQualityHint(() => call, { peer: "agent" });   // peer: "agent" | "customer"
 *   judge(now, before) -> { key, level }                            // pure: two readings -> the hint
 *
 * Thresholds follow ../shared/USER-NEEDS.md: signing breaks down below ~12 fps; over 0.8 s of delay
 * hinders a signed conversation.
 */

import { t } from "./i18n.js";

export const INTERVAL_MS = 2000;
const FREEZING_FPS = 12; // below this signing breaks down
const SLOW_RTT_S = 0.8;
const WEAK_LOSS = 0.03;

/** The figures one reading needs: this side's outgoing video and the incoming one. */
export function read(report) {
  const out = { sent: null, remoteIn: null, inbound: null, pair: null, at: performance.now() };
  let pairId = null;
  const pairs = new Map();
  report.forEach((s) => {
    const kind = s.kind || s.mediaType;
    if (s.type === "outbound-rtp" && kind === "video") out.sent = s;
    else if (s.type === "remote-inbound-rtp" && kind === "video") out.remoteIn = s;
    else if (s.type === "inbound-rtp" && kind === "video") out.inbound = s;
    else if (s.type === "transport" && s.selectedCandidatePairId) pairId = s.selectedCandidatePairId;
    else if (s.type === "candidate-pair") pairs.set(s.id, s);
  });
  out.pair = pairs.get(pairId) || [...pairs.values()].find((p) => p.nominated && p.state === "succeeded") || null;
  return out;
}

function rate(now, before, stat, name) {
  if (!now[stat] || !before?.[stat]) return null;
  const seconds = (now.at - before.at) / 1000;
  const a = now[stat][name];
  const b = before[stat][name];
  if (typeof a !== "number" || typeof b !== "number" || seconds <= 0) return null;
  return (a - b) / seconds;
}

/** Two readings (2 s apart) -> the hint to show: { key, level: "good" | "poor" | "unknown" }. */
export function judge(now, before, peer) {
  if (!before || (!now.sent && !now.inbound)) return { key: "quality.measuring", level: "unknown" };
  const rtt = now.pair?.currentRoundTripTime ?? now.remoteIn?.roundTripTime ?? null;
  // Mine: the frames I manage to send, and why the browser holds them back.
  if (now.sent) {
    const fps = now.sent.framesPerSecond ?? rate(now, before, "sent", "framesEncoded");
    const limited = now.sent.qualityLimitationReason;
    const lost = now.remoteIn?.fractionLost ?? 0;
    if (fps !== null && fps < FREEZING_FPS) {
      const network = limited === "bandwidth" || lost > WEAK_LOSS;
      return { key: network ? "quality.mine_freezing" : "quality.mine_camera", level: "poor" };
    }
    // Held back by the network to under signing needs (20 fps, 320x240), or losing packets.
    const small = (now.sent.frameHeight ?? 480) < 240 || (fps !== null && fps < 20);
    if ((limited === "bandwidth" && small) || lost > WEAK_LOSS) return { key: "quality.mine_weak", level: "poor" };
  }
  // Theirs: what arrives here.
  if (now.inbound) {
    const fps = now.inbound.framesPerSecond ?? rate(now, before, "inbound", "framesDecoded");
    const freezes = rate(now, before, "inbound", "freezeCount");
    const lostRate = rate(now, before, "inbound", "packetsLost") ?? 0;
    const gotRate = rate(now, before, "inbound", "packetsReceived") ?? 0;
    const loss = lostRate + gotRate > 0 ? Math.max(0, lostRate) / (Math.max(0, lostRate) + gotRate) : 0;
    if ((fps !== null && fps < FREEZING_FPS) || (freezes ?? 0) > 0) {
      return { key: `quality.peer_freezing.${peer}`, level: "poor" };
    }
    if (loss > WEAK_LOSS) return { key: `quality.peer_weak.${peer}`, level: "poor" };
  }
  if (rtt !== null && rtt > SLOW_RTT_S) return { key: `quality.peer_weak.${peer}`, level: "poor" };
  return { key: "quality.good", level: "good" };
}

/** Read the stats every 2 s and show the hint in #quality. Returns the function that stops it. */
export function startQualityHint(source, { peer, intervalMs = INTERVAL_MS }) {
  const el = document.getElementById("quality");
  const text = document.getElementById("quality-text");
  let before = null;
  let beforePc = null;
  let candidate = null; // a new reading is shown only when seen twice in a row
  let shown = null;
  let busy = false;

  const show = (hint) => {
    shown = hint;
    el.dataset.level = hint.level;
    el.dataset.key = hint.key;
    text.textContent = t(hint.key);
  };
  show({ key: "quality.measuring", level: "unknown" });

  const tick = async () => {
    const call = typeof source === "function" ? source() : source;
    const pc = call && !call.closed ? call.pc : null;
    if (!pc || pc.connectionState !== "connected" || busy) return;
    busy = true;
    try {
      const now = read(await pc.getStats());
      const hint = judge(now, pc === beforePc ? before : null, peer);
      before = now;
      beforePc = pc;
      if (hint.key === shown.key) candidate = null;
      else if (candidate && candidate.key === hint.key) show(hint);
      else candidate = hint;
    } catch (err) {
      console.info("quality hint: no reading this time:", err);
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(tick, intervalMs);
  const relabel = () => show(shown);
  return { stop: () => clearInterval(timer), relabel };
}
