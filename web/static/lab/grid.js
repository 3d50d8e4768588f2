// Drawing annotated frames and handshakes. Everything here builds DOM nodes
// and sets textContent: nothing that came from the wire or from a learner is
// ever parsed as HTML.

// el("div", {class: "x", dataset: {a: 1}}, child, "text") → an element.
export function el(tag, attrs, ...children) {
  const n = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "class") n.className = v;
      else if (k === "text") n.textContent = v;
      else if (k === "dataset") Object.assign(n.dataset, v);
      else if (k.startsWith("on")) n.addEventListener(k.slice(2), v);
      else n.setAttribute(k, v === true ? "" : String(v));
    }
  }
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    n.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return n;
}

// Strings: the page's catalogue, passed in data-strings; {0} {1} are arguments.
export function strings(root) {
  let cat = {};
  try { cat = JSON.parse(root.dataset.strings || "{}"); } catch { /* keep empty */ }
  const T = (key, ...args) => {
    let s = Object.prototype.hasOwnProperty.call(cat, key) ? cat[key] : key;
    args.forEach((a, i) => { s = s.split("{" + i + "}").join(String(a)); });
    return s;
  };
  T.has = (key) => Object.prototype.hasOwnProperty.call(cat, key);
  return T;
}

export function hexToBytes(h) {
  const out = new Uint8Array(h.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(h.substr(2 * i, 2), 16);
  return out;
}

export const hex2 = (b) => b.toString(16).padStart(2, "0");

export function spacedHex(h) {
  return (h.match(/../g) || []).join(" ");
}

// A visible stand-in for a byte as a character.
export function charOf(b) {
  if (b === 0x20) return "␣";
  if (b >= 0x21 && b < 0x7f) return String.fromCharCode(b);
  return "·";
}

// The colour class of a field.
export function fieldClass(name) {
  switch (name) {
    case "fin": return "f-fin";
    case "rsv1": case "rsv2": case "rsv3": return "f-rsv";
    case "opcode": return "f-op";
    case "mask": return "f-mask";
    case "payload_length": case "payload_length_ext_16": case "payload_length_ext_64": return "f-len";
    case "masking_key": return "f-key";
    case "close.status_code": return "f-code";
    case "close.reason": return "f-reason";
    default: return "f-pay";
  }
}

// The translated name of a field, and its explanation.
export function fieldName(T, name) {
  const k = "lab.field." + name;
  return T.has(k) ? T(k) : name;
}
function fieldHelp(T, name) {
  const k = "lab.fieldhelp." + name;
  return T.has(k) ? T(k) : "";
}

function opcodeLabel(T, f) {
  const k = "lab.op." + f.opcode;
  return T.has(k) ? T(k) : f.opcode_name;
}

// One line saying what a frame is.
export function frameSummary(T, f) {
  const parts = [opcodeLabel(T, f)];
  parts.push(f.fin ? "FIN" : T("lab.summary.notfin"));
  if (f.masked) parts.push(T("lab.summary.masked"));
  parts.push(T("lab.summary.payload", f.payload_length));
  if (f.complete) parts.push(T("lab.summary.wire", f.length));
  return parts.join(" · ");
}

// renderFrame draws one frame: bits of bytes 0 and 1, one cell per byte
// coloured by field (masked payload bytes with the key byte under them and
// the unmasked result under that), the fields in words, the text, problems.
// opts: {lang, decoderLink: bool, copy: bool}
export function renderFrame(T, f, opts = {}) {
  const raw = hexToBytes(f.hex);
  const base = f.offset || 0;
  const fields = f.fields || [];
  const owner = new Array(raw.length).fill(-1);
  fields.forEach((fl, i) => {
    if (fl.bits !== 255 && fl.length === 1) return; // bit fields: byte 0/1, drawn in the bit view
    for (let j = fl.offset - base; j < fl.offset - base + fl.length && j < raw.length; j++) if (j >= 0) owner[j] = i;
  });
  const key = f.masking_key ? hexToBytes(f.masking_key) : null;
  const payload = f.payload ? hexToBytes(f.payload) : new Uint8Array(0);
  const payloadField = fields.find((fl) => fl.name === "masked_payload" || fl.name === "payload");
  let payloadStart = raw.length;
  if (payloadField) payloadStart = payloadField.offset - base;
  const cs = fields.find((fl) => fl.name === "close.status_code");
  if (cs) payloadStart = Math.min(payloadStart, cs.offset - base);

  const view = el("div", { class: "lab-frame", dataset: { opcode: f.opcode, length: f.length } });
  view.append(el("p", { class: "lab-frame-summary", text: frameSummary(T, f) }));

  // Bits of bytes 0 and 1.
  if (raw.length >= 1) {
    const bits = el("div", { class: "lab-bits", role: "group", "aria-label": T("lab.bits.label") });
    for (let b = 0; b < Math.min(2, raw.length); b++) {
      const row = el("div", { class: "lab-bitrow" });
      row.append(el("span", { class: "lab-bitbyte", text: T("lab.bits.byte", b) + " = " + hex2(raw[b]) }));
      const cells = el("div", { class: "lab-bitcells" });
      let i = 0;
      while (i < 8) {
        const mask = 0x80 >> i;
        const fl = fields.find((x) => x.offset - base === b && x.length === 1 && x.bits !== 255 && (x.bits & mask));
        let span = 1;
        if (fl) { while (i + span < 8 && (fl.bits & (0x80 >> (i + span)))) span++; }
        const group = el("span", { class: "lab-bitgroup " + (fl ? fieldClass(fl.name) : ""), style: null, title: fl ? fieldName(T, fl.name) + ": " + fl.value : "" });
        group.dataset.span = span;
        const digits = el("span", { class: "lab-bitdigits" });
        for (let k = 0; k < span; k++) digits.append(el("b", { text: (raw[b] & (0x80 >> (i + k))) ? "1" : "0" }));
        group.append(digits, el("small", { text: fl ? shortName(T, fl.name) : "" }));
        group.classList.add("span-" + span);
        cells.append(group);
        i += span;
      }
      row.append(cells);
      bits.append(row);
    }
    view.append(bits);
  }

  // The byte grid.
  const grid = el("div", { class: "lab-bytes", role: "list", "aria-label": T("lab.bytes.label") });
  for (let j = 0; j < raw.length; j++) {
    const fi = owner[j];
    const fl = fi >= 0 ? fields[fi] : null;
    let cls = "lab-cell " + (j < 2 ? "f-head" : fl ? fieldClass(fl.name) : "f-rest");
    const cell = el("span", { class: cls, role: "listitem", dataset: { i: j } });
    cell.append(el("b", { text: hex2(raw[j]) }));
    const pi = j - payloadStart;
    if (pi >= 0 && (fl && (fl.name === "masked_payload" || fl.name === "payload" || fl.name.startsWith("close.")))) {
      if (key) {
        cell.classList.add("masked");
        cell.append(el("i", { text: "⊕" + hex2(key[pi % 4]) }));
      }
      if (pi < payload.length) {
        if (key) cell.append(el("u", { text: hex2(payload[pi]) }));
        cell.append(el("s", { text: charOf(payload[pi]) }));
      }
    }
    cell.title = (j < 2 ? T("lab.bits.byte", j) : fl ? fieldName(T, fl.name) : T("lab.field.rest")) + " · " + T("lab.bytes.offset", j);
    grid.append(cell);
  }
  if (f.shown < f.length || (!f.complete && f.payload_length > 0 && raw.length < f.length)) {
    grid.append(el("span", { class: "lab-more", text: T("lab.bytes.more", f.length - f.shown) }));
  }
  if (key) view.append(el("p", { class: "lab-maskrow-help", text: T("lab.bytes.maskhelp") }));
  view.append(grid);

  // Fields in words.
  const dl = el("dl", { class: "lab-fields" });
  for (const fl of fields) {
    const rel = fl.offset - base;
    const where = fl.bits !== 255 && fl.length === 1
      ? T("lab.fields.bits", rel, bitsText(fl.bits))
      : fl.length === 1 ? T("lab.fields.byte", rel) : T("lab.fields.bytes", rel, rel + fl.length - 1);
    const dt = el("dt", null, el("span", { class: "swatch " + fieldClass(fl.name) }), fieldName(T, fl.name), el("small", { text: " " + where }));
    const dd = el("dd", null, el("code", { text: fl.value }));
    const help = fieldHelp(T, fl.name);
    if (help) dd.append(el("span", { class: "lab-help", text: " " + help }));
    if (fl.note && T("lab.lang") === "en" && /^(opcode|payload|masked_payload|payload_length.*|close\..*)$/.test(fl.name)) dd.append(el("span", { class: "lab-note", text: " (" + fl.note + ")" }));
    dl.append(dt, dd);
  }
  view.append(dl);

  if (f.text !== null && f.text !== undefined) {
    view.append(el("p", { class: "lab-text" }, el("span", { text: T("lab.frame.text") + " " }), el("q", { class: "lab-text-value", text: f.text })));
  }
  if (f.problems && f.problems.length) {
    const ul = el("ul", { class: "lab-problems" });
    for (const p of f.problems) ul.append(el("li", { text: T("lab.frame.problem", p.code) + " " + p.reason }));
    view.append(ul);
  }
  if (opts.actions !== false) {
    const bar = el("div", { class: "lab-actions" });
    const full = f.shown >= f.length;
    bar.append(el("button", { type: "button", class: "button small", text: T("lab.frame.copy"), onclick: (e) => copyText(e.currentTarget, spacedHex(f.hex), T) }));
    if (full && opts.lang && opts.decoderLink !== false && f.hex.length <= 8192) {
      bar.append(el("a", { class: "button small", href: "/" + opts.lang + "/decoder#" + f.hex, target: opts.embed ? "_blank" : null, text: T("lab.frame.decoder") }));
    }
    view.append(bar);
  }
  return view;
}

function shortName(T, name) {
  const k = "lab.short." + name;
  return T.has(k) ? T(k) : name;
}

function bitsText(bits) {
  const out = [];
  for (let i = 0; i < 8; i++) if (bits & (0x80 >> i)) out.push(i);
  return out.length === 1 ? String(out[0]) : out[0] + "–" + out[out.length - 1];
}

// Copy text; fall back to selecting it where the clipboard API is not
// available (plain http on a LAN is not a secure context).
export async function copyText(btn, text, T) {
  let ok = false;
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      ok = true;
    }
  } catch { /* fall through */ }
  if (!ok) {
    const ta = el("textarea", { class: "lab-copybuf", readonly: true });
    ta.value = text;
    document.body.append(ta);
    ta.select();
    try { ok = document.execCommand("copy"); } catch { ok = false; }
    ta.remove();
  }
  const old = btn.textContent;
  btn.textContent = ok ? T("lab.copied") : T("lab.copyfailed");
  setTimeout(() => { btn.textContent = old; }, 1500);
}

