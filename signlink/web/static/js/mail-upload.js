// Sends a recorded video message through the chunked API (docs/protocol.md, "Video mail"):
// announce -> PUT each chunk at its offset -> send. A lost connection or a 5xx is retried with a
// growing pause; a 409 says where the server is and the upload goes on from there, so a chunk whose
// answer was lost is never sent twice in the wrong place. Only a 200 from /send means "sent".

const RETRIES = 6; // pauses of 1, 2, 4, 8, 8, 8 s: about half a minute without a connection
const MAX_PAUSE_MS = 8000;

/** An answer the server gave on purpose (4xx): retrying will not help. */
export class Refused extends Error {
  constructor(status, code, message) {
    super(message || `status ${status}`);
    this.status = status;
    this.code = code || "";
  }
}

/** No answer after every retry: the recording is still here, the page can offer to try again. */
export class Unreachable extends Error {}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function refusal(response) {
  let body = {};
  try {
    body = await response.json();
  } catch {
    // not JSON: keep the status alone
  }
  return new Refused(response.status, body.error, body.message);
}

// One request, retried while the network or the server fails; 4xx answers come back to the caller.
async function attempt(makeRequest, onRetry) {
  for (let tries = 0; ; tries += 1) {
    let response = null;
    try {
      response = await makeRequest();
    } catch (err) {
      console.info("video mail: request failed:", err);
    }
    if (response && response.status < 500) return response;
    if (tries >= RETRIES) throw new Unreachable(response ? `status ${response.status}` : "no connection");
    onRetry();
    await sleep(Math.min(MAX_PAUSE_MS, 1000 * 2 ** tries));
  }
}

/**
 * Upload `blob` with `details` ({language, topic, duration_s, ...}). `state` (an object the caller
 * keeps) remembers the upload between calls, so a second call after Unreachable resumes it.
 * Returns the server's {id, state: "sent"}.
 */
export async function sendVideo(blob, details, state, { onProgress = () => {}, onRetry = () => {} } = {}) {
  const json = { "Content-Type": "application/json", Accept: "application/json" };
  if (!state.created) {
    const body = JSON.stringify({ ...details, mime: blob.type, size: blob.size });
    const response = await attempt(() => fetch("/api/video-mail", { method: "POST", headers: json, body }), onRetry);
    if (response.status !== 201) throw await refusal(response);
    state.created = await response.json();
    state.offset = 0;
  }
  const { upload_url: url, token, chunk_bytes: chunkBytes } = state.created;
  const auth = { Authorization: `Bearer ${token}` };
  if (state.resumed) {
    // After a failure we do not know which chunk arrived last: ask the server.
    const response = await attempt(() => fetch(url, { headers: auth }), onRetry);
    if (!response.ok) throw await refusal(response);
    state.offset = (await response.json()).received;
  }
  state.resumed = true;
  while (state.offset < blob.size) {
    const offset = state.offset;
    const chunk = blob.slice(offset, offset + chunkBytes);
    const response = await attempt(() => fetch(`${url}?offset=${offset}`, {
      method: "PUT",
      headers: { ...auth, "Content-Type": "application/octet-stream" },
      body: chunk,
    }), onRetry);
    if (response.status !== 200 && response.status !== 409) throw await refusal(response);
    state.offset = (await response.json()).received;
    onProgress(state.offset / blob.size);
  }
  const response = await attempt(() => fetch(`${url}/send`, { method: "POST", headers: auth }), onRetry);
  if (!response.ok) throw await refusal(response);
  return response.json();
}
