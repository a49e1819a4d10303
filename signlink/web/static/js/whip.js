// Sends one camera track to the server the WHIP way (RFC 9725): POST the complete offer, get the
// answer and a Location; DELETE the Location to end. Non-trickle: ICE gathering finishes first.

const GATHER_TIMEOUT_MS = 5000;

/** The server is at its limit; try again after `retryAfterS` seconds. */
export class Busy extends Error {
  constructor(retryAfterS) {
    super(`busy, retry after ${retryAfterS} s`);
    this.retryAfterS = retryAfterS;
  }
}

/** The server refused the offer (4xx/5xx); `code` is its JSON error code. */
export class Refused extends Error {
  constructor(status, code, message) {
    super(`${status} ${code}: ${message}`);
    this.status = status;
    this.code = code;
  }
}

function gatheringComplete(pc, timeoutMs) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    // Post what we have after the timeout: host candidates are enough to reach the server.
    const timer = setTimeout(done, timeoutMs);
    function done() {
      clearTimeout(timer);
      pc.removeEventListener("icegatheringstatechange", check);
      resolve();
    }
    function check() {
      if (pc.iceGatheringState === "complete") done();
    }
    pc.addEventListener("icegatheringstatechange", check);
  });
}

function retryAfter(response) {
  const seconds = Number.parseInt(response.headers.get("Retry-After") || "", 10);
  return Number.isFinite(seconds) ? Math.min(Math.max(seconds, 1), 60) : 5;
}

/** Signing needs frame rate more than resolution (EN 301 549 §6.5): say so to the encoder. */
export async function preferFrameRate(sender) {
  try {
    const params = sender.getParameters();
    params.degradationPreference = "maintain-framerate";
    await sender.setParameters(params);
  } catch (err) {
    console.info("degradationPreference not supported here:", err);
  }
}

/**
 * Publish the video track of `stream` to `endpoint`.
 * Returns {pc, location}; throws Busy, Refused, or a network TypeError.
 */
export async function publish(stream, { endpoint, iceServers = [] }) {
  const track = stream.getVideoTracks()[0];
  try {
    track.contentHint = "motion";
  } catch (err) {
    console.info("contentHint not supported here:", err);
  }
  const pc = new RTCPeerConnection({ iceServers });
  try {
    const transceiver = pc.addTransceiver(track, { direction: "sendonly", streams: [stream] });
    await pc.setLocalDescription(await pc.createOffer());
    await gatheringComplete(pc, GATHER_TIMEOUT_MS);
    const response = await fetch(endpoint, {
      method: "POST",
      headers: { "Content-Type": "application/sdp" },
      body: pc.localDescription.sdp,
    });
    if (!response.ok) {
      let body = {};
      try {
        body = await response.json();
      } catch {
        // not JSON: the status says enough
      }
      // Full (503) or this client's limit (429): wait and retry. Any other 5xx has its own reason.
      const overloaded = (body.error || "overloaded") === "overloaded";
      const full = response.status === 429 || (response.status === 503 && overloaded);
      if (full) throw new Busy(retryAfter(response));
      throw new Refused(response.status, body.error || "error", body.message || response.statusText);
    }
    const location = new URL(response.headers.get("Location"), window.location.href).pathname;
    await pc.setRemoteDescription({ type: "answer", sdp: await response.text() });
    await preferFrameRate(transceiver.sender);
    return { pc, location };
  } catch (err) {
    pc.close();
    throw err;
  }
}

/** End a published session; `keepalive` lets it go out while the page unloads. */
export function unpublish(location) {
  return fetch(location, { method: "DELETE", keepalive: true }).catch((err) => {
    console.info("ending the check failed:", err);
  });
}
