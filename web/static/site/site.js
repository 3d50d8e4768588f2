// Site behaviour shared by every page: theme and projector toggles, reading progress
// (kept in localStorage, never sent anywhere), and table-of-contents highlighting.
// Everything here is an enhancement: pages read fine with JavaScript off.

const root = document.documentElement;
const store = {
  get(k) { try { return localStorage.getItem(k); } catch { return null; } },
  set(k, v) { try { if (v === null) localStorage.removeItem(k); else localStorage.setItem(k, v); } catch { /* ignore */ } },
};

function currentTheme() {
  const t = root.getAttribute("data-theme");
  if (t) return t;
  return window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

function setupTheme() {
  const btn = document.getElementById("theme-toggle");
  if (!btn) return;
  const label = () => {
    const next = currentTheme() === "dark" ? btn.dataset.labelLight : btn.dataset.labelDark;
    btn.setAttribute("aria-label", next);
    btn.title = next;
  };
  btn.hidden = false;
  label();
  btn.addEventListener("click", () => {
    const next = currentTheme() === "dark" ? "light" : "dark";
    root.setAttribute("data-theme", next);
    store.set("learnws.theme", next);
    label();
    broadcast();
  });
}

function setupBig() {
  const btn = document.getElementById("big-toggle");
  if (!btn) return;
  btn.hidden = false;
  const sync = () => btn.setAttribute("aria-pressed", root.hasAttribute("data-big") ? "true" : "false");
  sync();
  btn.addEventListener("click", () => {
    if (root.hasAttribute("data-big")) { root.removeAttribute("data-big"); store.set("learnws.big", null); }
    else { root.setAttribute("data-big", "1"); store.set("learnws.big", "1"); }
    sync();
    broadcast();
  });
}

// Embedded demos (iframes of our own pages) follow the lesson's theme and size.
function broadcast() {
  for (const f of document.querySelectorAll("iframe")) {
    try {
      const r = f.contentDocument && f.contentDocument.documentElement;
      if (!r) continue;
      const t = root.getAttribute("data-theme");
      if (t) r.setAttribute("data-theme", t); else r.removeAttribute("data-theme");
      if (root.hasAttribute("data-big")) r.setAttribute("data-big", "1"); else r.removeAttribute("data-big");
    } catch { /* not same-origin */ }
  }
}
window.addEventListener("storage", (e) => {
  if (e.key === "learnws.theme") {
    if (e.newValue) root.setAttribute("data-theme", e.newValue); else root.removeAttribute("data-theme");
  }
  if (e.key === "learnws.big") {
    if (e.newValue === "1") root.setAttribute("data-big", "1"); else root.removeAttribute("data-big");
  }
});

// Progress: a set of lesson slugs per language.
function progressKey() { return "learnws.read." + (root.dataset.lang || "en"); }
function readSet() {
  try { return new Set(JSON.parse(store.get(progressKey()) || "[]")); } catch { return new Set(); }
}
function markRead(slug) {
  const s = readSet();
  s.add(slug);
  store.set(progressKey(), JSON.stringify([...s]));
}

function setupProgress() {
  const read = readSet();
  for (const li of document.querySelectorAll(".lesson-list li[data-lesson]")) {
    if (read.has(li.dataset.lesson)) {
      li.classList.add("done");
      const m = li.querySelector(".done-mark");
      if (m) m.hidden = false;
    }
  }
  const layout = document.querySelector(".lesson-layout[data-lesson]");
  if (!layout) return;
  const slug = layout.dataset.lesson;
  const btn = document.getElementById("mark-read");
  const showDone = () => { if (btn) { btn.textContent = btn.dataset.done; btn.disabled = true; } };
  if (btn) {
    btn.hidden = false;
    if (read.has(slug)) showDone();
    btn.addEventListener("click", () => { markRead(slug); showDone(); });
  }
  // Reaching the end of the lesson counts as reading it.
  const foot = document.querySelector(".lesson-foot");
  if (foot && "IntersectionObserver" in window) {
    const io = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) { markRead(slug); showDone(); io.disconnect(); }
    });
    io.observe(foot);
  }
}

// Highlight the table-of-contents entry of the section being read.
function setupToc() {
  const links = new Map();
  for (const a of document.querySelectorAll(".toc a[href^='#']")) links.set(decodeURIComponent(a.hash.slice(1)), a);
  if (!links.size || !("IntersectionObserver" in window)) return;
  const heads = [...links.keys()].map((id) => document.getElementById(id)).filter(Boolean);
  const visible = new Set();
  const update = () => {
    let current = null;
    for (const h of heads) {
      if (visible.has(h.id)) { current = h.id; break; }
    }
    if (!current) {
      // Between headings: the last heading above the viewport.
      for (const h of heads) if (h.getBoundingClientRect().top < 80) current = h.id;
    }
    for (const [id, a] of links) {
      if (id === current) a.setAttribute("aria-current", "location"); else a.removeAttribute("aria-current");
    }
  };
  const io = new IntersectionObserver((entries) => {
    for (const e of entries) { if (e.isIntersecting) visible.add(e.target.id); else visible.delete(e.target.id); }
    update();
  }, { rootMargin: "0px 0px -60% 0px" });
  heads.forEach((h) => io.observe(h));
  update();
}

setupTheme();
setupBig();
setupProgress();
setupToc();
for (const f of document.querySelectorAll("iframe")) f.addEventListener("load", broadcast);
