// Small canvas charts drawn by the page itself: no library, no network.
// Colours come from CSS (each series names an element whose --rt-c it uses),
// so the light, dark and projector themes apply.

function setup(canvas) {
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth, h = canvas.clientHeight;
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
  }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  const cs = getComputedStyle(canvas);
  ctx.font = `${cs.fontSize} ${cs.fontFamily}`;
  return { ctx, w, h, fg: cs.color, muted: cs.getPropertyValue("--muted").trim() || "#888", border: cs.getPropertyValue("--border").trim() || "#ccc" };
}

// nice rounds a maximum up to 1, 2 or 5 × 10^n.
function nice(v) {
  if (v <= 0) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}

// niceStep rounds a step up to 1, 2, 2.5 or 5 × 10^n (at least 1: the
// charts count whole things).
function niceStep(v) {
  if (v <= 1) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 2.5, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}

export function compact(n, lang) {
  return new Intl.NumberFormat(lang, { notation: "compact", maximumFractionDigits: 1 }).format(n);
}

// lineChart draws cumulative series: series = [{label, color, points: [[t, v], …]}],
// t in seconds since start.
export function lineChart(canvas, series, lang) {
  const { ctx, w, h, fg, muted, border } = setup(canvas);
  let tMax = 10, vMax = 0;
  for (const s of series) for (const [t, v] of s.points) { tMax = Math.max(tMax, t); vMax = Math.max(vMax, v); }
  // Four gridlines at round values: 0, 2.5K, 5K, 7.5K, 10K; 0, 1, 2, 3, 4.
  const step = niceStep(Math.max(vMax, 4) / 4);
  vMax = step * Math.max(1, Math.ceil(vMax / step));
  const ticks = Math.round(vMax / step);
  // The margins fit the labels as drawn in this font and language ("3.8万",
  // "120K"), so none is cut at the edge.
  const yLabels = Array.from({ length: ticks + 1 }, (_, i) => compact(step * i, lang));
  const padL = Math.ceil(Math.max(...yLabels.map((l) => ctx.measureText(l).width))) + 10;
  const padR = Math.max(10, Math.ceil(ctx.measureText(`${Math.round(tMax)}s`).width / 2) + 2);
  const padT = 10, padB = Math.ceil(parseFloat(getComputedStyle(canvas).fontSize) * 1.4) + 6;
  const x = (t) => padL + (t / tMax) * (w - padL - padR);
  const y = (v) => h - padB - (v / vMax) * (h - padT - padB);
  ctx.strokeStyle = border; ctx.fillStyle = muted; ctx.lineWidth = 1;
  ctx.textAlign = "right"; ctx.textBaseline = "middle";
  for (let i = 0; i <= ticks; i++) {
    const v = step * i, yy = Math.round(y(v)) + 0.5;
    ctx.beginPath(); ctx.moveTo(padL, yy); ctx.lineTo(w - padR, yy); ctx.stroke();
    ctx.fillText(yLabels[i], padL - 6, yy);
  }
  ctx.textAlign = "center"; ctx.textBaseline = "top";
  const tStep = nice(tMax / 5);
  for (let t = 0; t <= tMax; t += tStep) ctx.fillText(`${t}s`, x(t), h - padB + 5);
  ctx.lineWidth = 2.5; ctx.lineJoin = "round";
  for (const s of series) {
    if (!s.points.length) continue;
    ctx.strokeStyle = s.color || fg;
    ctx.setLineDash(s.dash || []);
    ctx.beginPath();
    s.points.forEach(([t, v], i) => (i ? ctx.lineTo(x(t), y(v)) : ctx.moveTo(x(t), y(v))));
    ctx.stroke();
  }
  ctx.setLineDash([]);
}

// barChart draws, per row, a p50 bar and a thinner p95 bar: rows = [{label,
// color, a, b}], with the values printed at the end of each bar.
export function barChart(canvas, rows, unit, lang) {
  const { ctx, w, h, fg, muted } = setup(canvas);
  const text = (r) => (r.a == null ? "—" : `${fmt(r.a, lang)} / ${fmt(r.b, lang)} ${unit}`);
  const padR = Math.max(...rows.map((r) => ctx.measureText(text(r)).width)) + 10;
  // Wide: labels left of the bars. Narrow (a phone): each label above its bar.
  const labelW = Math.max(...rows.map((r) => ctx.measureText(r.label).width)) + 10;
  const stacked = labelW > w * 0.3;
  const padL = stacked ? 2 : labelW;
  const rowH = h / rows.length;
  const vMax = nice(Math.max(1, ...rows.map((r) => Math.max(r.a || 0, r.b || 0))));
  const x = (v) => padL + (v / vMax) * Math.max(10, w - padL - padR);
  ctx.textBaseline = "middle";
  rows.forEach((r, i) => {
    const top = rowH * i;
    const cy = stacked ? top + rowH * 0.68 : top + rowH / 2;
    const bh = stacked ? rowH * 0.4 : rowH * 0.55;
    ctx.fillStyle = fg;
    if (stacked) { ctx.textAlign = "left"; ctx.fillText(r.label, padL, top + rowH * 0.25); }
    else { ctx.textAlign = "right"; ctx.fillText(r.label, padL - 8, cy); }
    if (r.a == null) {
      ctx.fillStyle = muted; ctx.textAlign = "left"; ctx.fillText("—", padL + 4, cy);
      return;
    }
    ctx.fillStyle = r.color;
    ctx.globalAlpha = 0.35;
    ctx.fillRect(padL, cy - bh * 0.22, Math.max(2, x(r.b) - padL), bh * 0.44);
    ctx.globalAlpha = 1;
    ctx.fillRect(padL, cy - bh / 2, Math.max(2, x(r.a) - padL), bh * 0.65);
    ctx.fillStyle = fg; ctx.textAlign = "left";
    ctx.fillText(text(r), Math.max(x(r.a), x(r.b)) + 6, cy);
  });
}

function fmt(v, lang) {
  return new Intl.NumberFormat(lang, { maximumFractionDigits: v < 10 ? 1 : 0 }).format(v);
}
