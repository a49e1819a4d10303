// "The other side is writing": ephemeral on both sides, never stored (docs/protocol.md, `typing`).
// The writer sends `typing` true when they start, again at most every 3 s while they go on, and
// false after 4 s without a keystroke or when the message goes; the reader hides the line after
// 6 s without news (a lost "false" cannot leave it on).
//
/**
 * API
 *
 *   import { TypingSender, TypingLine } from "./typing.js";
 *   const sender = new TypingSender((active) => sig.typing(active));
 *   textarea.addEventListener("input", () => sender.input(textarea.value));
 *   sender.stop();                          // sent, or the call ended
 *   const line = new TypingLine(el, textEl); line.show(words) / line.hide()
 */

const REPEAT_MS = 3000;
const IDLE_MS = 4000;
const STALE_MS = 6000;

export class TypingSender {
  constructor(send) {
    this.send = send;
    this.active = false;
    this.lastSent = 0;
    this.idle = null;
  }

  input(value) {
    if (!value.trim()) {
      this.stop();
      return;
    }
    const now = Date.now();
    if (!this.active || now - this.lastSent > REPEAT_MS) {
      if (this.send(true)) {
        this.active = true;
        this.lastSent = now;
      }
    }
    clearTimeout(this.idle);
    this.idle = setTimeout(() => this.stop(), IDLE_MS);
  }

  stop() {
    clearTimeout(this.idle);
    if (this.active) this.send(false);
    this.active = false;
  }
}

export class TypingLine {
  /** box: the reserved line (keeps its height); words: the span inside it that shows or hides. */
  constructor(words) {
    this.words = words;
    this.timer = null;
  }

  show(text) {
    this.words.querySelector("span").textContent = text;
    this.words.hidden = false;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.hide(), STALE_MS);
  }

  hide() {
    clearTimeout(this.timer);
    this.words.hidden = true;
  }
}
