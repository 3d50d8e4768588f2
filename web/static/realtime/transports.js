// The five ways of getting the feed into a browser. Each client calls
// onEvent(event, receivedAt) for every event, in order, once; and
// onState(state) with "connecting" | "open" | "waiting" | "closed" (or the
// state stop was given).
//
// stop() releases everything the technique holds on to, at once: a page that
// keeps long-lived HTTP requests open while nobody looks at it eats into the
// browser's six connections per host (HTTP/1.1), and with two such tabs every
// other page of the site hangs. Each start() begins a new generation: callbacks
// of an older one (a late onclose, an aborted fetch) see it is over and stop.
// Nothing here is clever on purpose: each is the technique as a web
// developer would have written it in its day.

export class Client {
  constructor(technique, opts) {
    this.technique = technique;
    this.api = opts.api;
    this.sid = opts.sid;
    this.onEvent = opts.onEvent;
    this.onState = opts.onState || (() => {});
    this.interval = opts.interval || 500;
    this.timeout = opts.timeout || 20000;
    this.last = null; // last event ID received; null = start from now
    this.running = false;
    this.gen = 0;
  }
  // live says whether generation g is still the current, running one.
  live(g) { return this.running && this.gen === g; }
  url(path, extra = "") {
    let u = `${this.api}/${path}?sid=${encodeURIComponent(this.sid)}`;
    if (this.last !== null) u += `&after=${this.last}`;
    return u + extra;
  }
  deliver(events, at) {
    for (const e of events) {
      if (this.last !== null && e.id <= this.last) continue;
      this.last = e.id;
      this.onEvent(e, at);
    }
  }
  start() {
    if (this.running) return;
    this.running = true;
    const g = ++this.gen;
    this.onState("connecting");
    this.open(g);
  }
  // stop closes the connection; code is the WebSocket close code (1000, or
  // 1001 when the page goes away).
  stop(state = "closed", code = 1000) {
    if (this.running) {
      this.running = false;
      this.gen++;
      this.close(code);
    }
    this.onState(state);
  }
  // send posts a chat message (HTTP techniques); WebSocket overrides it.
  async send(text) {
    const r = await fetch(`${this.api}/send?sid=${encodeURIComponent(this.sid)}&via=${this.technique}`, {
      method: "POST", body: text, headers: { "Content-Type": "text/plain;charset=UTF-8" },
    });
    if (!r.ok) throw new Error(await r.text());
  }
}

// Short polling: ask every interval, whether or not anything happened.
class ShortPolling extends Client {
  open(g) {
    const tick = async () => {
      if (!this.live(g)) return;
      this.timer = setTimeout(tick, this.interval);
      try {
        const r = await fetch(this.url("poll"), { cache: "no-store" });
        const b = await r.json();
        if (!this.live(g)) return;
        if (this.last === null) this.last = b.last;
        this.deliver(b.events, performance.now());
        this.onState("open");
      } catch (err) {
        this.onState("waiting");
      }
    };
    tick();
  }
  close() { clearTimeout(this.timer); }
  setInterval(ms) { this.interval = ms; }
}

// Long polling (Comet): ask, and the server answers only when there is news
// (or at its timeout); ask again at once.
class LongPolling extends Client {
  async open(g) {
    while (this.live(g)) {
      const ctl = (this.ctl = new AbortController());
      try {
        this.onState("open");
        const r = await fetch(this.url("long", `&timeout=${this.timeout}`), { cache: "no-store", signal: ctl.signal });
        const b = await r.json();
        if (!this.live(g)) return;
        if (this.last === null) this.last = b.last;
        this.deliver(b.events, performance.now());
      } catch (err) {
        if (!this.live(g)) return;
        this.onState("waiting");
        await new Promise((res) => { this.retry = setTimeout(res, 1000); });
      }
    }
  }
  close() {
    clearTimeout(this.retry);
    if (this.ctl) { this.ctl.abort(); this.ctl = null; }
  }
}

// The forever frame: a hidden iframe whose document never finishes loading;
// each event arrives as a <script> chunk that hands it to this page.
class IframeStreaming extends Client {
  open(g) {
    this.onMessage = (m) => {
      if (m.origin !== location.origin || !this.frame || m.source !== this.frame.contentWindow) return;
      if (m.data && m.data.learnws === "iframe" && m.data.event) this.deliver([m.data.event], performance.now());
    };
    window.addEventListener("message", this.onMessage);
    // An iframe added before the page's own load event would hold that event
    // (and the browser's busy indicator) forever: start after it.
    if (document.readyState === "complete") this.load(g);
    else window.addEventListener("load", () => this.live(g) && this.load(g), { once: true });
  }
  load(g) {
    if (this.frame) this.frame.remove();
    const f = document.createElement("iframe");
    f.className = "rt-hidden-frame";
    f.title = "forever frame";
    f.setAttribute("aria-hidden", "true");
    f.tabIndex = -1;
    // The document ends only when the server ends the stream: then reconnect.
    f.addEventListener("load", () => {
      if (!this.live(g) || f !== this.frame) return;
      this.onState("waiting");
      this.retry = setTimeout(() => this.live(g) && this.load(g), 1000);
    });
    f.src = this.url("iframe");
    this.frame = f;
    document.body.append(f);
    this.onState("open");
  }
  close() {
    clearTimeout(this.retry);
    window.removeEventListener("message", this.onMessage);
    if (this.frame) { this.frame.src = "about:blank"; this.frame.remove(); this.frame = null; }
  }
}

// Server-Sent Events: the browser's own streaming client, with reconnection
// and Last-Event-ID built in.
class ServerSentEvents extends Client {
  open(g) {
    const es = new EventSource(this.url("sse"));
    es.onopen = () => this.live(g) && this.onState("open");
    es.onerror = () => this.live(g) && this.onState(es.readyState === EventSource.CLOSED ? "closed" : "waiting");
    es.onmessage = (m) => {
      if (!this.live(g)) return;
      const e = JSON.parse(m.data);
      if (this.last === null) this.last = e.id - 1;
      this.deliver([e], performance.now());
    };
    this.es = es;
  }
  close() {
    if (this.es) { this.es.close(); this.es = null; }
  }
}

// WebSocket: one handshake, then frames both ways on the same connection.
class WebSocketClient extends Client {
  open(g) {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(`${proto}//${location.host}${this.url("ws")}`);
    ws.onopen = () => this.live(g) && this.onState("open");
    ws.onmessage = (m) => {
      if (!this.live(g)) return;
      const e = JSON.parse(m.data);
      if (this.last === null) this.last = e.id - 1;
      this.deliver([e], performance.now());
    };
    ws.onclose = () => {
      if (!this.live(g)) return;
      this.onState("waiting");
      this.retry = setTimeout(() => this.live(g) && this.open(g), 1000);
    };
    this.ws = ws;
  }
  close(code = 1000) {
    clearTimeout(this.retry);
    if (this.ws) { this.ws.close(code); this.ws = null; }
  }
  async send(text) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) throw new Error("not connected");
    this.ws.send(text);
  }
}

const kinds = {
  "short-polling": ShortPolling,
  "long-polling": LongPolling,
  "iframe-streaming": IframeStreaming,
  "sse": ServerSentEvents,
  "websocket": WebSocketClient,
};

export function newClient(technique, opts) {
  return new kinds[technique](technique, opts);
}
