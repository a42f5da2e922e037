// The alerts table: newest first, at most MAX_ROWS kept, enrichment filled in
// when it arrives, filtered by symbol and kind, a row's full JSON on click.

import { el, byId, clock, num, throttled } from "./dom.js";

/** Alerts kept in memory; older ones are dropped, so the page stays small. */
export const MAX_ROWS = 500;
/** Enrichments kept while their alert has not been seen (a backfill race). */
const MAX_ORPHANS = 200;
const KNOWN_KINDS = ["volume_spike", "price_jump", "trade_burst"];

export class AlertTable {
  constructor() {
    this.rows = []; // { alert, enrichment }, newest first
    this.byId = new Map();
    this.orphans = new Map();
    this.kinds = new Set();
    this.body = byId("alerts").tBodies[0];
    this.symbolFilter = byId("filter-symbol");
    this.kindFilter = byId("filter-kind");
    this.count = byId("alert-count");
    this.render = throttled(() => this.draw());
    KNOWN_KINDS.forEach((k) => this.addKind(k));
    this.symbolFilter.addEventListener("input", this.render);
    this.kindFilter.addEventListener("change", this.render);
    this.body.addEventListener("click", (event) => {
      const tr = event.target.closest("tr[data-id]");
      if (tr) this.show(Number(tr.dataset.id));
    });
  }

  addKind(kind) {
    if (!kind || this.kinds.has(kind)) return;
    this.kinds.add(kind);
    this.kindFilter.append(el("option", { value: kind, text: kind.replace(/_/g, " ") }));
  }

  /** An alert (from `/ws` or the `/alerts` backfill), with its enrichment if known. */
  addAlert(alert, enrichment = null) {
    if (typeof alert?.id !== "number" || this.byId.has(alert.id)) return;
    const row = { alert, enrichment: enrichment || this.orphans.get(alert.id) || null };
    this.orphans.delete(alert.id);
    this.byId.set(alert.id, row);
    // Keep newest first even when a backfill arrives after live alerts.
    const at = this.rows.findIndex((r) => r.alert.id < alert.id);
    if (at === -1) this.rows.push(row);
    else this.rows.splice(at, 0, row);
    while (this.rows.length > MAX_ROWS) this.byId.delete(this.rows.pop().alert.id);
    this.addKind(alert.kind);
    this.render();
  }

  addEnrichment(enrichment) {
    const row = this.byId.get(enrichment?.alert_id);
    if (row) {
      row.enrichment = enrichment;
      this.render();
    } else if (typeof enrichment?.alert_id === "number") {
      this.orphans.set(enrichment.alert_id, enrichment);
      if (this.orphans.size > MAX_ORPHANS) this.orphans.delete(this.orphans.keys().next().value);
    }
  }

  visible() {
    const symbol = this.symbolFilter.value.trim().toUpperCase();
    const kind = this.kindFilter.value;
    return this.rows.filter(({ alert }) => {
      if (kind && alert.kind !== kind) return false;
      if (!symbol) return true;
      return [alert.symbol, alert.underlying].some((s) => s && s.toUpperCase().includes(symbol));
    });
  }

  draw() {
    const rows = this.visible();
    this.body.replaceChildren(...rows.map((r) => this.row(r)));
    this.count.textContent = `${rows.length} shown, ${this.rows.length} kept (at most ${MAX_ROWS})`;
  }

  row({ alert, enrichment }) {
    const kind = el("td", {}, el("span", { class: `kind kind-${alert.kind}`, text: (alert.rule || alert.kind || "").replace(/_/g, " ") }));
    if (typeof alert.explanation === "string" && alert.explanation) {
      kind.append(el("div", { class: "explanation", text: alert.explanation }));
    }
    return el(
      "tr",
      { "data-id": alert.id, "data-kind": alert.kind, class: "alert", tabindex: 0 },
      el("td", { text: clock(alert.detected_at_ms) }),
      el("td", { class: "symbol", text: alert.symbol }),
      el("td", { text: alert.underlying || "" }),
      kind,
      el("td", { class: "num", text: num(alert.observed) }),
      el("td", { class: "num", text: num(alert.baseline) }),
      el("td", { class: "num", text: num(alert.score) }),
      el("td", { class: "enrichment" }, ...describe(enrichment)),
    );
  }

  show(id) {
    const row = this.byId.get(id);
    if (!row) return;
    byId("detail-title").textContent = `Alert ${id}: ${row.alert.symbol}`;
    byId("detail-json").textContent = JSON.stringify(row, null, 2);
    byId("detail").showModal();
  }
}

/** What the enrichment says, in a few words; `…` while it is on its way. */
export function describe(enrichment) {
  if (!enrichment) return [el("span", { class: "pending", text: "…" })];
  if (enrichment.status !== "ok") {
    return [el("span", { class: "bad", text: `${enrichment.status}${enrichment.error ? `: ${enrichment.error}` : ""}` })];
  }
  const d = enrichment.details || {};
  const parts = [];
  if (d.contract_type) {
    parts.push(el("span", { class: "tag", text: d.contract_type }));
    if (d.strike_price !== undefined) parts.push(` ${num(d.strike_price)}`);
    if (d.expiration_date) parts.push(` exp ${d.expiration_date}`);
  } else if (d.name) {
    parts.push(d.name);
  } else {
    parts.push("ok");
  }
  if (enrichment.cached) parts.push(el("span", { class: "muted", text: " (cached)" }));
  return parts;
}
