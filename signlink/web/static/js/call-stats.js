// Call quality for QA: every 10 s during a call, a summary of what this side *received*, sent to
// the server as a `stats` message (docs/protocol.md, "Call quality: the stats message"). The server
// keeps it with the session and flags calls below signing needs (under 20 fps, delay over 0.8 s).
//
/**
 * API
 *
 *   import { startCallStats } from "./call-stats.js";
 *   const stop = startCallStats(call, (message) => sig.send(message));   // a Call (call.js) ...
 *   const stop = startCallStats(() => agentCall.call, send);               // ... or a getter of the current one
 *   stop();                                                                 // no more samples
 *
 * Nothing is sent while there is no connected RTCPeerConnection or no incoming video yet. Each
 * figure covers the last interval (counters are differenced); a new peer (ICE restart with a fresh
 * RTCPeerConnection) starts its own differences.
 */

export const INTERVAL_MS = 10000;

const LIMITS = { rtt_ms: 60000, jitter_ms: 60000, jitter_buffer_ms: 60000, fps: 240 };

function finite(value) {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

function clamp(value, high) {
  const v = finite(value);
  return v === null ? null : Math.min(high, Math.max(0, v));
}

function round(value, digits) {
  if (value === null) return null;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

function delta(now, before, name) {
  const a = finite(now?.[name]);
  const b = finite(before?.[name]);
  if (a === null) return null;
  return b === null ? a : a - b;
}

/** The parts of an RTCStatsReport a sample needs: the incoming video and the selected pair. */
export function pick(report) {
  let inbound = null;
  let pairId = null;
  const pairs = new Map();
  report.forEach((s) => {
    if (s.type === "inbound-rtp" && (s.kind || s.mediaType) === "video") {
      if (!inbound || (s.bytesReceived || 0) > (inbound.bytesReceived || 0)) inbound = s;
    } else if (s.type === "transport" && s.selectedCandidatePairId) {
      pairId = s.selectedCandidatePairId;
    } else if (s.type === "candidate-pair") {
      pairs.set(s.id, s);
    }
  });
  const pair = pairs.get(pairId) || [...pairs.values()].find((p) => p.nominated && p.state === "succeeded");
  return { inbound, pair: pair || null, at: performance.now() };
}

/** One `stats` message from this interval's picks and the previous ones (null before any video). */
export function sample(now, before) {
  const inbound = now.inbound;
  if (!inbound) return null;
  const prev = before?.inbound || null;
  const seconds = before ? (now.at - before.at) / 1000 : null;
  let fps = finite(inbound.framesPerSecond);
  if (fps === null && seconds) fps = (delta(inbound, prev, "framesDecoded") ?? 0) / seconds;
  const lost = delta(inbound, prev, "packetsLost");
  const received = delta(inbound, prev, "packetsReceived");
  let loss = null;
  if (lost !== null && received !== null && lost + received > 0) loss = Math.max(0, lost) / (Math.max(0, lost) + received);
  const buffered = delta(inbound, prev, "jitterBufferDelay");
  const emitted = delta(inbound, prev, "jitterBufferEmittedCount");
  const rtt = finite(now.pair?.currentRoundTripTime);
  const freezes = delta(inbound, prev, "freezeCount");
  const size = (name) => {
    const v = finite(inbound[name]);
    return v === null ? null : Math.min(16384, Math.max(0, Math.round(v)));
  };
  return {
    type: "stats",
    rtt_ms: round(clamp(rtt === null ? null : rtt * 1000, LIMITS.rtt_ms), 1),
    packet_loss: round(clamp(loss, 1), 5),
    jitter_ms: round(clamp(finite(inbound.jitter) === null ? null : inbound.jitter * 1000, LIMITS.jitter_ms), 1),
    jitter_buffer_ms:
      buffered !== null && emitted ? round(clamp((buffered / emitted) * 1000, LIMITS.jitter_buffer_ms), 1) : null,
    fps: round(clamp(fps, LIMITS.fps), 1),
    width: size("frameWidth"),
    height: size("frameHeight"),
    freezes: freezes === null ? null : Math.min(100000, Math.max(0, Math.round(freezes))),
  };
}

/** Send a sample every `intervalMs` while `source` (a Call, or a function returning the current one)
 * has a connected peer. Returns the function that stops it. */
export function startCallStats(source, send, { intervalMs = INTERVAL_MS } = {}) {
  let last = null;
  let lastPc = null;
  let busy = false;
  const current = () => (typeof source === "function" ? source() : source);

  const tick = async () => {
    const call = current();
    const pc = call && !call.closed ? call.pc : null;
    if (!pc || pc.connectionState !== "connected" || busy) return;
    busy = true;
    try {
      const now = pick(await pc.getStats());
      const before = pc === lastPc ? last : null;
      lastPc = pc;
      last = now;
      const message = sample(now, before);
      if (message) send(message);
    } catch (err) {
      console.info("call stats: no sample this time:", err);
    } finally {
      busy = false;
    }
  };

  const timer = setInterval(tick, intervalMs);
  return () => clearInterval(timer);
}
