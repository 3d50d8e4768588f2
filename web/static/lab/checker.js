// The handshake checker: paste what an intercepting proxy shows, learn
// whether the Accept is right (and if not, which mistake made it), whether
// the subprotocol answer is legal, and what the Origin handling means.
import { el, strings, renderHandshake, renderDerivation } from "./grid.js";

const root = document.getElementById("lab-app");
const T = strings(root);
const req = document.getElementById("chk-req");
const res = document.getElementById("chk-res");
const out = document.getElementById("chk-out");

const examples = {
  // The mismatched pair from https://github.com/Links2004/arduinoWebSockets/issues/604.
  bad: ["GET /ws HTTP/1.1\nHost: 192.168.4.1:81\nUpgrade: websocket\nConnection: Upgrade\nSec-WebSocket-Key: RCYYiihv1c5j+qglR6C5oA==\nSec-WebSocket-Version: 13",
    "HTTP/1.1 101 Switching Protocols\nUpgrade: websocket\nConnection: Upgrade\nSec-WebSocket-Accept: QEFMhxzLTip8aJkbmocIGNEeOB8="],
  rfc: ["GET /chat HTTP/1.1\nHost: server.example.com\nUpgrade: websocket\nConnection: Upgrade\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\nOrigin: http://example.com\nSec-WebSocket-Protocol: chat, superchat\nSec-WebSocket-Version: 13",
    "HTTP/1.1 101 Switching Protocols\nUpgrade: websocket\nConnection: Upgrade\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\nSec-WebSocket-Protocol: chat"],
  cswsh: ["GET /notifications HTTP/1.1\nHost: bank.example\nUpgrade: websocket\nConnection: Upgrade\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\nSec-WebSocket-Version: 13\nOrigin: https://attacker.example\nCookie: session=4f2a9c",
    "HTTP/1.1 101 Switching Protocols\nUpgrade: websocket\nConnection: Upgrade\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="],
};

function finding(f) {
  const k = "lab." + f.key;
  let text = T.has(k) ? T(k, ...(f.args || [])) : f.text;
  if (f.key === "check.accept_bad" && f.args) {
    const m = "lab.mistake." + (f.args[2] || "unknown");
    text += " " + (T.has(m) ? T(m) : f.text);
  }
  const li = el("li", { class: "lab-finding lvl-" + f.level, dataset: { topic: f.topic, key: f.key } });
  li.append(el("span", { class: "lab-finding-icon", "aria-hidden": "true", text: f.level === "ok" ? "✔" : f.level === "bad" ? "✘" : "!" }));
  const body = el("div");
  body.append(el("strong", { text: T("lab.checker.topic." + f.topic) }), el("p", { text }));
  li.append(body);
  return li;
}

async function check() {
  out.replaceChildren(el("p", { class: "lab-muted", text: T("lab.checker.working") }));
  try {
    const r = await fetch("/api/lab/check-handshake", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ request: req.value, response: res.value }) });
    const d = await r.json();
    if (!r.ok) throw new Error(d.error || r.statusText);
    out.replaceChildren();
    const ul = el("ul", { class: "lab-findings", id: "chk-findings" });
    d.findings.forEach((f) => ul.append(finding(f)));
    out.append(el("h2", { text: T("lab.checker.findings") }), ul);
    if (d.derivation) {
      let seen = null;
      if (d.response) {
        const l = d.response.lines.find((x) => x.name && x.name.toLowerCase() === "sec-websocket-accept");
        if (l) seen = l.value;
      }
      out.append(el("h2", { text: T("lab.derive.title.checker") }), renderDerivation(T, d.derivation, seen, { given: true }));
    }
    const explain = el("div", { class: "lab-explain", role: "status", text: T("lab.hs.hover") });
    const pair = el("div", { class: "lab-hs-pair" });
    if (d.request) pair.append(el("div", null, el("h3", { text: T("lab.hs.request") }), renderHandshake(T, d.request, explain)));
    if (d.response) pair.append(el("div", null, el("h3", { text: T("lab.hs.response") }), renderHandshake(T, d.response, explain)));
    out.append(el("h2", { text: T("lab.checker.lines") }), pair, explain);
  } catch (e) {
    out.replaceChildren(el("p", { class: "bad", text: e.message }));
  }
}

document.getElementById("chk-form").addEventListener("submit", (e) => { e.preventDefault(); check(); });
for (const [name, [q, a]] of Object.entries(examples)) {
  document.getElementById("chk-ex-" + name).addEventListener("click", () => { req.value = q; res.value = a; check(); });
}
