// The alerts table: newest first, at most MAX_ROWS kept, enrichment filled in
// when it arrives, filtered by symbol and kind, a row's full JSON on click.
// `AlertStore` holds the rows and knows nothing of the page; `AlertTable`
// draws it.

import { el, byId, clock, num, throttled } from "./dom.js";

/** Alerts kept in memory; older ones are dropped, so the page stays small. */
export const MAX_ROWS = 500;
/** Enrichments kept while their alert has not been seen (a backfill race). */
export const MAX_ORPHANS = 200;
const KNOWN_KINDS = ["volume_spike", "price_jump", "trade_burst"];

/** The rows: `{ alert, enrichment }`, newest (highest id) first, bounded. */
export class AlertStore {
  constructor(maxRows = MAX_ROWS, maxOrphans = MAX_ORPHANS) {
    this.maxRows = maxRows;
    this.maxOrphans = maxOrphans;
    this.rows = [];
    this.byId = new Map();
    this.orphans = new Map();
  }

  /** Adds an alert (from `/ws` or the `/alerts` backfill); false if it was
   * malformed or already known. */
  addAlert(alert, enrichment = null) {
    if (typeof alert?.id !== "number" || this.byId.has(alert.id)) return false;
    const row = { alert, enrichment: enrichment || this.orphans.get(alert.id) || null };
    this.orphans.delete(alert.id);
    this.byId.set(alert.id, row);
    // Keep newest first even when a backfill arrives after live alerts.
    const at = this.rows.findIndex((r) => r.alert.id < alert.id);
    if (at === -1) this.rows.push(row);
    else this.rows.splice(at, 0, row);
    while (this.rows.length > this.maxRows) this.byId.delete(this.rows.pop().alert.id);
    return true;
  }

  /** Attaches an enrichment to its alert, or keeps it (bounded) until the
   * alert arrives; true when a shown row changed. */
  addEnrichment(enrichment) {
    const id = enrichment?.alert_id;
    const row = this.byId.get(id);
    if (row) {
      row.enrichment = enrichment;
      return true;
    }
    if (typeof id === "number") {
      this.orphans.set(id, enrichment);
      if (this.orphans.size > this.maxOrphans) this.orphans.delete(this.orphans.keys().next().value);
    }
    return false;
  }

  /** Rows whose kind is `kind` (any when empty) and whose symbol or
   * underlying contains `symbol` (case-insensitive). */
  filter(symbol, kind) {
    const wanted = symbol.trim().toUpperCase();
    return this.rows.filter(({ alert }) => {
      if (kind && alert.kind !== kind) return false;
      if (!wanted) return true;
      return [alert.symbol, alert.underlying].some((s) => s && s.toUpperCase().includes(wanted));
    });
  }
}

export class AlertTable {
  constructor() {
    this.store = new AlertStore();
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
    this.body.addEventListener("keydown", (event) => {
      const tr = event.target.closest("tr[data-id]");
      if (tr && event.key === "Enter") this.show(Number(tr.dataset.id));
    });
  }

  addKind(kind) {
    if (!kind || this.kinds.has(kind)) return;
    this.kinds.add(kind);
    this.kindFilter.append(el("option", { value: kind, text: kind.replace(/_/g, " ") }));
  }

  addAlert(alert, enrichment = null) {
    if (this.store.addAlert(alert, enrichment)) {
      this.addKind(alert.kind);
      this.render();
    }
  }

  addEnrichment(enrichment) {
    if (this.store.addEnrichment(enrichment)) this.render();
  }

  draw() {
    const rows = this.store.filter(this.symbolFilter.value, this.kindFilter.value);
    this.body.replaceChildren(...rows.map(alertRow));
    this.count.textContent = `${rows.length} shown, ${this.store.rows.length} kept (at most ${this.store.maxRows})`;
  }

  show(id) {
    const row = this.store.byId.get(id);
    if (!row) return;
    byId("detail-title").textContent = `Alert ${id}: ${row.alert.symbol}`;
    byId("detail-json").textContent = JSON.stringify(row, null, 2);
    byId("detail").showModal();
  }
}

/** One table row. An alert's `rule` names it when present (rules beyond the
 * three built-in kinds), its `explanation` is shown under it, and an alert
 * about all the options of an underlying says so. */
export function alertRow({ alert, enrichment }) {
  const name = (alert.rule || alert.kind || "").replace(/_/g, " ");
  const kind = el("td", {}, el("span", { class: `kind kind-${alert.kind}`, text: name }));
  if (alert.scope === "underlying") kind.append(el("span", { class: "muted", text: " (options flow)" }));
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
