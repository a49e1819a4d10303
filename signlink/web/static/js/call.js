// The video call of one session, for either side: one RTCPeerConnection, signalled through a
// SignalClient (signal.js). Video only: signing needs no audio.
//
/**
 * API
 *
 *   import { Call, openCamera } from "./call.js";
 *   const stream = await openCamera();          // 640x480@30 ideal, video only, contentHint "motion"
 *   const call = new Call({
 *     signal: sig,                              // a SignalClient: Call listens to its `signal` and `peer`
 *     role: session.role,                       // "offerer" (the agent) | "answerer" (the customer)
 *     iceServers: session.ice_servers,          // from the `session` message ([] in tests)
 *     stream,                                   // may be null: then this side only receives
 *     remoteVideo: document.querySelector("video#remote"),  // gets the other side's stream
 *   });
 *   call.on("state", ({ state }) => ...);       // "connecting" | "connected" | "reconnecting" | "closed"
 *   call.on("remote", ({ stream }) => ...);     // a (new) remote stream is on remoteVideo
 *   call.start();                               // offerer: new peer + offer; answerer: waits for it
 *   call.hasLivePeer()                          // for hello's `pc` field after a socket-only drop
 *   await call.stats()                          // summary, see `summarise` below
 *   call.close()                                // stops listening, closes the peer (not the camera)
 *
 * Recovery (docs/protocol.md): on `peer` "rejoined" the offerer builds a fresh peer and offers if
 * the other side reloaded (pc "new"), else restarts ICE (pc "live"). The offerer also restarts ICE
 * when ICE fails, and after its own socket comes back while ICE is down. The answerer never offers:
 * it answers whatever comes, and starts a fresh peer when the offer comes from a fresh peer (a new
 * DTLS fingerprint) or cannot be applied to the old one.
 */

import { preferFrameRate } from "./whip.js";

export const CAMERA = {
  video: { width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 30 } },
  audio: false,
};
const DISCONNECTED_GRACE_MS = 4000; // ICE "disconnected" often recovers by itself; restart after this

/** The camera, tuned for signing. Throws getUserMedia's error (NotAllowedError, NotFoundError, …). */
export async function openCamera(constraints = CAMERA) {
  const stream = await navigator.mediaDevices.getUserMedia(constraints);
  for (const track of stream.getVideoTracks()) {
    try {
      track.contentHint = "motion"; // keep the frame rate, drop resolution first (EN 301 549 §6.5)
    } catch (err) {
      console.info("contentHint not supported here:", err);
    }
  }
  return stream;
}

export function stopStream(stream) {
  if (stream) for (const track of stream.getTracks()) track.stop();
}

function fingerprint(sdp) {
  const match = /^a=fingerprint:(.+)$/m.exec(sdp || "");
  return match ? match[1].trim() : "";
}

export class Call {
  constructor({ signal, role, iceServers = [], stream = null, remoteVideo = null }) {
    if (role !== "offerer" && role !== "answerer") throw new Error(`unknown role ${role}`);
    this.sig = signal;
    this.role = role;
    this.iceServers = iceServers;
    this.stream = stream;
    this.remoteVideo = remoteVideo;
    this.pc = null;
    this.state = "new";
    this.pendingCandidates = [];
    this.listeners = new Map();
    this.closed = false;
    this.disconnectTimer = null;
    this.chain = Promise.resolve(); // signalling steps run one at a time, in arrival order
    this.offs = [
      signal.on("signal", (msg) => this.queue(() => this.onSignal(msg.data || {}))),
      signal.on("peer", (msg) => this.onPeer(msg)),
      signal.on("connection", ({ state }) => {
        if (state === "open") this.onSocketBack();
      }),
    ];
  }

