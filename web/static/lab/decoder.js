// The decoder and the frame builder. Both ask the server (framing.Annotate,
// the same code that serves the lab), so what you see here is what the lab
// and `learnws decode` say about the same bytes.
import { el, strings, renderFrame, hexToBytes, hex2, charOf } from "./grid.js";

const root = document.getElementById("lab-app");
const T = strings(root);
const lang = root.dataset.lang || "en";
const embed = document.documentElement.dataset.embed === "1";

async function post(url, body) {
  const r = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  const j = await r.json();
  if (!r.ok) throw new Error(j.error || r.statusText);
  return j;
}

function restCells(hexStr, label) {
  const grid = el("div", { class: "lab-bytes", role: "list", "aria-label": label });
  const b = hexToBytes(hexStr);
  b.forEach((x, i) => grid.append(el("span", { class: "lab-cell f-rest", role: "listitem", title: label + " · " + i }, el("b", { text: hex2(x) }), el("s", { text: charOf(x) }))));
  return grid;
}

// showDecode draws the decoder's answer in out.
export function showDecode(out, d) {
  out.replaceChildren();
  if (d.hex_error) {
    out.append(el("p", { class: "bad lab-error", text: "✘ " + T("lab.decoder.hexerror", d.hex_error.line, d.hex_error.col, d.hex_error.reason) }));
  }
  if (d.truncated) out.append(el("p", { class: "lab-muted", text: T("lab.decoder.truncated") }));
  const n = d.frames.length + (d.partial ? 1 : 0);
  if (n === 0 && !d.rest) { if (!d.hex_error) out.append(el("p", { class: "lab-muted", text: T("lab.decoder.none") })); return; }
  out.append(el("p", { class: "lab-muted", text: T("lab.decoder.count", d.frames.length, d.hex.length / 2) }));
  d.frames.forEach((f, i) => {
    const sec = el("section", { class: "lab-dec-frame", dataset: { index: i } });
    sec.append(el("h3", { text: T("lab.decoder.frame", i + 1, f.offset, f.offset + f.length - 1) }));
    sec.append(renderFrame(T, f, { lang, embed, decoderLink: false }));
    out.append(sec);
  });
  if (d.partial) {
    const sec = el("section", { class: "lab-dec-frame partial" });
    sec.append(el("h3", { text: T("lab.decoder.partial", d.partial.offset) }));
    sec.append(renderFrame(T, d.partial, { lang, embed, actions: false }));
    out.append(sec);
  } else if (d.rest) {
    out.append(el("h3", { text: T("lab.decoder.rest") }), restCells(d.rest, T("lab.field.rest")));
  }
  if (d.error) out.append(el("p", { class: "bad lab-error", text: "✘ " + d.error }));
  else if (!d.hex_error) out.append(el("p", { class: "ok", text: "✔ " + T("lab.decoder.valid") }));
}

const form = document.getElementById("dec-form");
const input = document.getElementById("dec-hex");
const out = document.getElementById("dec-out");

async function decode() {
  const text = input.value;
  if (!text.trim()) { out.replaceChildren(); return; }
  try {
    showDecode(out, await post("/api/lab/decode", { hex: text }));
    // Keep the bytes in the address bar (after #, never sent to the server).
    const compact = text.replace(/[^0-9a-fA-F]/g, "");
    if (compact.length <= 8192 && /^[0-9a-fA-F\s]*$/.test(text)) history.replaceState(null, "", "#" + compact.toLowerCase());
  } catch (e) {
    out.replaceChildren(el("p", { class: "bad", text: e.message }));
  }
}

form.addEventListener("submit", (e) => { e.preventDefault(); decode(); });
let timer = 0;
input.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(decode, 300); });
document.querySelectorAll("[data-example]").forEach((b) => b.addEventListener("click", () => { input.value = b.dataset.example; decode(); }));

// A permalink: /{lang}/decoder#8185…
if (location.hash.length > 1) {
  input.value = decodeURIComponent(location.hash.slice(1));
  decode();
} else if (input.value.trim()) {
  decode();
}

// ---- the builder -----------------------------------------------------------

const bform = document.getElementById("build-form");
const bout = document.getElementById("build-out");
const closeLabel = bform.querySelector(".build-close");
function syncClose() { closeLabel.hidden = bform.opcode.value !== "8"; }
bform.opcode.addEventListener("change", syncClose);
syncClose();

async function build() {
  const f = bform;
  const body = {
    fin: f.fin.checked, rsv1: f.rsv1.checked, rsv2: f.rsv2.checked, rsv3: f.rsv3.checked,
    opcode: Number(f.opcode.value), mask: f.mask.checked, masking_key: f.masking_key.value.trim(),
    payload: f.payload.value, payload_hex: f.payload_hex.checked, length_form: Number(f.length_form.value),
  };
  if (body.opcode === 8 && f.close_code.value !== "") body.close_code = Number(f.close_code.value);
  try {
    const d = await post("/api/lab/build", body);
    bout.replaceChildren(el("p", null, T("lab.build.bytes") + " ", el("code", { class: "wrap", id: "build-hex", text: (d.hex.match(/../g) || []).join(" ") })));
    const tmp = el("div");
    showDecode(tmp, d);
    bout.append(...tmp.childNodes);
  } catch (e) {
    bout.replaceChildren(el("p", { class: "bad", text: e.message }));
  }
}
bform.addEventListener("submit", (e) => { e.preventDefault(); build(); });
