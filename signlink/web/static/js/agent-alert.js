// How the console tells an agent that a customer is offered. Never by sound alone:
// - always: the offer banner and the tab title (an agent in another tab sees the title);
// - "flash" (on by default): banner and title alternate once a second (WCAG 2.3.1: at most 3 flashes
//   a second), never with prefers-reduced-motion;
// - "sound" (off by default): a short two-tone chime made with WebAudio, repeated every few seconds;
// - "notify" (off by default): a desktop notification when the console is not in front, which
//   reaches an agent in another tab or window.
// Settings persist in localStorage.

const STORE = "signlink.agent.alerts";
const FLASH_MS = 1000; // one on/off cycle a second
const CHIME_EVERY_MS = 4000;
const reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)");

export function loadSettings() {
  const defaults = { flash: true, sound: false, notify: false };
  try {
    return { ...defaults, ...JSON.parse(localStorage.getItem(STORE) || "{}") };
  } catch {
    return defaults;
  }
}

export function saveSettings(settings) {
  try {
    localStorage.setItem(STORE, JSON.stringify(settings));
  } catch {
    // private mode: the settings last for this page only
  }
}

/** A short chime: two sine tones with soft edges. The AudioContext is made on a user gesture. */
export class Chime {
  constructor() {
    this.ctx = null;
  }

  /** Call from a click or key handler: browsers only start audio after a gesture. */
  unlock() {
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return false;
    if (!this.ctx) this.ctx = new Ctx();
    if (this.ctx.state === "suspended") this.ctx.resume().catch(() => {});
    return true;
  }

  play() {
    if (!this.ctx || this.ctx.state !== "running") return false;
    const start = this.ctx.currentTime + 0.02;
    [880, 660].forEach((freq, i) => {
      const at = start + i * 0.22;
      const osc = this.ctx.createOscillator();
      const gain = this.ctx.createGain();
      osc.type = "sine";
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, at);
      gain.gain.exponentialRampToValueAtTime(0.25, at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.2);
      osc.connect(gain).connect(this.ctx.destination);
      osc.start(at);
      osc.stop(at + 0.21);
    });
    return true;
  }
}

export class OfferAlert {
  /** `banner`: the element that flashes; `settings()`: the current alert settings. */
  constructor({ banner, settings, chime, baseTitle }) {
    this.banner = banner;
    this.settings = settings;
    this.chime = chime;
    this.baseTitle = baseTitle;
    this.timers = [];
    this.notification = null;
    this.active = false;
  }

  start({ title, body, tag }) {
    this.stop();
    this.active = true;
    const alertTitle = `● ${title} · ${this.baseTitle}`;
    document.title = alertTitle;
    const { flash, sound, notify } = this.settings();
    if (flash && !reducedMotion.matches) {
      let on = false;
      this.timers.push(
        window.setInterval(() => {
          on = !on;
          this.banner.classList.toggle("flash-on", on);
          document.title = on ? `○ ${title} · ${this.baseTitle}` : alertTitle;
        }, FLASH_MS / 2),
      );
    }
    if (sound && this.chime.play()) {
      this.timers.push(window.setInterval(() => this.chime.play(), CHIME_EVERY_MS));
    }
    // A notification is for an agent looking elsewhere; the page itself already shows the offer.
    const elsewhere = document.visibilityState !== "visible" || !document.hasFocus();
    if (notify && elsewhere && "Notification" in window && Notification.permission === "granted") {
      try {
        this.notification = new Notification(title, { body, tag, requireInteraction: true });
        this.notification.onclick = () => {
          window.focus();
          this.notification && this.notification.close();
        };
      } catch {
        this.notification = null; // some browsers allow notifications only from a service worker
      }
    }
  }

  stop() {
    for (const id of this.timers) window.clearInterval(id);
    this.timers = [];
    this.banner.classList.remove("flash-on");
    if (this.notification) this.notification.close();
    this.notification = null;
    if (this.active) document.title = this.baseTitle;
    this.active = false;
  }
}