  on(type, fn) {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type).add(fn);
    return () => this.listeners.get(type)?.delete(fn);
  }

  emit(type, detail) {
    for (const fn of [...(this.listeners.get(type) || [])]) fn(detail);
  }

  setState(state) {
    if (state === this.state) return;
    this.state = state;
    this.emit("state", { state });
  }

  queue(step) {
    this.chain = this.chain.then(step).catch((err) => console.warn("call: signalling step failed:", err));
    return this.chain;
  }

  start() {
    this.setState("connecting");
    if (this.role === "offerer") return this.queue(() => this.offer({ fresh: true }));
    return this.chain;
  }

  hasLivePeer() {
    return Boolean(this.pc) && !["closed", "failed"].includes(this.pc.connectionState);
  }

  /** Swap the camera (e.g. it came back after a failure); the peer keeps going. */
  async setStream(stream) {
    this.stream = stream;
    const track = stream ? stream.getVideoTracks()[0] : null;
    const sender = this.pc?.getSenders().find((s) => !s.track || s.track.kind === "video");
    if (sender) {
      await sender.replaceTrack(track);
      if (stream) sender.setStreams?.(stream);
      await this.tuneSenders();
    }
  }

  // ---- the peer connection ----

  newPeer() {
    this.dropPeer();
    const pc = new RTCPeerConnection({ iceServers: this.iceServers });
    this.pc = pc;
    this.pendingCandidates = [];
    pc.addEventListener("icecandidate", (event) => {
      if (pc !== this.pc) return;
      this.sig.signal({ candidate: event.candidate ? event.candidate.toJSON() : null });
    });
    pc.addEventListener("track", (event) => {
      if (pc !== this.pc || !this.remoteVideo) return;
      const stream = event.streams[0] || new MediaStream([event.track]);
      if (this.remoteVideo.srcObject !== stream) this.remoteVideo.srcObject = stream;
      this.emit("remote", { stream });
    });
    pc.addEventListener("connectionstatechange", () => {
      if (pc === this.pc) this.onPeerState(pc.connectionState);
    });
    return pc;
  }

  dropPeer() {
    clearTimeout(this.disconnectTimer);
    if (!this.pc) return;
    const pc = this.pc;
    this.pc = null;
    pc.close();
  }

  onPeerState(state) {
    clearTimeout(this.disconnectTimer);
    if (state === "connected") {
      this.setState("connected");
    } else if (state === "disconnected" || state === "failed") {
      this.setState("reconnecting");
      if (this.role !== "offerer") return;
      const delay = state === "failed" ? 0 : DISCONNECTED_GRACE_MS;
      this.disconnectTimer = setTimeout(() => {
        if (this.pc && this.pc.connectionState !== "connected") {
          this.queue(() => this.offer({ fresh: false }));
        }
      }, delay);
    } else if (state === "connecting" || state === "new") {
      if (this.state !== "reconnecting") this.setState("connecting");
    }
  }

  localTrack() {
    return this.stream ? this.stream.getVideoTracks()[0] || null : null;
  }

  // ---- the offerer ----

  async offer({ fresh }) {
    if (this.closed) return;
    if (fresh || !this.pc) {
      const pc = this.newPeer();
      const track = this.localTrack();
      if (track) pc.addTransceiver(track, { direction: "sendrecv", streams: [this.stream] });
      else pc.addTransceiver("video", { direction: "recvonly" });
    }
    const pc = this.pc;
    if (pc.signalingState === "have-local-offer") await pc.setLocalDescription({ type: "rollback" });
    await pc.setLocalDescription(await pc.createOffer({ iceRestart: !fresh }));
    this.sig.signal({ sdp: { type: pc.localDescription.type, sdp: pc.localDescription.sdp } });
  }

  async onAnswer(desc) {
    const pc = this.pc;
    if (!pc || pc.signalingState !== "have-local-offer") return; // an answer to an offer we replaced
    await pc.setRemoteDescription(desc);
    await this.flushCandidates();
    await this.tuneSenders();
  }

  // ---- the answerer ----

  async onOffer(desc) {
    if (this.closed) return;
    let pc = this.pc;
    const current = pc?.remoteDescription;
    const freshPeer = current && fingerprint(current.sdp) !== fingerprint(desc.sdp);
    if (!pc || pc.signalingState === "closed" || freshPeer) {
      pc = this.newPeer(); // the other side has a fresh peer (it reloaded, or lost its old one)
    }
    try {
      await pc.setRemoteDescription(desc);
    } catch (err) {
      console.info("call: offer does not fit the old peer; starting a fresh one:", err);
      pc = this.newPeer();
      await pc.setRemoteDescription(desc);
    }
    const transceiver = pc.getTransceivers().find((t) => t.receiver.track.kind === "video" && !t.stopped);
    if (transceiver && !transceiver.sender.track) {
      const track = this.localTrack();
      // sendrecv even before the camera is open: setStream() can then start sending with
      // replaceTrack alone (the answerer never offers, so it could not renegotiate later).
      transceiver.direction = "sendrecv";
      if (track) {
        await transceiver.sender.replaceTrack(track);
        transceiver.sender.setStreams?.(this.stream);
      }
    }
    await pc.setLocalDescription(await pc.createAnswer());
    this.sig.signal({ sdp: { type: pc.localDescription.type, sdp: pc.localDescription.sdp } });
    await this.flushCandidates();
    await this.tuneSenders();
  }

  // ---- both ----

  async onSignal(data) {
    if (this.closed) return;
    if (data.sdp && data.sdp.type === "offer" && this.role === "answerer") return this.onOffer(data.sdp);
    if (data.sdp && data.sdp.type === "answer" && this.role === "offerer") return this.onAnswer(data.sdp);
    if ("candidate" in data) return this.onCandidate(data.candidate);
    console.info("call: ignored a signal this side does not expect:", Object.keys(data));
  }

  async onCandidate(candidate) {
    if (!candidate) return; // end of candidates: nothing to do
    if (!this.pc || !this.pc.remoteDescription) {
      this.pendingCandidates.push(candidate);
      return;
    }
    await this.addCandidate(candidate);
  }

  async addCandidate(candidate) {
    try {
      await this.pc.addIceCandidate(candidate);
    } catch (err) {
      console.info("call: a candidate for an older peer or ICE round was dropped:", err);
    }
  }

  async flushCandidates() {
    const waiting = this.pendingCandidates;
    this.pendingCandidates = [];
    for (const candidate of waiting) await this.addCandidate(candidate);
  }

  async tuneSenders() {
    for (const sender of this.pc?.getSenders() || []) {
      if (sender.track && sender.track.kind === "video") await preferFrameRate(sender);
    }
  }

  onPeer(msg) {
    // Only the media path sets `state`: the other side's socket may drop while the video goes on.
    if (msg.state !== "rejoined" || this.role !== "offerer") return;
    this.queue(() => this.offer({ fresh: msg.pc !== "live" || !this.hasLivePeer() }));
  }

  onSocketBack() {
    // Our own socket came back (server restart, network blip): if the media path died meanwhile,
    // the offerer brings it back; the answerer's side is restarted by the offerer's new offer.
    if (this.role !== "offerer" || !this.pc || this.pc.connectionState === "connected") return;
    if (this.state === "new" || this.state === "connecting") return; // first offer still under way
    this.queue(() => this.offer({ fresh: !this.hasLivePeer() }));
  }

  close() {
    if (this.closed) return;
    this.closed = true;
    for (const off of this.offs) off();
    this.dropPeer();
    if (this.remoteVideo) this.remoteVideo.srcObject = null;
    this.setState("closed");
  }

  // ---- measuring ----

  /**
   * {rttMs, inbound: {framesDecoded, framesPerSecond, frameWidth, frameHeight, freezeCount,
   *  totalFreezesDuration, packetsLost, jitterMs}, outbound: {framesSent, framesPerSecond, frameWidth,
   *  frameHeight, qualityLimitationReason}}; null parts when there is no such stream yet.
   */
  async stats() {
    if (!this.pc) return null;
    return summarise(await this.pc.getStats());
  }
}

