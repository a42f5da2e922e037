// Small DOM helpers. Everything that reaches the page from the service is
// set as text, never parsed as HTML, so a symbol or a message cannot inject
// markup (the Content-Security-Policy enforces it with Trusted Types).

/** Creates `tag` with attributes (`class`, `data-*`, ...) and children. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "text") node.textContent = String(value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child === undefined || child === null) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

/** The element with this id; throws if the page lacks it. */
export function byId(id) {
  const node = document.getElementById(id);
  if (!node) throw new Error(`missing element #${id}`);
  return node;
}

/** `12:03:04` in local time. */
export function clock(ms) {
  return new Date(ms).toLocaleTimeString([], { hour12: false });
}

/** `4s`, `3m 12s`, `2h 5m`. */
export function ago(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

/** `350 ms` under a second, else as `ago` says it. */
export function duration(ms) {
  return ms < 1000 ? `${Math.max(0, Math.round(ms))} ms` : ago(ms);
}

/** A number with at most `digits` decimals, thousands separated. */
export function num(value, digits = 2) {
  if (typeof value !== "number" || !Number.isFinite(value)) return "–";
  return value.toLocaleString("en-US", { maximumFractionDigits: digits });
}

/** Runs `render` at most once per animation frame, however often asked. */
export function throttled(render) {
  let queued = false;
  return () => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => {
      queued = false;
      render();
    });
  };
}