// renderHandshake draws a request or response head line by line; each line
// explains itself on hover, focus or tap in the explain box.
export function renderHandshake(T, hs, explainBox) {
  const pre = el("div", { class: "lab-hs", role: "list" });
  const show = (l) => {
    explainBox.replaceChildren();
    const value = l.hidden ? T("lab.hs.hidden.value", l.hidden) : l.value;
    const head = l.name ? l.name + ": " + value : l.value || T("lab.hs.kind." + l.kind);
    explainBox.append(el("strong", { text: head }));
    const rk = "lab.hsr." + l.kind;
    const k = isResponse && T.has(rk) ? rk : "lab.hs." + l.kind;
    explainBox.append(el("p", { text: T.has(k) ? T(k) : l.note }));
    // A credential (Cookie, Authorization…): the server never publishes its value.
    if (l.hidden) explainBox.append(el("p", { text: T("lab.hs.hidden", l.hidden) }));
    if (l.problem) explainBox.append(el("p", { class: "bad", text: "⚠ " + l.problem }));
  };
  const raw = hs.raw;
  const isResponse = hs.lines.length > 0 && hs.lines[0].kind === "status-line";
  for (const l of hs.lines) {
    let text = raw.substr(l.offset, l.length);
    const ending = text.endsWith("\r\n") ? "\r\n" : "";
    text = text.slice(0, text.length - ending.length);
    if (l.hidden) text = l.name + ": " + T("lab.hs.hidden.value", l.hidden);
    const line = el("span", { class: "lab-hs-line k-" + l.kind + (l.problem ? " problem" : ""), role: "listitem", tabindex: 0, dataset: { kind: l.kind } });
    line.append(el("span", { class: "lab-hs-text", text: text || " " }));
    if (ending) line.append(el("span", { class: "crlf", "aria-hidden": "true", text: "↵", title: "CR LF" }));
    const act = () => {
      pre.querySelectorAll(".active").forEach((x) => x.classList.remove("active"));
      line.classList.add("active");
      show(l);
    };
    line.addEventListener("mouseenter", act);
    line.addEventListener("focus", act);
    line.addEventListener("click", act);
    pre.append(line);
  }
  return pre;
}

