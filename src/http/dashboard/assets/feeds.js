// Feed cards and the pipeline table, from `GET /feeds`: connection state and
// since when, subscriptions (each removable), events/s, the feed's handler
// queue and its sheds, reconnects, decode errors; queues and drops per stage;
// REST latency and cache hits.

import { el, byId, ago, clock, duration, num } from "./dom.js";

/** Connection events kept on the page. */
export const MAX_EVENTS = 50;

const HEALTHY = new Set(["streaming"]);
const WAITING = new Set(["connecting", "awaiting_greeting", "authenticating", "subscribing", "backoff"]);

export class FeedView {
  /** `onRemove(feed, topic)` runs when a subscription's remove button is pressed. */
  constructor(onRemove) {
    this.cards = byId("feeds");
    this.pipeline = byId("pipeline").tBodies[0];
    this.rest = byId("rest");
    this.readiness = byId("readiness");
    this.feedSelect = byId("sub-feed");
    this.previous = null;
    this.rates = new Map();
    this.cards.addEventListener("click", (event) => {
      const button = event.target.closest("button[data-topic]");
      if (button) onRemove(button.dataset.feed, button.dataset.topic);
    });
  }

  /**
   * Shows a `/feeds` answer; returns each feed's events/s since the
   * previous one (empty on the first).
   */
  update(stats) {
    const rates = new Map();
    const prev = this.previous;
    if (prev && stats.at_ms > prev.at_ms) {
      const seconds = (stats.at_ms - prev.at_ms) / 1000;
      for (const feed of stats.feeds) {
        const before = prev.feeds.find((f) => f.feed === feed.feed);
        if (before) rates.set(feed.feed, Math.max(0, feed.events - before.events) / seconds);
      }
    }
    this.rates = rates;
    // Offer only what would change something.
    const paused = stats.feeds.filter((f) => f.state === "paused").length;
    byId("pause").disabled = paused > 0 && paused === stats.feeds.length;
    byId("resume").disabled = paused === 0;
    this.readiness.textContent = stats.status.replace(/_/g, " ");
    this.readiness.className = `badge status-${stats.status}`;
    this.cards.replaceChildren(...stats.feeds.map((f) => this.card(f, stats.at_ms)));
    this.syncFeedChoices(stats.feeds.map((f) => f.feed));
    this.pipeline.replaceChildren(
      ...Object.entries(stats.queues).map(([stage, q]) =>
        el("tr", { "data-stage": stage },
          el("td", { text: stage }),
          el("td", { class: "num", text: num(q.depth, 0) }),
          el("td", { class: "num", text: num(q.high_water, 0) }),
          el("td", { class: q.dropped ? "num bad" : "num", text: num(q.dropped, 0) }))),
    );
    this.rest.textContent = restLine(stats, prev);
    this.previous = stats;
    return rates;
  }

  card(feed, now) {
    const state = feed.state;
    const tone = HEALTHY.has(state) ? "good" : WAITING.has(state) ? "warn" : "bad";
    const rate = this.rates.get(feed.feed);
    const subscriptions = feed.subscriptions.map((topic) =>
      el("li", {},
        el("code", { text: topic }),
        el("button", { type: "button", class: "remove", "data-feed": feed.feed, "data-topic": topic, title: `Unsubscribe ${topic}`, text: "×" })));
    return el(
      "article", { class: `card feed tone-${tone}`, "data-feed": feed.feed },
      el("h2", {}, feed.feed, " ", el("span", { class: `badge state state-${state}`, text: state.replace(/_/g, " ") })),
      el("p", { class: "muted since", text: `since ${clock(feed.since_ms)} (${ago(now - feed.since_ms)})` }),
      el("dl", {},
        el("dt", { text: "events/s" }), el("dd", { class: "rate", text: rate === undefined ? "–" : num(rate, 0) }),
        el("dt", { text: "events" }), el("dd", { text: num(feed.events, 0) }),
        el("dt", { text: "queued frames" }), el("dd", { text: num(feed.queued_frames, 0) }),
        el("dt", { text: "shed frames" }), el("dd", { class: feed.shed_frames ? "bad" : "", text: num(feed.shed_frames, 0) }),
        el("dt", { text: "reconnects" }), el("dd", { text: num(feed.reconnects, 0) }),
        el("dt", { text: "decode errors" }), el("dd", { class: feed.decode_errors ? "bad" : "", text: num(feed.decode_errors, 0) }),
        el("dt", { text: "stale topics" }), el("dd", { class: feed.stale_topics ? "bad" : "", text: num(feed.stale_topics, 0) })),
      el("ul", { class: "topics" }, ...subscriptions),
    );
  }

  syncFeedChoices(names) {
    const current = [...this.feedSelect.options].map((o) => o.value);
    if (current.join() === names.join()) return;
    const chosen = this.feedSelect.value;
    this.feedSelect.replaceChildren(...names.map((n) => el("option", { value: n, text: n })));
    if (names.includes(chosen)) this.feedSelect.value = chosen;
  }
}

/** REST mean latency (over the last interval when it had requests, else
 * since the start), cache hits, requests in flight. */
function restLine(stats, prev) {
  const r = stats.rest;
  let latency = "–";
  const recent = prev ? r.requests - prev.rest.requests : 0;
  if (recent > 0) {
    latency = `${num(((r.latency_seconds_sum - prev.rest.latency_seconds_sum) / recent) * 1000, 1)} ms`;
  } else if (r.requests > 0) {
    latency = `${num((r.latency_seconds_sum / r.requests) * 1000, 1)} ms`;
  }
  const alerts = Object.values(stats.alerts).reduce((a, b) => a + b, 0);
  return `REST: ${num(r.requests, 0)} requests, mean latency ${latency}, ${num(r.cache_hits, 0)} cache hits, ` +
    `${num(r.in_flight, 0)} in flight · ${num(alerts, 0)} alerts · live clients: ${num(stats.ws_clients, 0)}`;
}

/** The `status` records pushed over `/ws` (connected, paused, reconnected
 * with the gap, ...), newest first, at most MAX_EVENTS. */
export class StatusLog {
  constructor() {
    this.list = byId("events");
  }

  add(record) {
    if (typeof record?.feed !== "string" || typeof record?.state !== "string") return;
    let text = record.message || "";
    if (typeof record.gap_from_ms === "number" && typeof record.gap_to_ms === "number") {
      text += ` (gap ${duration(record.gap_to_ms - record.gap_from_ms)} from ${clock(record.gap_from_ms)})`;
    }
    this.list.prepend(
      el("li", { "data-feed": record.feed, "data-state": record.state },
        el("span", { class: "muted", text: clock(record.at_ms) }), " ",
        el("strong", { text: record.feed }), " ",
        el("span", { class: `badge state-${record.state}`, text: record.state.replace(/_/g, " ") }), " ",
        el("span", { class: "message", text })),
    );
    while (this.list.children.length > MAX_EVENTS) this.list.lastElementChild.remove();
  }
}
