// The live byte lab. The page opens a WebSocket to /ws/lab (served by our
// own handshake and framing code) and, once the server's first message has
// named the session, an EventSource on /api/lab/events/{id}: every byte that
// crossed that socket comes back on the event stream, annotated. The socket
// carries only the learner's traffic; see lab/doc.go for why annotations take
// a separate, one-way stream. Spectators (/watch/{id}) open the same stream
// and nothing else.
import { el, strings, renderFrame, renderHandshake, renderDerivation, frameSummary, copyText } from "./grid.js";

const root = document.getElementById("lab-app");
const T = strings(root);
const lang = root.dataset.lang || "en";
const mode = root.dataset.mode;
const embed = document.documentElement.dataset.embed === "1";
const maxMessage = Number(root.dataset.max) || 262144;

const statusEl = document.getElementById("lab-status");
const list = document.getElementById("lab-timeline");
const detail = document.getElementById("lab-detail");
const hsBox = document.getElementById("lab-handshake");
const shareBox = document.getElementById("lab-share");

const MAX_EVENTS = 1000; // the page keeps as many as the server's trace
let events = [];          // events shown in the timeline, in order
let lastSeq = 0;
let selected = -1;        // index into events
let follow = true;        // selection follows the newest event
let ws = null;
let es = null;
let sessionId = root.dataset.session || "";
let labClosed = false;

function setStatus(key, ...args) {
  statusEl.textContent = T(key, ...args);
  statusEl.dataset.state = key;
}

function fmtMs(ms) {
  return ms < 1000 ? ms.toFixed(1) + " ms" : (ms / 1000).toFixed(2) + " s";
}

// ---- timeline --------------------------------------------------------------

function entryLabel(ev) {
  const who = ev.conn === "lab" ? "" : "[" + T("lab.conn.bad", ev.conn.slice(4)) + "] ";
  switch (ev.kind) {
    case "handshake":
      return who + T(ev.dir === "in" ? "lab.tl.request" : "lab.tl.response");
    case "frame": {
      const f = ev.frame;
      let s = who + frameSummary(T, f);
      if (f.text !== null && f.text !== undefined && f.opcode !== 8) {
        const t = f.text.length > 40 ? f.text.slice(0, 40) + "…" : f.text;
        s += " · “" + t + "”";
      }
      if (f.close_code !== null && f.close_code !== undefined) s += " · " + f.close_code;
      if (f.problems && f.problems.length) s += " · ⚠";
      return s;
    }
    case "bytes":
      return who + T("lab.tl.bytes");
    case "closed":
      return who + (ev.close ? T(ev.close.remote ? "lab.tl.closed.remote" : "lab.tl.closed.failed", ev.close.code, ev.close.name) : T("lab.tl.closed"));
    case "note":
      return who + (ev.note_key && T.has("lab." + ev.note_key) ? T("lab." + ev.note_key) : ev.note);
    case "session":
      return T("lab.tl.session");
  }
  return ev.kind;
}

function addEvent(ev) {
  if (ev.seq <= lastSeq) return; // already seen (a reconnect replays nothing twice, but be sure)
  lastSeq = ev.seq;
  if (ev.kind === "session") {
    sessionId = ev.session.id;
    showShare();
  }
  if (ev.kind === "handshake" && ev.conn === "lab") showLabHandshake(ev);
  if (ev.kind === "closed" && ev.conn === "lab") {
    labClosed = true;
    setStatus(mode === "watch" ? "lab.status.watchclosed" : "lab.status.closed");
  }
  events.push(ev);
  const li = el("li", {
    role: "option", id: "ev-" + ev.seq, class: "lab-ev k-" + ev.kind + (ev.dir ? " d-" + ev.dir : "") + (ev.conn !== "lab" ? " from-script" : ""),
    dataset: { seq: ev.seq, kind: ev.kind, dir: ev.dir || "", conn: ev.conn },
    "aria-selected": "false",
  });
  if (ev.frame) {
    li.dataset.opcode = ev.frame.opcode;
    li.dataset.length = ev.frame.length;
    li.dataset.hex = ev.frame.hex;
  }
  const arrow = ev.dir === "in" ? "→" : ev.dir === "out" ? "←" : "•";
  li.append(
    el("span", { class: "lab-ev-dir", title: ev.dir ? T("lab.dir." + ev.dir) : "", text: arrow }),
    el("span", { class: "lab-ev-what", text: entryLabel(ev) }),
    el("time", { class: "lab-ev-time", text: fmtMs(ev.ms) }),
  );
  li.addEventListener("click", () => { select(events.indexOf(ev), true); });
  list.append(li);
  if (events.length > MAX_EVENTS) {
    events.shift();
    list.firstElementChild.remove();
    if (selected > 0) selected--;
  }
  if (follow && (ev.kind === "frame" || ev.kind === "bytes" || selected < 0 || ev.conn !== "lab")) {
    select(events.length - 1, false);
  }
}

