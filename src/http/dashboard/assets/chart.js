// A small line chart on a <canvas>: one series per feed, the last few
// minutes of events per second. Drawn by hand, so there is no library (and
// no licence) to ship; redrawn on every sample and on resize.

import { el, byId, num } from "./dom.js";

/** Samples kept per series: five minutes at one sample every two seconds. */
export const MAX_POINTS = 150;
const WINDOW_MS = 5 * 60 * 1000;
const COLOURS = ["#2f80ed", "#eb5757", "#27ae60", "#f2994a", "#9b51e0", "#56ccf2"];

export class RateChart {
  constructor() {
    this.canvas = byId("chart");
    this.legend = byId("legend");
    this.series = new Map(); // feed -> [{ t, v }]
    window.addEventListener("resize", () => this.draw());
  }

  add(feed, t, value) {
    let points = this.series.get(feed);
    if (!points) {
      points = [];
      this.series.set(feed, points);
    }
    points.push({ t, v: value });
    while (points.length > MAX_POINTS || (points.length && points[0].t < t - WINDOW_MS)) points.shift();
  }

  colour(index) {
    return COLOURS[index % COLOURS.length];
  }

  draw() {
    const canvas = this.canvas;
    const ratio = window.devicePixelRatio || 1;
    const width = canvas.clientWidth;
    const height = canvas.clientHeight;
    if (!width || !height) return;
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
    const g = canvas.getContext("2d");
    g.setTransform(ratio, 0, 0, ratio, 0, 0);
    g.clearRect(0, 0, width, height);
    const now = Date.now();
    const all = [...this.series.values()].flat();
    const top = niceCeiling(Math.max(1, ...all.map((p) => p.v)));
    const left = 56;
    const bottom = height - 20;
    const x = (t) => left + ((t - (now - WINDOW_MS)) / WINDOW_MS) * (width - left - 8);
    const y = (v) => bottom - (v / top) * (bottom - 8);
    const style = getComputedStyle(canvas);
    g.font = `11px ${style.fontFamily}`;
    g.fillStyle = style.color;
    g.strokeStyle = style.getPropertyValue("--grid") || "#ddd";
    g.lineWidth = 1;
    for (let i = 0; i <= 4; i++) {
      const v = (top * i) / 4;
      g.beginPath();
      g.moveTo(left, y(v));
      g.lineTo(width - 8, y(v));
      g.stroke();
      g.fillText(num(v, 0), 4, y(v) + 4);
    }
    for (let m = 0; m <= 5; m++) {
      const t = now - WINDOW_MS + m * 60000;
      g.fillText(m === 5 ? "now" : `-${5 - m}m`, x(t) - 10, height - 4);
    }
    const entries = [];
    [...this.series.entries()].forEach(([feed, points], i) => {
      g.strokeStyle = this.colour(i);
      g.lineWidth = 2;
      g.beginPath();
      points.forEach((p, j) => (j ? g.lineTo(x(p.t), y(p.v)) : g.moveTo(x(p.t), y(p.v))));
      g.stroke();
      const last = points.length ? points[points.length - 1].v : 0;
      entries.push(
        el("span", { class: "legend-item" },
          el("span", { class: `swatch swatch-${i % COLOURS.length}` }),
          `${feed} ${num(last, 0)}/s`),
      );
    });
    this.legend.replaceChildren(...entries);
  }
}

/** 1, 2 or 5 times a power of ten, at least `v`. */
function niceCeiling(v) {
  const power = 10 ** Math.floor(Math.log10(v));
  for (const step of [1, 2, 5, 10]) if (step * power >= v) return step * power;
  return 10 * power;
}
