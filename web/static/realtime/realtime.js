// The real-time pages: one technique, or all five racing. Figures about the
// wire (requests, connections, bytes, empty responses) come from the server,
// which counts them on the TCP connections; latency is measured here, from
// the event's publication (server clock) to the frame that displays it.
import { newClient } from "./transports.js";
import { lineChart, barChart } from "./chart.js";

const app = document.getElementById("rt-app");
if (app) main(app);

function main(app) {
  const S = JSON.parse(app.dataset.strings || "{}");
  const lang = app.dataset.lang || "en";
  const tr = (k, vars) => (S[k] ?? k).replace(/\{(\w+)\}/g, (_, v) => (vars && v in vars ? vars[v] : ""));
  const num = new Intl.NumberFormat(lang);
  const dec = new Intl.NumberFormat(lang, { maximumFractionDigits: 1 });
  const api = app.dataset.api;
  const sid = newSID();
  app.dataset.sid = sid; // for the browser tests: the server's figures are per sid
  const started = performance.now();
  let offset = 0, bestRTT = Infinity; // server clock − this clock, ms
  const wallNow = () => performance.timeOrigin + performance.now();

  const lanes = new Map();
  for (const el of app.querySelectorAll(".rt-lane[data-technique]")) {
    const t = el.dataset.technique;
    const lane = {
      t, el, lat: [], received: 0, stats: null, queue: [],
      log: el.querySelector(".rt-log"),
      state: el.querySelector(".rt-state"),
      fig: (name) => el.querySelector(`[data-fig="${name}"]`),
      bytesSeries: [], reqSeries: [],
      base: null, // figures of an earlier server session (see pollStats)
    };
    lane.client = newClient(t, {
      api, sid,
      interval: Number(app.dataset.interval) || 500,
      onEvent: (e) => { lane.queue.push(e); paintSoon(); },
      onState: (s) => setState(lane, s),
    });
    lanes.set(t, lane);
  }

  let maxID = null; // the newest event ID shown, to notice a server session that started over
  function setState(lane, s) {
    lane.state.textContent = tr(`state.${s}`);
    lane.state.dataset.state = s;
  }

  // Display: events are drawn in the next animation frame, and the latency
  // is taken then: publication → on screen.
  let painting = false;
  function paintSoon() {
    if (painting) return;
    painting = true;
    requestAnimationFrame(() => {
      painting = false;
      const now = wallNow() + offset;
      for (const lane of lanes.values()) {
        for (const e of lane.queue) {
          const ms = Math.max(0, now - e.t);
          if (maxID === null || e.id > maxID) maxID = e.id;
          lane.received++;
          lane.lat.push(ms);
          if (lane.lat.length > 1000) lane.lat.shift();
          addLog(lane, e, ms);
        }
        if (lane.queue.length) showFigures(lane);
        lane.queue = [];
      }
      fillTable();
    });
  }

  function addLog(lane, e, ms) {
    if (!lane.log) return;
    const li = document.createElement("li");
    li.className = e.kind === "chat" ? "rt-chat" : "rt-tick";
    const id = document.createElement("span");
    id.className = "rt-id";
    id.textContent = `#${e.id}`;
    const text = document.createElement("span");
    text.className = "rt-text";
    text.textContent = e.text;
    const lat = document.createElement("span");
    lat.className = "rt-lat";
    lat.textContent = `${dec.format(ms)} ms`;
    li.append(id, text, lat);
    lane.log.prepend(li);
    while (lane.log.children.length > 8) lane.log.lastChild.remove();
  }

  function pct(xs, p) {
    if (!xs.length) return null;
    const s = [...xs].sort((a, b) => a - b);
    return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
  }

  // sum adds two servers' figures of a technique (a server session forgotten
  // while the page was hidden, then the new one).
  const counted = ["requests", "connections", "bytes_up", "bytes_down", "empty_responses"];
  function sum(a, b) {
    if (!a) return b;
    const out = { ...b };
    for (const k of counted) out[k] = (a[k] ?? 0) + (b?.[k] ?? 0);
    return out;
  }

  function figures(lane) {
    const st = sum(lane.base, lane.stats || {});
    const delivered = Math.max(lane.received, 1);
    return {
      requests: st.requests ?? 0,
      connections: st.connections ?? 0,
      up: st.bytes_up ?? 0,
      down: st.bytes_down ?? 0,
      empty: st.empty_responses ?? 0,
      received: lane.received,
      bpe: lane.received ? ((st.bytes_up ?? 0) + (st.bytes_down ?? 0)) / delivered : null,
      rpe: lane.received ? (st.requests ?? 0) / delivered : null,
      p50: pct(lane.lat, 50),
      p95: pct(lane.lat, 95),
    };
  }

  function showFigures(lane) {
    const f = figures(lane);
    const set = (name, v) => { const el = lane.fig(name); if (el) el.textContent = v; };
    set("requests", num.format(f.requests));
    set("connections", num.format(f.connections));
    set("bytes_up", num.format(f.up));
    set("bytes_down", num.format(f.down));
    set("empty", num.format(f.empty));
    set("received", num.format(f.received));
    set("bpe", f.bpe == null ? "—" : num.format(Math.round(f.bpe)));
    set("p50", f.p50 == null ? "—" : `${dec.format(f.p50)} ms`);
    set("p95", f.p95 == null ? "—" : `${dec.format(f.p95)} ms`);
  }

  // Server figures, once a second while the race runs (every 30 s while it
  // is paused: that keeps the server's session, and so its figures, alive).
  // The same answer gives the clock offset (the shortest round trip wins).
  let statsGen = 0, statsTimer = 0;
  function pollStats(every) {
    const g = ++statsGen;
    clearTimeout(statsTimer);
    const loop = async () => {
      await pollStatsOnce();
      if (g === statsGen) statsTimer = setTimeout(loop, every);
    };
    if (every > 1000) statsTimer = setTimeout(loop, every); // paused: nothing new to ask now
    else loop();
  }
  function stopStats() { statsGen++; clearTimeout(statsTimer); }
  async function pollStatsOnce() {
    const t0 = wallNow();
    try {
      const r = await fetch(`${api}/stats?sid=${encodeURIComponent(sid)}`, { cache: "no-store" });
      const st = await r.json();
      const t1 = wallNow();
      if (t1 - t0 < bestRTT) { bestRTT = t1 - t0; offset = st.server_time - (t0 + t1) / 2; }
      // A session idle for minutes (a tab long hidden) is forgotten by the
      // server: its feed starts again from #1. Keep the figures so far, and
      // reconnect the lanes from the new feed's present.
      if (maxID !== null && st.last < maxID) {
        maxID = null;
        for (const lane of lanes.values()) {
          lane.base = sum(lane.base, lane.stats);
          lane.stats = null;
          lane.client.last = null;
          if (lane.client.running) { lane.client.stop(); lane.client.start(); }
        }
      }
      const elapsed = (performance.now() - started) / 1000;
      for (const s of st.techniques) {
        const lane = lanes.get(s.technique);
        if (!lane) continue;
        lane.stats = s;
        const all = sum(lane.base, s);
        lane.bytesSeries.push([elapsed, all.bytes_up + all.bytes_down]);
        lane.reqSeries.push([elapsed, all.requests]);
        showFigures(lane);
      }
      drawCharts();
      fillTable();
    } catch (err) { /* the server is gone; try again */ }
  }

  // Race page: charts and the one-sentence-per-row table.
  const chartBytes = document.getElementById("rt-chart-bytes");
  const chartReq = document.getElementById("rt-chart-requests");
  const chartLat = document.getElementById("rt-chart-latency");
  const color = (lane) => getComputedStyle(lane.el).getPropertyValue("--rt-c").trim();
  function drawCharts() {
    const ls = [...lanes.values()];
    if (chartBytes) lineChart(chartBytes, ls.map((l) => ({ color: color(l), points: l.bytesSeries })), lang);
    if (chartReq) lineChart(chartReq, ls.map((l) => ({ color: color(l), points: l.reqSeries })), lang);
    if (chartLat) barChart(chartLat, ls.map((l) => {
      const f = figures(l);
      return { label: tr(`short.${l.t}`), color: color(l), a: f.p50, b: f.p95 };
    }), "ms", lang);
  }
  if (chartBytes || chartLat) new ResizeObserver(() => drawCharts()).observe(app);

  const table = document.getElementById("rt-table");
  function fillTable() {
    if (!table) return;
    for (const lane of lanes.values()) {
      const row = table.querySelector(`tbody[data-technique="${lane.t}"]`);
      if (!row) continue;
      const f = figures(lane);
      const cell = (c, v) => { const el = row.querySelector(`[data-col="${c}"]`); if (el) el.textContent = v; };
      cell("requests", num.format(f.requests));
      cell("connections", num.format(f.connections));
      cell("bytes_up", num.format(f.up));
      cell("bytes_down", num.format(f.down));
      cell("bpe", f.bpe == null ? "—" : num.format(Math.round(f.bpe)));
      cell("empty", num.format(f.empty));
      cell("p50", f.p50 == null ? "—" : dec.format(f.p50));
      cell("p95", f.p95 == null ? "—" : dec.format(f.p95));
      const emptyPct = f.requests ? Math.round((100 * f.empty) / f.requests) : 0;
      cell("why", f.received ? tr(`explain.${lane.t}`, {
        rpe: f.rpe == null ? "—" : dec.format(f.rpe),
        bpe: f.bpe == null ? "—" : num.format(Math.round(f.bpe)),
        empty: num.format(emptyPct),
        p50: f.p50 == null ? "—" : dec.format(f.p50),
        interval: num.format(intervalMS()),
        timeout: num.format(timeoutMS() / 1000),
      }) : tr("explain.wait"));
    }
  }

  // Controls.
  const rate = document.getElementById("rt-rate");
  const rateOut = document.getElementById("rt-rate-out");
  const interval = document.getElementById("rt-interval");
  const timeout = document.getElementById("rt-timeout");
  const intervalMS = () => (interval ? Number(interval.value) : Number(app.dataset.interval) || 500);
  const timeoutMS = () => (timeout ? Number(timeout.value) : 20000);
  if (rate) {
    const show = () => { if (rateOut) rateOut.textContent = tr("rate.value", { rate: dec.format(Number(rate.value)) }); };
    show();
    rate.addEventListener("input", show);
    rate.addEventListener("change", () => {
      fetch(`${api}/rate?sid=${encodeURIComponent(sid)}&rate=${rate.value}`, { method: "POST" });
    });
  }
  if (interval) interval.addEventListener("change", () => {
    const l = lanes.get("short-polling");
    if (l) l.client.setInterval(intervalMS());
  });
  if (timeout) timeout.addEventListener("change", () => {
    const l = lanes.get("long-polling");
    if (l) l.client.timeout = timeoutMS();
  });

  // When the lanes run: the learner has not paused them, the page is visible
  // and, in a lesson's demo panel (?embed=1), it has been started (scrolled
  // into view, or the Start button) and is not scrolled far away. Otherwise
  // every connection is closed: HTTP/1.1 browsers open at most six per host,
  // and a race holds three long-lived ones, so two forgotten tabs would leave
  // the rest of the site waiting.
  const embedded = document.documentElement.dataset.embed === "1";
  const toggle = document.getElementById("rt-toggle");
  const note = document.getElementById("rt-pause-note");
  const want = { user: true, visible: document.visibilityState !== "hidden", started: !embedded, near: true };
  const reasonNow = () => (!want.started ? "idle" : !want.visible ? "hidden" : !want.user ? "user" : !want.near ? "offscreen" : "");
  const laneState = { hidden: "hidden", idle: "idle", user: "closed", offscreen: "closed" };
  let running = false, reason = null, hiddenAt = 0, noteTimer = 0;
  function update(code = 1000) {
    const r = reasonNow();
    if (r === reason) return;
    const was = reason;
    reason = r;
    if (r === "hidden") hiddenAt = performance.now();
    running = r === "";
    for (const lane of lanes.values()) (running ? lane.client.start() : lane.client.stop(laneState[r], code));
    app.dataset.run = r || "running";
    if (r === "idle") stopStats(); // not a single request before it is started
    else if (running || r === "user") pollStats(1000);
    else pollStats(30000);
    if (toggle) {
      toggle.textContent = tr(!want.started ? "start" : want.user ? "pause" : "resume");
      toggle.setAttribute("aria-pressed", want.started && !want.user ? "true" : "false");
    }
    if (note) {
      clearTimeout(noteTimer);
      note.textContent = r && r !== "user" ? tr(`note.${r}`) : "";
      note.dataset.kind = r;
      if (was === "hidden" && r === "") {
        // Back from the background: say so for a while (nobody saw the note).
        const sec = Math.round((performance.now() - hiddenAt) / 1000);
        note.textContent = tr("note.resumed", { time: sec < 60 ? tr("time.s", { n: num.format(sec) }) : tr("time.min", { n: dec.format(sec / 60) }) });
        note.dataset.kind = "resumed";
        noteTimer = setTimeout(() => { note.hidden = true; note.textContent = ""; note.dataset.kind = ""; }, 15000);
      }
      note.hidden = !note.textContent;
    }
  }
  if (toggle) toggle.addEventListener("click", () => {
    if (!want.started) want.started = want.near = want.user = true;
    else want.user = !want.user;
    update();
  });
  document.addEventListener("visibilitychange", () => {
    want.visible = document.visibilityState !== "hidden";
    update();
  });
  // Leaving the page (or into the back/forward cache): close with 1001, going away.
  window.addEventListener("pagehide", () => { want.visible = false; update(1001); });
  window.addEventListener("pageshow", (ev) => {
    if (!ev.persisted) return;
    want.visible = document.visibilityState !== "hidden";
    update();
  });
  if (embedded && "IntersectionObserver" in window) {
    // Start when any of it shows; stop when it is more than a screen away.
    new IntersectionObserver((es) => {
      if (es.some((e) => e.isIntersecting)) { want.started = want.near = true; update(); }
    }).observe(app);
    new IntersectionObserver((es) => {
      const e = es[es.length - 1];
      if (!e.isIntersecting) { want.near = false; update(); }
    }, { rootMargin: "100% 0px" }).observe(app);
  }

  const form = document.getElementById("rt-send");
  if (form) form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const input = form.querySelector("input[name=text]");
    const via = form.querySelector("select[name=via]");
    const status = form.querySelector(".rt-send-status");
    const text = input.value.trim();
    if (!text) return;
    const lane = lanes.get(via ? via.value : [...lanes.keys()][0]);
    try {
      await lane.client.send(text);
      input.value = "";
      if (status) status.textContent = tr("sent", { via: tr(`short.${lane.t}`) });
    } catch (err) {
      if (status) status.textContent = tr("send.failed");
    }
  });

  update();
}

function newSID() {
  const b = new Uint8Array(12);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}
