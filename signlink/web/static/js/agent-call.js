// The console's side of a call: the agent's camera (opened while an offer rings, so Accept does not
// wait for it), one `Call` (call.js) per session, and whether the customer's video is really moving
// (frames painted in the last moments), which the call bar says in words.
import { Call, openCamera, stopStream } from "./call.js";

const STALL_MS = 1500; // no new frame for this long: the video is "not moving"

export class AgentCall {
  constructor({ signal, localVideo, remoteVideo, onChange }) {
    this.sig = signal;
    this.localVideo = localVideo;
    this.remoteVideo = remoteVideo;
    this.onChange = onChange;
    this.stream = null;
    this.opening = null;
    this.cameraError = null;
    this.call = null;
    this.sessionId = null;
    this.peerConnected = true; // the customer's socket, from `peer` messages
    this.lastFrameAt = 0;
    this.flowing = false;
    this.watchFrames();
    window.setInterval(() => this.checkFlow(), 500);
  }

  /** Open the camera (once); resolves to the stream or null when there is none. */
  prepareCamera() {
    if (this.stream) return Promise.resolve(this.stream);
    if (!this.opening) {
      this.opening = openCamera()
        .then((stream) => {
          this.stream = stream;
          this.cameraError = null;
          this.localVideo.srcObject = stream;
          if (this.call) this.call.setStream(stream).catch(() => {});
          return stream;
        })
        .catch((err) => {
          this.cameraError = err.name || "Error";
          console.warn("agent: no camera:", err);
          return null;
        })
        .finally(() => {
          this.opening = null;
          this.onChange();
        });
    }
    return this.opening;
  }

  releaseCamera() {
    if (this.call) return; // never in a call
    stopStream(this.stream);
    this.stream = null;
    this.localVideo.srcObject = null;
  }

  /** Join the call of `sessionId` (again after a reload: the offerer makes a fresh peer). */
  async start({ sessionId, iceServers, role, peerConnected = true }) {
    if (this.call && this.sessionId === sessionId) return;
    this.stop();
    this.sessionId = sessionId;
    this.peerConnected = peerConnected;
    this.flowing = false;
    this.lastFrameAt = 0;
    const stream = await this.prepareCamera();
    if (this.sessionId !== sessionId) return; // ended while the camera opened
    this.call = new Call({
      signal: this.sig,
      role: role || "offerer",
      iceServers: iceServers || [],
      stream,
      remoteVideo: this.remoteVideo,
    });
    this.call.on("state", () => this.onChange());
    this.call.on("remote", () => this.watchFrames());
    this.call.start();
    this.onChange();
  }

  /** `peer` message: the customer's socket dropped or came back (call.js restarts the media). */
  peer(message) {
    if (message.state === "disconnected") this.peerConnected = false;
    if (message.state === "rejoined" || message.state === "connected") this.peerConnected = true;
    this.onChange();
  }

  live() {
    return Boolean(this.call && this.call.hasLivePeer());
  }

  /** "video_ok" | "video_wait" | "peer_away": what the call bar says. */
  videoState() {
    if (!this.peerConnected && !this.flowing) return "peer_away";
    return this.flowing ? "video_ok" : "video_wait";
  }

  stats() {
    return this.call ? this.call.stats() : Promise.resolve(null);
  }

  stop() {
    if (this.call) this.call.close();
    this.call = null;
    this.sessionId = null;
    this.flowing = false;
  }

  watchFrames() {
    const video = this.remoteVideo;
    if (!("requestVideoFrameCallback" in HTMLVideoElement.prototype)) {
      video.addEventListener("timeupdate", () => this.frame());
      return;
    }
    if (this.watching) return;
    this.watching = true;
    const next = () => {
      this.frame();
      video.requestVideoFrameCallback(next);
    };
    video.requestVideoFrameCallback(next);
  }

  frame() {
    this.lastFrameAt = performance.now();
    if (!this.flowing && this.call) {
      this.flowing = true;
      this.onChange();
    }
  }

  checkFlow() {
    const flowing = Boolean(this.call) && performance.now() - this.lastFrameAt < STALL_MS;
    if (flowing !== this.flowing) {
      this.flowing = flowing;
      this.onChange();
    }
  }
}