function select(i, byUser) {
  if (i < 0 || i >= events.length) return;
  const prev = list.querySelector('[aria-selected="true"]');
  if (prev) prev.setAttribute("aria-selected", "false");
  selected = i;
  const ev = events[i];
  const li = document.getElementById("ev-" + ev.seq);
  li.setAttribute("aria-selected", "true");
  list.setAttribute("aria-activedescendant", li.id);
  li.scrollIntoView({ block: "nearest" });
  if (byUser) follow = i === events.length - 1;
  showDetail(ev);
}

function showDetail(ev) {
  detail.replaceChildren();
  const when = new Date(ev.time);
  const head = el("p", { class: "lab-detail-head" },
    el("strong", { text: ev.dir ? T("lab.dir." + ev.dir) : T("lab.kind." + ev.kind) }),
    " · ", el("time", { datetime: ev.time, text: when.toLocaleTimeString(lang === "zh" ? "zh-CN" : "en-GB", { hour12: false }) + "." + String(when.getMilliseconds()).padStart(3, "0") }),
    " · " + T("lab.detail.since", fmtMs(ev.ms)));
  if (ev.conn !== "lab") head.append(" · ", el("span", { class: "lab-badge", text: T("lab.conn.bad", ev.conn.slice(4)) }));
  detail.append(head);
  if (ev.frame) {
    if (ev.frame.stream_offset) detail.append(el("p", { class: "lab-muted", text: T("lab.detail.offset", ev.frame.stream_offset) }));
    detail.append(renderFrame(T, ev.frame, { lang, embed }));
  } else if (ev.handshake) {
    const explain = el("div", { class: "lab-explain", role: "status", text: T("lab.hs.hover") });
    detail.append(renderHandshake(T, ev.handshake, explain), explain);
    if (!ev.handshake.exact) detail.append(el("p", { class: "lab-muted", text: T("lab.hs.notexact") }));
  } else if (ev.bytes) {
    detail.append(el("pre", { class: "lab-raw", text: ev.bytes.hex }), el("p", { class: "bad", text: ev.bytes.error || "" }));
  } else {
    detail.append(el("p", { text: entryLabel(ev) }));
    if (ev.close && ev.close.reason) detail.append(el("p", null, T("lab.detail.reason") + " ", el("q", { text: ev.close.reason })));
  }
}

// Keyboard: the timeline is a listbox.
list.addEventListener("keydown", (e) => {
  let i = selected;
  switch (e.key) {
    case "ArrowDown": case "j": i++; break;
    case "ArrowUp": case "k": i--; break;
    case "Home": i = 0; break;
    case "End": i = events.length - 1; break;
    case "PageDown": i += 10; break;
    case "PageUp": i -= 10; break;
    default: return;
  }
  e.preventDefault();
  select(Math.max(0, Math.min(events.length - 1, i)), true);
});

// ---- the lab's own handshake ---------------------------------------------

let reqEv = null;
function showLabHandshake(ev) {
  const side = document.getElementById(ev.dir === "in" ? "lab-hs-req" : "lab-hs-res");
  const explain = document.getElementById("lab-hs-explain");
  side.replaceChildren(renderHandshake(T, ev.handshake, explain));
  if (!ev.handshake.exact) side.append(el("p", { class: "lab-muted", text: T("lab.hs.notexact") }));
  if (ev.dir === "in") reqEv = ev;
  if (ev.dir === "out" && reqEv && reqEv.handshake.derivation) {
    const acc = ev.handshake.lines.find((l) => l.name && l.name.toLowerCase() === "sec-websocket-accept");
    document.getElementById("lab-derivation").replaceChildren(renderDerivation(T, reqEv.handshake.derivation, acc ? acc.value : null));
  }
  hsBox.hidden = false;
}

// ---- sharing ---------------------------------------------------------------

function showShare() {
  if (!shareBox || mode !== "lab") return;
  const url = location.origin + "/" + lang + "/watch/" + sessionId;
  const a = document.getElementById("lab-watch-link");
  a.href = url;
  a.textContent = url;
  shareBox.hidden = false;
}

// ---- event stream ----------------------------------------------------------

function openStream() {
  if (es) es.close();
  es = new EventSource("/api/lab/events/" + encodeURIComponent(sessionId));
  es.onmessage = (m) => {
    let ev;
    try { ev = JSON.parse(m.data); } catch { return; }
    addEvent(ev);
  };
  es.addEventListener("watchers", (m) => {
    const n = Number(m.data) || 0;
    const w = document.getElementById("lab-watchers");
    if (!w) return;
    // The owner's own page holds one of the streams.
    const others = mode === "lab" ? Math.max(0, n - 1) : n;
    w.textContent = T(mode === "lab" ? "lab.share.watching" : "lab.watch.count", others);
    w.dataset.count = others;
  });
  es.addEventListener("lost", (m) => {
    list.append(el("li", { class: "lab-ev lost", text: T("lab.tl.lost", m.data) }));
  });
  es.onerror = () => {
    if (es.readyState === EventSource.CLOSED) setStatus("lab.status.streamgone");
    // Otherwise EventSource reconnects by itself, with Last-Event-ID.
  };
}