// acceptInBrowser recomputes Sec-WebSocket-Accept here: Web Crypto where
// the page is a secure context (https, localhost), else our own SHA-1.
export async function acceptInBrowser(key) {
  const data = new TextEncoder().encode(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
  let digest, how;
  if (window.crypto && crypto.subtle && window.isSecureContext) {
    digest = new Uint8Array(await crypto.subtle.digest("SHA-1", data));
    how = "webcrypto";
  } else {
    digest = sha1(data);
    how = "js";
  }
  let bin = "";
  for (const b of digest) bin += String.fromCharCode(b);
  return { accept: btoa(bin), sha1: Array.from(digest, hex2).join(""), how };
}

// sha1 is FIPS 180-4 SHA-1, for pages served over plain http where Web
// Crypto is not available.
export function sha1(msg) {
  const ml = msg.length;
  const withPad = new Uint8Array(((ml + 9 + 63) >> 6) << 6);
  withPad.set(msg);
  withPad[ml] = 0x80;
  const dv = new DataView(withPad.buffer);
  dv.setUint32(withPad.length - 4, ml * 8 >>> 0);
  dv.setUint32(withPad.length - 8, Math.floor(ml * 8 / 2 ** 32));
  let h0 = 0x67452301, h1 = 0xefcdab89, h2 = 0x98badcfe, h3 = 0x10325476, h4 = 0xc3d2e1f0;
  const w = new Uint32Array(80);
  for (let off = 0; off < withPad.length; off += 64) {
    for (let i = 0; i < 16; i++) w[i] = dv.getUint32(off + 4 * i);
    for (let i = 16; i < 80; i++) { const x = w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]; w[i] = (x << 1) | (x >>> 31); }
    let a = h0, b = h1, c = h2, d = h3, e = h4;
    for (let i = 0; i < 80; i++) {
      let f, k;
      if (i < 20) { f = (b & c) | (~b & d); k = 0x5a827999; }
      else if (i < 40) { f = b ^ c ^ d; k = 0x6ed9eba1; }
      else if (i < 60) { f = (b & c) | (b & d) | (c & d); k = 0x8f1bbcdc; }
      else { f = b ^ c ^ d; k = 0xca62c1d6; }
      const t = (((a << 5) | (a >>> 27)) + f + e + k + w[i]) >>> 0;
      e = d; d = c; c = (b << 30) | (b >>> 2); b = a; a = t;
    }
    h0 = (h0 + a) >>> 0; h1 = (h1 + b) >>> 0; h2 = (h2 + c) >>> 0; h3 = (h3 + d) >>> 0; h4 = (h4 + e) >>> 0;
  }
  const out = new Uint8Array(20);
  const ov = new DataView(out.buffer);
  [h0, h1, h2, h3, h4].forEach((h, i) => ov.setUint32(4 * i, h));
  return out;
}

