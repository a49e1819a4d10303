// The live queue overview from `queue_snapshot` messages: totals, one row per language/topic line
// with people waiting (the agent's own lines marked in words, not colour alone), agents per status.
// Waits tick on between snapshots so the figures never look frozen.
import { t } from "./i18n.js";
import { clock, setText, timeOfDay, topicName } from "./agent-format.js";

const STATUSES = ["available", "on_offer", "in_call", "wrap_up", "away"];

export class QueueView {
  constructor({ languages, topics }) {
    this.mine = { languages: new Set(languages), topics: new Set(topics) };
    this.snapshot = null;
    this.receivedAt = 0;
    this.body = document.getElementById("q-lines");
  }

  update(snapshot) {
    this.snapshot = snapshot;
    this.receivedAt = performance.now();
    this.render();
  }

  /**
   * What this console knows before the next snapshot (up to 2 s later): its own status moved from
   * `before` to `after`, and a ticket of this line is now ringing here. The card stays live.
   */
  ownStatus(before, after) {
    const agents = this.snapshot?.agents;
    if (!agents || before === after || !before || before === "offline") return;
    if (before && agents[before] > 0) agents[before] -= 1;
    if (after) agents[after] = (agents[after] || 0) + 1;
    this.render();
  }

  ringing(ticket) {
    const snap = this.snapshot;
    const line = snap?.lines?.find((l) => l.language === ticket.language && l.topic === ticket.topic);
    if (!line || !(line.waiting > 0)) return;
    line.waiting -= 1;
    line.offered = (line.offered || 0) + 1;
    if (snap.waiting > 0) snap.waiting -= 1;
    this.render();
  }

  /** Seconds since the snapshot arrived (waits grow by this much until the next one). */
  age() {
    return this.snapshot ? (performance.now() - this.receivedAt) / 1000 : 0;
  }

  lines() {
    const lines = (this.snapshot && this.snapshot.lines) || [];
    return lines
      .filter((line) => (line.waiting || 0) + (line.offered || 0) > 0)
      .sort((a, b) => (b.longest_wait_s || 0) - (a.longest_wait_s || 0));
  }

  summary() {
    if (!this.snapshot) return t("agent.queue.none_yet");
    const waiting = this.snapshot.waiting ?? this.lines().reduce((n, l) => n + (l.waiting || 0), 0);
    if (!waiting) return t("agent.queue.bar_empty");
    return t("agent.queue.bar", { n: waiting, longest: clock(this.longest()) });
  }

  longest() {
    const base = this.snapshot ? this.snapshot.longest_wait_s || 0 : 0;
    return base > 0 ? base + this.age() : 0;
  }

  render() {
    setText("bar-queue-text", this.summary());
    if (!this.snapshot) return;
    const snap = this.snapshot;
    const age = this.age();
    setText("q-waiting", String(snap.waiting ?? 0));
    setText("q-longest", clock(this.longest()));
    const rows = this.lines().map((line) => {
      const tr = document.createElement("tr");
      const mine = this.mine.languages.has(line.language) && this.mine.topics.has(line.topic);
      if (mine) tr.className = "mine";
      const name = document.createElement("th");
      name.scope = "row";
      // The code, spelled out on hover and for screen readers (abbr title), keeps the column narrow.
      const code = document.createElement("abbr");
      code.textContent = line.language;
      const full = t(`agent.sl.${line.language}`);
      if (full !== `agent.sl.${line.language}`) code.title = full;
      name.append(code, ` · ${topicName(line.topic)}`);
      if (mine) {
        const tag = document.createElement("span");
        tag.className = "mine-tag";
        tag.textContent = t("agent.queue.mine");
        name.append(" ", tag);
      }
      const waiting = document.createElement("td");
      waiting.className = "num";
      waiting.textContent = String(line.waiting || 0);
      const longest = document.createElement("td");
      longest.className = "num";
      longest.textContent = line.waiting ? clock((line.longest_wait_s || 0) + age) : "–";
      tr.append(name, waiting, longest);
      return tr;
    });
    this.body.replaceChildren(...rows);
    document.getElementById("q-empty").hidden = rows.length > 0;
    const agents = snap.agents || {};
    for (const status of STATUSES) setText(`q-agents-${status}`, String(agents[status] || 0));
    const at = snap.at ? snap.at * 1000 : Date.now();
    setText("q-updated", t("agent.queue.updated", { time: timeOfDay(at) }));
  }
}