// ---- the lab socket --------------------------------------------------------

function connect() {
  events = []; lastSeq = 0; selected = -1; follow = true; labClosed = false; reqEv = null;
  list.replaceChildren(); detail.replaceChildren(el("p", { class: "lab-muted", text: T("lab.detail.empty") }));
  setStatus("lab.status.connecting");
  const scheme = location.protocol === "https:" ? "wss://" : "ws://";
  ws = new WebSocket(scheme + location.host + "/ws/lab");
  ws.binaryType = "arraybuffer";
  let first = true;
  ws.onmessage = (m) => {
    if (first && typeof m.data === "string") {
      first = false;
      try {
        const w = JSON.parse(m.data);
        if (w.lab === "session") {
          sessionId = w.id;
          openStream();
          setStatus("lab.status.open");
          return;
        }
      } catch { /* not the welcome */ }
    }
  };
  let opened = false;
  ws.addEventListener("open", () => { opened = true; });
  ws.onclose = (e) => {
    if (!opened) setStatus("lab.status.refused");
    else setStatus("lab.status.closedcode", e.code, e.reason || "—");
    setControls(false);
  };
  ws.onerror = () => setStatus("lab.status.error");
  ws.onopen = () => setControls(true);
}

function setControls(on) {
  document.querySelectorAll("[data-needs-socket]").forEach((b) => { b.disabled = !on; });
  const again = document.getElementById("lab-again");
  if (again) again.hidden = on;
}

function send(data) {
  if (!ws || ws.readyState !== WebSocket.OPEN) { setStatus("lab.status.notopen"); return; }
  const size = typeof data === "string" ? new TextEncoder().encode(data).length : data.byteLength;
  if (size > maxMessage) { setStatus("lab.status.toobig", size, maxMessage); return; }
  ws.send(data);
}

function pattern(n) {
  const s = "0123456789abcdefghijklmnopqrstuvwxyz";
  let out = "";
  while (out.length < n) out += s;
  return out.slice(0, n);
}

function wireControls() {
  const form = document.getElementById("lab-send");
  const text = document.getElementById("lab-text");
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    send(text.value);
  });
  document.querySelectorAll("[data-size]").forEach((b) => b.addEventListener("click", () => {
    const n = Number(b.dataset.size);
    if (b.dataset.binary) {
      const buf = new Uint8Array(n);
      for (let i = 0; i < n; i++) buf[i] = i & 0xff;
      send(buf.buffer);
    } else send(pattern(n));
  }));
  document.getElementById("lab-file").addEventListener("change", async (e) => {
    const file = e.target.files[0];
    if (!file) return;
    if (file.size > maxMessage) { setStatus("lab.status.toobig", file.size, maxMessage); return; }
    send(await file.arrayBuffer());
    e.target.value = "";
  });
  document.getElementById("lab-ping").addEventListener("click", () => send("/ping"));
  document.getElementById("lab-fragment").addEventListener("click", () => send("/fragment " + (text.value || T("lab.fragment.default"))));
  const code = document.getElementById("lab-close-code");
  const reason = document.getElementById("lab-close-reason");
  document.getElementById("lab-close-server").addEventListener("click", () => send("/close " + code.value + " " + reason.value));
  document.getElementById("lab-close-browser").addEventListener("click", () => {
    try {
      ws.close(Number(code.value), reason.value);
    } catch (err) {
      // Browsers only let pages send 1000 or 3000–4999 (WHATWG WebSockets).
      setStatus("lab.status.badclosecode", code.value);
    }
  });
  document.getElementById("lab-bad-run").addEventListener("click", () => {
    send("/bad " + document.getElementById("lab-bad-script").value);
  });
  document.getElementById("lab-again").addEventListener("click", connect);
  const copyBtn = document.getElementById("lab-watch-copy");
  if (copyBtn) copyBtn.addEventListener("click", () => copyText(copyBtn, document.getElementById("lab-watch-link").href, T));
}

// Leaving the page closes the socket and the stream at once, so the session
// stops counting against this address's limit (a page kept in the
// back/forward cache would otherwise hold them open), and reopens them when
// the page comes back.
window.addEventListener("pagehide", () => {
  if (ws && ws.readyState <= WebSocket.OPEN) ws.close(1000, "page closed");
  if (es) es.close();
});
window.addEventListener("pageshow", (e) => {
  if (!e.persisted) return;
  if (mode === "watch") openStream(); else connect();
});

if (mode === "watch") {
  setStatus("lab.status.watching");
  openStream();
} else {
  wireControls();
  connect();
}