// renderDerivation shows the Accept computed from the key, step by step,
// and checks it in the browser. seen is the Accept the response carried.
export function renderDerivation(T, d, seen, opts = {}) {
  const box = el("div", { class: "lab-derive" });
  const steps = el("ol", { class: "lab-derive-steps" });
  steps.append(
    el("li", null, el("span", { text: T(opts.given ? "lab.derive.keygiven" : "lab.derive.key") + " " }), el("code", { text: d.key })),
    el("li", null, el("span", { text: T("lab.derive.concat") + " " }), el("code", { class: "wrap", text: d.concatenated })),
    el("li", null, el("span", { text: T("lab.derive.sha1") + " " }), el("code", { class: "wrap", text: d.sha1_hex })),
    el("li", null, el("span", { text: T("lab.derive.base64") + " " }), el("code", { text: d.accept })),
  );
  box.append(steps);
  if (seen !== undefined && seen !== null) {
    const match = seen.trim() === d.accept;
    box.append(el("p", { class: match ? "ok" : "bad", text: (match ? "✔ " : "✘ ") + T(match ? "lab.derive.match" : "lab.derive.mismatch", seen) }));
  }
  const mine = el("p", { class: "lab-browser-check", role: "status", text: T("lab.derive.checking") });
  box.append(mine);
  acceptInBrowser(d.key).then((r) => {
    const agree = r.accept === d.accept;
    mine.className = "lab-browser-check " + (agree ? "ok" : "bad");
    mine.textContent = (agree ? "✔ " : "✘ ") + T(agree ? "lab.derive.agree." + r.how : "lab.derive.disagree", r.accept);
    mine.dataset.agree = agree ? "1" : "0";
  }).catch(() => { mine.textContent = T("lab.derive.nocrypto"); });
  return box;
}
