// Small SVG charts for the QA pages: a line chart over time, vertical bars, grouped horizontal bars.
//
// The server renders each chart's title, a one-sentence summary and the data table (the text
// alternative); this module only draws the picture, so the SVG is aria-hidden. Every label comes
// from the server in the page's language; text is set with textContent, never parsed as HTML.
// Colours come from qa.css (.s0 .s1 .s2); series also differ by dash pattern, not colour alone.

const NS = "http://www.w3.org/2000/svg";
const FONT_PX = 13;
const PAD = { top: 14, right: 16, bottom: 34, left: 48 };

function el(name, attrs = {}, parent = null) {
  const node = document.createElementNS(NS, name);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  if (parent) parent.appendChild(node);
  return node;
}

function text(parent, x, y, content, attrs = {}) {
  const node = el("text", { x, y, ...attrs }, parent);
  node.textContent = content;
  return node;
}

/** Round numbers for an axis from 0 to at least `max` (about `count` steps); whole steps for counts. */
export function niceTicks(max, count = 4, integer = false) {
  if (!(max > 0)) return [0, 1];
  const raw = max / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  let step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= raw);
  if (integer) step = Math.max(1, Math.ceil(step));
  const ticks = [];
  for (let v = 0; v <= max + step * 0.999; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

export function formatTick(value) {
  if (Math.abs(value) >= 10000) return `${Math.round(value / 1000)}k`;
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}

function frame(container, height) {
  const width = Math.max(240, Math.floor(container.clientWidth || 600));
  const svg = el("svg", {
    width,
    height,
    viewBox: `0 0 ${width} ${height}`,
    class: "qa-svg",
    "aria-hidden": "true",
    focusable: "false",
  });
  container.replaceChildren(svg);
  return { svg, width, height };
}

function maxOf(spec) {
  let max = spec.limit ?? 0;
  for (const series of spec.series) for (const v of series.values) if (v != null && v > max) max = v;
  return max;
}

function yAxis(svg, ticks, x0, x1, y) {
  const grid = el("g", { class: "qa-grid" }, svg);
  for (const tick of ticks) {
    const ty = y(tick);
    el("line", { x1: x0, x2: x1, y1: ty, y2: ty }, grid);
    text(grid, x0 - 6, ty + FONT_PX / 3, formatTick(tick), { "text-anchor": "end", class: "qa-tick" });
  }
}

// Show at most as many x labels as fit, evenly spaced, always the first.
function xLabels(svg, labels, xOf, y, width) {
  const longest = Math.max(...labels.map((l) => l.length), 1);
  const room = longest * FONT_PX * 0.62 + 12;
  const every = Math.max(1, Math.ceil((labels.length * room) / width));
  const g = el("g", { class: "qa-xlabels" }, svg);
  labels.forEach((label, i) => {
    if (i % every !== 0) return;
    text(g, xOf(i), y, label, { "text-anchor": "middle", class: "qa-tick" });
  });
}

function limitLine(svg, spec, x0, x1, y) {
  if (spec.limit == null) return;
  const ly = y(spec.limit);
  el("line", { x1: x0, x2: x1, y1: ly, y2: ly, class: "qa-limit" }, svg);
}

export function lineChart(container, spec, height = 240) {
  const { svg, width } = frame(container, height);
  const x0 = PAD.left;
  const x1 = width - PAD.right;
  const ticks = niceTicks(maxOf(spec), 4, spec.integer);
  const top = ticks[ticks.length - 1];
  const y = (v) => height - PAD.bottom - (v / top) * (height - PAD.top - PAD.bottom);
  const n = spec.labels.length;
  const xOf = (i) => (n === 1 ? (x0 + x1) / 2 : x0 + (i * (x1 - x0)) / (n - 1));
  yAxis(svg, ticks, x0, x1, y);
  limitLine(svg, spec, x0, x1, y);
  spec.series.forEach((series, s) => {
    const g = el("g", { class: `qa-series s${s}` }, svg);
    let d = "";
    let pen = false;
    series.values.forEach((v, i) => {
      if (v == null) {
        pen = false;
        return;
      }
      d += `${pen ? "L" : "M"}${xOf(i).toFixed(1)},${y(v).toFixed(1)}`;
      pen = true;
    });
    if (d) el("path", { d, class: "qa-line" }, g);
    if (n <= 60) {
      series.values.forEach((v, i) => {
        if (v == null) return;
        const dot = el("circle", { cx: xOf(i), cy: y(v), r: 3.5, class: "qa-dot" }, g);
        el("title", {}, dot).textContent = `${spec.labels[i]} · ${series.name}: ${formatTick(v)}${spec.unit ? ` ${spec.unit}` : ""}`;
      });
    }
  });
  xLabels(svg, spec.labels, xOf, height - PAD.bottom + 20, x1 - x0);
  return svg;
}

export function barChart(container, spec, height = 240) {
  const { svg, width } = frame(container, height);
  const x0 = PAD.left;
  const x1 = width - PAD.right;
  const ticks = niceTicks(maxOf(spec), 4, spec.integer);
  const top = ticks[ticks.length - 1];
  const y = (v) => height - PAD.bottom - (v / top) * (height - PAD.top - PAD.bottom);
  const n = spec.labels.length;
  const slot = (x1 - x0) / Math.max(n, 1);
  const barWidth = Math.min(56, slot * 0.7);
  const xOf = (i) => x0 + slot * (i + 0.5);
  yAxis(svg, ticks, x0, x1, y);
  const g = el("g", { class: "qa-series s0" }, svg);
  spec.series[0].values.forEach((v, i) => {
    const value = v ?? 0;
    const bar = el("rect", {
      x: xOf(i) - barWidth / 2,
      y: y(value),
      width: barWidth,
      height: Math.max(0, y(0) - y(value)),
      rx: 3,
      class: "qa-bar",
    }, g);
    el("title", {}, bar).textContent = `${spec.labels[i]}: ${formatTick(value)}`;
    if (value > 0) text(g, xOf(i), y(value) - 5, formatTick(value), { "text-anchor": "middle", class: "qa-value" });
  });
  xLabels(svg, spec.labels, xOf, height - PAD.bottom + 20, x1 - x0);
  return svg;
}

export function hbarChart(container, spec) {
  const groups = spec.labels.length;
  const bars = spec.series.length;
  const barHeight = 14;
  const rowHeight = bars * barHeight + 16;
  const height = groups * rowHeight + 8;
  const { svg, width } = frame(container, height);
  const labelWidth = Math.min(180, Math.max(...spec.labels.map((l) => l.length), 2) * FONT_PX * 0.62 + 12);
  const x0 = labelWidth;
  const x1 = width - 52;
  const max = Math.max(maxOf(spec), 1);
  const x = (v) => x0 + (v / max) * (x1 - x0);
  spec.labels.forEach((label, i) => {
    const rowTop = 4 + i * rowHeight;
    text(svg, x0 - 8, rowTop + (bars * barHeight) / 2 + FONT_PX / 3, label, { "text-anchor": "end", class: "qa-cat" });
    spec.series.forEach((series, s) => {
      const value = series.values[i] ?? 0;
      const g = el("g", { class: `qa-series s${s}` }, svg);
      const barY = rowTop + s * barHeight;
      const bar = el("rect", { x: x0, y: barY, width: Math.max(1, x(value) - x0), height: barHeight - 2, rx: 2, class: "qa-bar" }, g);
      el("title", {}, bar).textContent = `${label} · ${series.name}: ${formatTick(value)}`;
      text(g, x(value) + 5, barY + barHeight - 4, formatTick(value), { class: "qa-value" });
    });
  });
  el("line", { x1: x0, x2: x0, y1: 0, y2: height, class: "qa-axis" }, svg);
  return svg;
}

const DRAW = { line: lineChart, bars: barChart, hbars: hbarChart };

/** Draw every `[data-chart]` figure on the page from the JSON in #qa-charts-data; redraw on resize. */
export function drawAll(root = document) {
  const source = root.getElementById ? root.getElementById("qa-charts-data") : null;
  const specs = source ? JSON.parse(source.textContent) : {};
  for (const figure of root.querySelectorAll("[data-chart]")) {
    const spec = specs[figure.dataset.chart];
    const canvas = figure.querySelector(".qa-chart-canvas");
    const draw = spec && DRAW[spec.kind];
    if (!canvas || !draw) continue;
    let lastWidth = 0;
    const render = () => {
      const w = canvas.clientWidth;
      if (w === lastWidth) return;
      lastWidth = w;
      draw(canvas, spec);
    };
    render();
    if (window.ResizeObserver) new ResizeObserver(() => requestAnimationFrame(render)).observe(canvas);
  }
}
