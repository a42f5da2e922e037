// The service's HTTP API and `/ws`, with the token when one is required.
//
// The token is asked for once and kept in sessionStorage (this tab only). It
// goes in `Authorization: Bearer` on requests, and, because a browser cannot
// set headers on a WebSocket, as the subprotocol `bearer.<base64url>` beside
// `tapewatch` on `/ws`: never in a URL, so never in an access log.

const TOKEN_KEY = "tapewatch.token";
const REQUEST_TIMEOUT_MS = 10000;

/** Raised when the service refuses the token (or its absence). */
export class Unauthorized extends Error {}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY) || "";
}

export function setToken(value) {
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
}

/**
 * One request; resolves to `{ status, body }` with the body parsed as JSON
 * (null when empty). Throws `Unauthorized` on 401 and `Error` when the
 * service does not answer within the timeout.
 */
export async function call(method, path, body) {
  const headers = {};
  const t = token();
  if (t) headers.Authorization = `Bearer ${t}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: "no-store",
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  if (response.status === 401) throw new Unauthorized("token refused");
  const text = await response.text();
  let parsed = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = { error: text };
  }
  return { status: response.status, body: parsed };
}

function base64url(text) {
  let binary = "";
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/**
 * Keeps a `/ws` connection open: reconnects with a growing, jittered delay
 * (capped at 10 s) whenever it closes, and reports each change through
 * `onState("live" | "disconnected")`. `onOpen(send)` runs on every
 * (re)connection, `onMessage(json)` for every message.
 */
export function liveSocket({ onOpen, onMessage, onState }) {
  let delay = 500;
  let timer = null;
  const open = () => {
    timer = null;
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const protocols = ["tapewatch"];
    const t = token();
    if (t) protocols.push(`bearer.${base64url(t)}`);
    const ws = new WebSocket(`${scheme}//${location.host}/ws`, protocols);
    ws.addEventListener("open", () => {
      delay = 500;
      onState("live");
      onOpen((message) => ws.send(JSON.stringify(message)));
    });
    ws.addEventListener("message", (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      onMessage(message);
    });
    ws.addEventListener("close", () => {
      onState("disconnected");
      if (timer === null) {
        timer = setTimeout(open, delay * (0.5 + Math.random() / 2));
        delay = Math.min(delay * 2, 10000);
      }
    });
  };
  open();
}
