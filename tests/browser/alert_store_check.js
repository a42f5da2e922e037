// Run in the dashboard page by test_dashboard.py (execute_async_script):
// imports the page's own alerts module and checks its rules on made-up
// alerts. Calls back with { failures: [...] }.
const done = arguments[arguments.length - 1];
(async () => {
  const { AlertStore, alertRow, MAX_ROWS } = await import("/assets/alerts.js");
  const failures = [];
  const expect = (ok, what) => {
    if (!ok) failures.push(what);
  };
  const alert = (id, extra = {}) => ({
    id, symbol: "AAPL", kind: "volume_spike", detected_at_ms: 0, observed: 1, baseline: 1, score: 1, ...extra,
  });
  const ids = (store) => store.rows.map((r) => r.alert.id).join();

  // Bounded: a slow page keeps MAX_ROWS rows, the newest, and forgets the rest.
  const big = new AlertStore();
  for (let i = 1; i <= MAX_ROWS + 100; i++) big.addAlert(alert(i));
  expect(big.rows.length === MAX_ROWS, `kept ${big.rows.length} rows`);
  expect(big.byId.size === MAX_ROWS, `indexed ${big.byId.size} rows`);
  expect(big.rows[0].alert.id === MAX_ROWS + 100, "newest first");
  expect(!big.byId.has(100) && big.byId.has(101), "the oldest are dropped");
  expect(!big.addAlert(alert(MAX_ROWS + 100)), "a duplicate is refused");
  expect(!big.addAlert({ symbol: "X" }), "an alert without an id is refused");

  // An enrichment that comes before its alert is attached when the alert comes.
  const small = new AlertStore(3, 2);
  expect(!small.addEnrichment({ alert_id: 7, status: "ok", details: { name: "Apple Inc." } }), "no row yet");
  small.addAlert(alert(7));
  expect(small.byId.get(7).enrichment?.details?.name === "Apple Inc.", "early enrichment attached");
  for (let i = 100; i < 110; i++) small.addEnrichment({ alert_id: i, status: "ok" });
  expect(small.orphans.size === 2, `orphans bounded: ${small.orphans.size}`);
  // A backfill of older alerts after live ones keeps newest first.
  small.addAlert(alert(3));
  small.addAlert(alert(5));
  expect(ids(small) === "7,5,3", `order ${ids(small)}`);
  small.addAlert(alert(1));
  expect(ids(small) === "7,5,3", `an alert older than every kept one is dropped: ${ids(small)}`);
  expect(small.addEnrichment({ alert_id: 5, status: "ok" }), "a kept row takes its enrichment");

  // Filters: symbol or underlying, any case; kind exactly.
  const f = new AlertStore();
  f.addAlert(alert(1, { symbol: "O:NVDA261218C00500000", underlying: "NVDA", kind: "price_jump" }));
  f.addAlert(alert(2, { symbol: "AAPL" }));
  expect(f.filter("nvda", "").length === 1, "symbol filter matches the underlying");
  expect(f.filter(" aap ", "").length === 1, "symbol filter trims and ignores case");
  expect(f.filter("", "price_jump").length === 1, "kind filter");
  expect(f.filter("AAPL", "price_jump").length === 0, "both filters apply");
  expect(f.filter("", "").length === 2, "no filter shows all");

  // A row shows a rule's name and explanation, and data as text, never markup.
  const tr = alertRow({
    alert: alert(9, { kind: "options_flow", rule: "sweep", explanation: "3 exchanges in 40 ms", symbol: "<b>X</b>" }),
    enrichment: null,
  });
  expect(tr.textContent.includes("3 exchanges in 40 ms"), "the explanation is shown");
  expect(tr.textContent.includes("sweep"), "the rule is shown");
  expect(tr.querySelector("b") === null && tr.textContent.includes("<b>X</b>"), "text, not markup");
  expect(tr.querySelector(".enrichment").textContent === "…", "a pending enrichment shows …");
  const enriched = alertRow({
    alert: alert(10),
    enrichment: { status: "ok", details: { contract_type: "put", strike_price: 450, expiration_date: "2026-12-18" } },
  });
  expect(/put\s*450 exp 2026-12-18/.test(enriched.querySelector(".enrichment").textContent), "contract details");
  const flow = alertRow({ alert: alert(12, { symbol: "NVDA", underlying: "NVDA", scope: "underlying" }), enrichment: null });
  expect(flow.textContent.includes("(options flow)"), "an underlying's alert says options flow");
  expect(!enriched.textContent.includes("options flow"), "a symbol's alert does not");
  const failed = alertRow({ alert: alert(11), enrichment: { status: "timeout", error: "no answer" } });
  expect(failed.querySelector(".enrichment").textContent === "timeout: no answer", "a failed enrichment says why");
  done({ failures });
})().catch((e) => done({ failures: [`threw: ${e}`] }));
