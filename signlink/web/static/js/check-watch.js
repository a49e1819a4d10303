// The waiting room keeps a low-rate video watch open (POST /api/checks?watch=<verdict id>), so a
// camera that freezes, a customer who moves out of frame or a light that changes is caught before
// the agent answers: the server stores the latest state and shows it with the offer.
//
// Cheap on purpose: a clone of the camera track, sent at WATCH_FPS, scaled down, capped bitrate;
// the server analyses one frame every couple of seconds. Nothing is shown to the customer.

import { publish, unpublish } from "./whip.js";

const WATCH_FPS = 3;
const SCALE_DOWN = 2; // 640x480 -> 320x240
const MAX_BITRATE = 200_000; // bit/s
const POLL_MS = 2000; // how often `active()` is asked
const RETRY_MS = 30_000; // after a refused or dropped watch
const MAX_TRIES = 5;
const VERDICT_ID = /^[A-Za-z0-9_-]{16,64}$/; // the no-verdict placeholder never matches

async function capSender(sender) {
  try {
    const params = sender.getParameters();
    params.encodings = (params.encodings && params.encodings.length ? params.encodings : [{}]).map((e) => ({
      ...e,
      maxFramerate: WATCH_FPS,
      scaleResolutionDownBy: SCALE_DOWN,
      maxBitrate: MAX_BITRATE,
    }));
    await sender.setParameters(params);
  } catch (err) {
    console.info("the watch could not cap its sender:", err);
  }
}

/**
 * Watch `stream` while `active()` says the customer is waiting. Returns {stop}; null without a verdict.
 */
export function watchWhileWaiting({ stream, verdictId, active, iceServers = [] }) {
  if (!stream || !verdictId || !VERDICT_ID.test(verdictId)) return null;
  let session = null; // {pc, location, track}
  let tries = 0;
  let stopped = false;
  let retryTimer = null;

  function end() {
    if (!session) return;
    const { pc, location, track } = session;
    session = null;
    pc.close();
    track.stop();
    unpublish(location);
  }

  async function start() {
    if (stopped || session || !active() || tries >= MAX_TRIES) return;
    tries += 1;
    const original = stream.getVideoTracks()[0];
    if (!original || original.readyState !== "live") return;
    const track = original.clone(); // the self view and the call keep their own track
    try {
      const endpoint = `/api/checks?watch=${encodeURIComponent(verdictId)}`;
      const { pc, location } = await publish(new MediaStream([track]), { endpoint, iceServers });
      session = { pc, location, track };
      await capSender(pc.getSenders()[0]);
      pc.addEventListener("connectionstatechange", () => {
        if (session?.pc === pc && ["failed", "closed"].includes(pc.connectionState)) {
          end();
          retryTimer = setTimeout(start, RETRY_MS);
        }
      });
    } catch (err) {
      track.stop();
      console.info("the waiting-room watch did not start:", err);
      retryTimer = setTimeout(start, RETRY_MS);
    }
  }

  const poll = setInterval(() => {
    if (!active()) stop();
  }, POLL_MS);

  function stop() {
    stopped = true;
    clearInterval(poll);
    clearTimeout(retryTimer);
    end();
  }

  window.addEventListener("pagehide", stop);
  start();
  return { stop };
}