/** A short summary of an RTCStatsReport: what QA wants per call (round trip, frame rate, freezes). */
export function summarise(report) {
  let inbound = null;
  let outbound = null;
  let pairId = null;
  const pairs = new Map();
  report.forEach((s) => {
    if (s.type === "inbound-rtp" && s.kind === "video") inbound = s;
    else if (s.type === "outbound-rtp" && s.kind === "video") outbound = s;
    else if (s.type === "transport" && s.selectedCandidatePairId) pairId = s.selectedCandidatePairId;
    else if (s.type === "candidate-pair") pairs.set(s.id, s);
  });
  const pair = pairs.get(pairId) || [...pairs.values()].find((p) => p.nominated && p.state === "succeeded");
  const rtt = pair?.currentRoundTripTime;
  return {
    rttMs: typeof rtt === "number" ? Math.round(rtt * 1000) : null,
    inbound: inbound && {
      framesDecoded: inbound.framesDecoded ?? 0,
      framesPerSecond: inbound.framesPerSecond ?? null,
      frameWidth: inbound.frameWidth ?? null,
      frameHeight: inbound.frameHeight ?? null,
      freezeCount: inbound.freezeCount ?? 0,
      totalFreezesDuration: inbound.totalFreezesDuration ?? 0,
      packetsLost: inbound.packetsLost ?? 0,
      jitterMs: typeof inbound.jitter === "number" ? Math.round(inbound.jitter * 1000) : null,
    },
    outbound: outbound && {
      framesSent: outbound.framesSent ?? 0,
      framesPerSecond: outbound.framesPerSecond ?? null,
      frameWidth: outbound.frameWidth ?? null,
      frameHeight: outbound.frameHeight ?? null,
      qualityLimitationReason: outbound.qualityLimitationReason ?? null,
    },
  };
}
