// The dashboard's entry point: asks for the token when the service wants
// one, then keeps `/ws` open (alerts and status pushes) and polls `/feeds`
// for the figures; pause, resume and subscription changes go over the API.

import { call, liveSocket, setToken, token, Unauthorized } from "./api.js";
import { AlertTable } from "./alerts.js";
import { RateChart } from "./chart.js";
import { byId } from "./dom.js";
import { FeedView, StatusLog } from "./feeds.js";

const POLL_MS = 2000;
const BACKFILL = 200;

const alerts = new AlertTable();
const chart = new RateChart();
const feeds = new FeedView(removeTopic);
const statusLog = new StatusLog();
const conn = byId("conn");
let started = false;
let pollTimer = null;
let refreshing = false;
let again = false;

/** Reads `/feeds` and redraws the cards, the table and the chart. */
async function refresh() {
  try {
    const { status, body } = await call("GET", "/feeds");
    if (status !== 200 || !body) return;
    const rates = feeds.update(body);
    const now = Date.now();
    for (const [feed, rate] of rates) chart.add(feed, now, rate);
    chart.draw();
  } catch (e) {
    if (e instanceof Unauthorized) askToken("The token was refused; enter it again.");
    // Anything else means the service is unreachable, which the connection
    // badge already shows.
  }
}

/** Refreshes now and then every POLL_MS. At most one refresh runs at a
 * time: asks made meanwhile (a burst of status pushes) fold into one more. */
function poll() {
  if (refreshing) {
    again = true;
    return;
  }
  clearTimeout(pollTimer);
  refreshing = true;
  refresh().finally(() => {
    refreshing = false;
    if (again) {
      again = false;
      poll();
    } else {
      pollTimer = setTimeout(poll, POLL_MS);
    }
  });
}

async function backfill() {
  try {
    const { status, body } = await call("GET", `/alerts?limit=${BACKFILL}`);
    if (status !== 200 || !body) return;
    for (const record of body.alerts) alerts.addAlert(record.alert, record.enrichment);
  } catch {
    // The live stream still fills the table.
  }
}

function onMessage(message) {
  const data = message.data;
  if (message.topic === "alerts" && data) {
    if (data.type === "alert") alerts.addAlert(data);
    else if (data.type === "enrichment") alerts.addEnrichment(data);
  } else if (message.topic === "status") {
    statusLog.add(data);
    // A connection changed state: show it now rather than at the next poll.
    poll();
  }
}

function setConnection(state) {
  conn.textContent = state;
  conn.className = `badge conn-${state}`;
  document.body.classList.toggle("offline", state !== "live");
}

function start() {
  if (started) return;
  started = true;
  liveSocket({
    onOpen: (send) => {
      send({ id: 1, action: "subscribe", topics: ["alerts", "status"] });
      backfill();
      poll();
    },
    onMessage,
    onState: setConnection,
  });
  poll();
}

function showResult(text, good) {
  const result = byId("sub-result");
  result.textContent = text;
  result.className = `result ${good ? "good" : "bad"}`;
}

/** Says what the provider answered to a subscription change. */
function describeChange(verb, status, body) {
  const error = body?.error || `HTTP ${status}`;
  switch (status) {
    case 200:
      return body.acknowledged
        ? [`${verb}: acknowledged (${body.feed}: ${body.subscriptions.join(", ") || "none"})`, true]
        : [`${verb}: accepted, not yet acknowledged`, true];
    case 502:
      return [`${verb}: rejected: ${error}`, false];
    case 504:
      return [`${verb}: timeout: ${error}`, false];
    default:
      return [`${verb}: ${error}`, false];
  }
}

async function change(method, feed, topics) {
  const verb = method === "POST" ? "subscribe" : "unsubscribe";
  showResult(`${verb} ${topics.join(", ")}: waiting for the provider…`, true);
  try {
    const { status, body } = await call(method, "/subscriptions", { feed, topics });
    showResult(...describeChange(verb, status, body));
  } catch (e) {
    if (e instanceof Unauthorized) askToken("The token was refused; enter it again.");
    else showResult(`${verb}: no answer from the service (${e.message})`, false);
  }
  poll();
}

function removeTopic(feed, topic) {
  change("DELETE", feed, [topic]);
}

byId("sub-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const topics = byId("sub-topics").value.split(/[\s,]+/).filter(Boolean);
  if (topics.length) change("POST", byId("sub-feed").value, topics);
});

for (const action of ["pause", "resume"]) {
  byId(action).addEventListener("click", async () => {
    try {
      await call("POST", `/${action}`);
    } catch (e) {
      if (e instanceof Unauthorized) askToken("The token was refused; enter it again.");
    }
    poll();
  });
}

byId("detail-close").addEventListener("click", () => byId("detail").close());

function askToken(message) {
  setToken("");
  byId("login-error").textContent = message || "";
  const dialog = byId("login");
  if (!dialog.open) dialog.showModal();
}

byId("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  setToken(byId("login-token").value.trim());
  try {
    await call("GET", "/feeds");
  } catch (e) {
    const why = e instanceof Unauthorized ? "That token was refused." : `No answer: ${e.message}`;
    askToken(why);
    return;
  }
  byId("login").close();
  start();
});

// First contact: does the service want a token we do not have?
(async () => {
  try {
    await call("GET", "/feeds");
    start();
  } catch (e) {
    if (e instanceof Unauthorized) askToken(token() ? "The saved token was refused." : "");
    else start(); // Unreachable for now: the socket keeps retrying.
  }
})();
