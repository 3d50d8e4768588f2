package learnws

// End-to-end tests of the live byte lab in a real headless Chromium
// (internal/browsertest). Without Chromium they skip, unless
// LEARNWS_BROWSER_TESTS=1 makes them mandatory (.ci/run sets it).

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/learnws/learnws/internal/browsertest"
)

// poll waits (bounded) until the JavaScript expression is truthy and
// returns its value.
func poll[T any](t testing.TB, tab context.Context, what, expr string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, 15*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Poll[T](expr, chromedp.WithPollingInterval(50*time.Millisecond)))
	if err != nil {
		var diag string
		dctx, dcancel := context.WithTimeout(tab, 3*time.Second)
		diag, _ = chromedp.Run(dctx, chromedp.Evaluate[string](`(document.getElementById("lab-status")||{}).textContent + " | " + Array.from(document.querySelectorAll("#lab-timeline li")).map(li => li.textContent).join(" / ")`))
		dcancel()
		t.Fatalf("waiting for %s: %v\npage: %s", what, err, diag)
	}
	return v
}

func eval[T any](t testing.TB, tab context.Context, expr string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

// inFrame finds the newest client→server frame entry matching a hex prefix.
func inFrameJS(hexPrefix string) string {
	return fmt.Sprintf(`(() => { const l = Array.from(document.querySelectorAll('#lab-timeline li[data-dir="in"][data-kind="frame"]')).filter(li => li.dataset.hex.startsWith(%q)); return l.length ? l[l.length-1].dataset.hex : ""; })()`, hexPrefix)
}

func sendText(t testing.TB, tab context.Context, text string) {
	t.Helper()
	browsertest.Bounded(t, tab, 10*time.Second, "send "+text,
		chromedp.SetValue(chromedp.CSS("#lab-text"), text),
		chromedp.Click(chromedp.CSS("#lab-send-text")),
	)
}

func TestLabInBrowser(t *testing.T) {
	browser := browsertest.New(t)
	base := startSite(t)
	owner := browsertest.Tab(t, browser)

	browsertest.Bounded(t, owner, 15*time.Second, "open the lab", chromedp.Navigate(base+"/en/lab"))
	poll[bool](t, owner, "the socket to open", `document.getElementById("lab-status").dataset.state === "lab.status.open"`)

	// The handshake the browser sent, with its key; and the page's own
	// SHA-1 (Web Crypto: 127.0.0.1 is a secure context) agrees.
	poll[bool](t, owner, "the upgrade request", `!!document.querySelector('#lab-hs-req .lab-hs-line[data-kind="sec-websocket-key"]')`)
	poll[bool](t, owner, "the browser's Accept check", `document.querySelector('.lab-browser-check[data-agree="1"]') !== null`)
	if got := eval[string](t, owner, `document.querySelector('.lab-browser-check').textContent`); !strings.Contains(got, "Web Crypto") {
		t.Errorf("browser check says %q", got)
	}

	// "Hello": the eleven bytes the browser sent, 81 85, its random mask, and
	// five masked bytes, shown unmasked to Hello.
	sendText(t, owner, "Hello")
	hello := poll[string](t, owner, "the Hello frame", inFrameJS("8185"))
	if len(hello) != 22 {
		t.Fatalf("client frame %s: want 11 bytes", hello)
	}
	key := hello[4:12]
	browsertest.Bounded(t, owner, 10*time.Second, "select the frame",
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`#lab-timeline li[data-hex=%q]`, hello))))
	got := eval[map[string]any](t, owner, `(() => {
		const d = document.getElementById("lab-detail");
		const cells = Array.from(d.querySelectorAll(".lab-bytes .lab-cell"));
		return {
			cells: cells.length,
			wire: cells.map(c => c.querySelector("b").textContent).join(""),
			keys: cells.filter(c => c.querySelector("i")).map(c => c.querySelector("i").textContent.slice(1)).join(""),
			unmasked: cells.filter(c => c.querySelector("u")).map(c => c.querySelector("s").textContent).join(""),
			text: (d.querySelector(".lab-text-value") || {}).textContent,
			bits: d.querySelectorAll(".lab-bitgroup").length,
		};
	})()`)
	if got["cells"] != float64(11) || got["wire"] != hello || got["unmasked"] != "Hello" || got["text"] != "Hello" ||
		got["keys"] != key+key[:2] || got["bits"] != float64(7) {
		t.Errorf("Hello frame as shown: %v (frame %s, key %s)", got, hello, key)
	}

	// 200 bytes: the 16-bit length form, 7E then 00 C8.
	browsertest.Bounded(t, owner, 10*time.Second, "send 200 bytes", chromedp.Click(chromedp.CSS(`[data-size="200"]`)))
	f200 := poll[string](t, owner, "the 200-byte frame", inFrameJS("81fe00c8"))
	if len(f200) != 2*208 {
		t.Errorf("200-byte frame is %d bytes", len(f200)/2)
	}
	browsertest.Bounded(t, owner, 10*time.Second, "select the 200-byte frame",
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`#lab-timeline li[data-hex=%q]`, f200))))
	if n := eval[float64](t, owner, `document.querySelectorAll('#lab-detail .lab-cell.f-len').length`); n != 2 {
		t.Errorf("extended length cells shown: %v", n)
	}

	// 70 000 bytes of binary: the 64-bit length form; only the first bytes
	// are kept and drawn.
	browsertest.Bounded(t, owner, 10*time.Second, "send 70000 bytes", chromedp.Click(chromedp.CSS(`[data-size="70000"]`)))
	big := poll[string](t, owner, "the 70000-byte frame", inFrameJS("82ff0000000000011170"))
	browsertest.Bounded(t, owner, 10*time.Second, "select it", chromedp.Click(chromedp.CSS(fmt.Sprintf(`#lab-timeline li[data-hex=%q]`, big))))
	if more := eval[string](t, owner, `(document.querySelector("#lab-detail .lab-more")||{}).textContent`); !strings.Contains(more, "more bytes") {
		t.Errorf("70000-byte frame: %q", more)
	}

	// Keyboard: the timeline is a listbox; Home, End and the arrows move
	// the selection, and the detail follows.
	browsertest.Bounded(t, owner, 10*time.Second, "keyboard",
		chromedp.Focus(chromedp.CSS("#lab-timeline")),
		chromedp.KeyEvent(kb.Home))
	if first := eval[string](t, owner, `document.querySelector('#lab-timeline [aria-selected="true"]').dataset.kind`); first != "session" {
		t.Errorf("Home selected %q", first)
	}
	browsertest.Bounded(t, owner, 10*time.Second, "arrow down", chromedp.KeyEvent(kb.ArrowDown))
	if hs := eval[string](t, owner, `document.querySelector('#lab-detail .lab-hs-line') ? document.querySelector('#lab-timeline [aria-selected="true"]').dataset.kind : ""`); hs != "handshake" {
		t.Errorf("ArrowDown showed %q, want the handshake", hs)
	}
	browsertest.Bounded(t, owner, 10*time.Second, "end", chromedp.KeyEvent(kb.End))
	if last := eval[bool](t, owner, `document.querySelector('#lab-timeline li:last-child').getAttribute("aria-selected") === "true"`); !last {
		t.Error("End did not select the last entry")
	}

	// A second person, in another browser profile, watches the session.
	watchURL := eval[string](t, owner, `document.getElementById("lab-watch-link").href`)
	if !strings.Contains(watchURL, "/en/watch/") {
		t.Fatalf("watch link %q", watchURL)
	}
	watcher := browsertest.IsolatedTab(t, browser)
	browsertest.Bounded(t, watcher, 15*time.Second, "open the watch link", chromedp.Navigate(watchURL))
	poll[string](t, watcher, "the watcher to see Hello", inFrameJS(hello))
	poll[string](t, watcher, "the watcher to see the 200 bytes", inFrameJS(f200))
	poll[bool](t, owner, "the owner to see one spectator", `document.getElementById("lab-watchers").dataset.count === "1"`)
	if n := eval[float64](t, watcher, `document.querySelectorAll("#lab-send, #lab-text").length`); n != 0 {
		t.Errorf("the spectator page has %v controls", n)
	}
	// Live: a frame sent now reaches the watcher.
	sendText(t, owner, "live!")
	live := poll[string](t, owner, "the live frame", inFrameJS("8185"))
	poll[string](t, watcher, "the watcher to see the live frame", inFrameJS(live))

	// The server pings: the browser answers with a pong of its own (masked).
	browsertest.Bounded(t, owner, 10*time.Second, "ask for a ping", chromedp.Click(chromedp.CSS("#lab-ping")))
	poll[string](t, owner, "the browser's pong", inFrameJS("8a"))
	// A fragmented message: three frames, a ping between the first two.
	browsertest.Bounded(t, owner, 10*time.Second, "ask for fragments", chromedp.Click(chromedp.CSS("#lab-fragment")))
	poll[bool](t, owner, "the last fragment", `!!document.querySelector('#lab-timeline li[data-dir="out"][data-opcode="0"][data-hex^="80"]')`)
	// A scripted bad client: its unmasked frame and the server's 1002.
	browsertest.Bounded(t, owner, 10*time.Second, "run the bad client",
		chromedp.SetValue(chromedp.CSS("#lab-bad-script"), "unmasked"),
		chromedp.Click(chromedp.CSS("#lab-bad-run")))
	closeHex := poll[string](t, owner, "the server's close frame to the bad client", `(document.querySelector('#lab-timeline li[data-conn="bad:unmasked"][data-dir="out"][data-opcode="8"]')||{dataset:{}}).dataset.hex`)
	if !strings.HasPrefix(closeHex, "88") || !strings.Contains(closeHex, "03ea") {
		t.Errorf("server's close frame to the bad client: %s", closeHex)
	}
	poll[bool](t, owner, "the unmasked frame", `!!document.querySelector('#lab-timeline li[data-conn="bad:unmasked"][data-dir="in"][data-hex="81024869"]')`)

	// Markup typed by the learner is shown as text, in both browsers.
	const markup = `<img src=x onerror="window.__pwned=1"><b>bold</b>`
	sendText(t, owner, markup)
	for name, tab := range map[string]context.Context{"owner": owner, "watcher": watcher} {
		poll[bool](t, tab, name+" to show the markup message", `Array.from(document.querySelectorAll("#lab-timeline li")).some(li => li.textContent.includes("<img src=x"))`)
		res := eval[map[string]any](t, tab, fmt.Sprintf(`(() => {
			const items = Array.from(document.querySelectorAll('#lab-timeline li[data-kind="frame"][data-dir="in"]'));
			items[items.length-1].click();
			const v = document.querySelector("#lab-detail .lab-text-value");
			return { text: v ? v.textContent : null, imgs: document.querySelectorAll("#lab-app img").length + (v ? v.childElementCount : 1) + Array.from(document.querySelectorAll("#lab-timeline li *")).filter(e => e.tagName === "B" || e.tagName === "IMG").length, pwned: window.__pwned === 1, want: %q };
		})()`, markup))
		if res["text"] != markup || res["imgs"] != float64(0) || res["pwned"] != false {
			t.Errorf("%s: markup message shown as %v", name, res)
		}
	}
}

func TestDecoderAndCheckerInBrowser(t *testing.T) {
	browser := browsertest.New(t)
	base := startSite(t)
	tab := browsertest.Tab(t, browser)

	// A permalink: the RFC's masked "Hello".
	browsertest.Bounded(t, tab, 15*time.Second, "open the decoder", chromedp.Navigate(base+"/en/decoder#818537fa213d7f9f4d5158"))
	poll[bool](t, tab, "the decoded Hello", `(document.querySelector("#dec-out .lab-text-value")||{}).textContent === "Hello"`)

	// xxd output with its offset and ASCII columns.
	browsertest.Bounded(t, tab, 10*time.Second, "paste xxd",
		chromedp.SetValue(chromedp.CSS("#dec-hex"), "00000000: 8185 37fa 213d 7f9f 4d51 58              ..7.!=..MQX"),
		chromedp.Click(chromedp.CSS(`#dec-form button[type="submit"]`)))
	poll[bool](t, tab, "xxd decoded", `document.querySelectorAll("#dec-out .lab-bytes .lab-cell").length === 11`)

	// Invalid input: the grid up to the bad byte, and a message.
	browsertest.Bounded(t, tab, 10*time.Second, "paste bad hex",
		chromedp.SetValue(chromedp.CSS("#dec-hex"), "81 85 37 fa zz"),
		chromedp.Click(chromedp.CSS(`#dec-form button[type="submit"]`)))
	msg := poll[string](t, tab, "the hex error", `(document.querySelector("#dec-out .lab-error")||{}).textContent`)
	if !strings.Contains(msg, "column 13") {
		t.Errorf("hex error: %q", msg)
	}
	if n := eval[float64](t, tab, `document.querySelectorAll("#dec-out .lab-cell").length`); n != 4 {
		t.Errorf("%v cells shown before the bad input, want 4", n)
	}

	// The builder: a 16-bit length forced on a 5-byte payload.
	browsertest.Bounded(t, tab, 10*time.Second, "build a frame",
		chromedp.SetValue(chromedp.CSS(`#build-form select[name="length_form"]`), "2"),
		chromedp.Click(chromedp.CSS(`#build-form button[type="submit"]`)))
	built := poll[string](t, tab, "the built frame", `(document.getElementById("build-hex")||{}).textContent`)
	if built != "81 fe 00 05 37 fa 21 3d 7f 9f 4d 51 58" {
		t.Errorf("built %q", built)
	}

	// The page's own SHA-1, used where Web Crypto is missing (plain http on
	// a classroom LAN is not a secure context), gives the RFC's digest.
	digest := poll[string](t, tab, "the page's SHA-1", `(async () => {
		const src = Array.from(document.scripts).map(s => s.src).find(s => s.includes("/static/lab/"));
		const m = await import(src.replace(/decoder\.js/, "grid.js"));
		const d = m.sha1(new TextEncoder().encode("dGhlIHNhbXBsZSBub25jZQ==258EAFA5-E914-47DA-95CA-C5AB0DC85B11"));
		return Array.from(d, b => b.toString(16).padStart(2, "0")).join("");
	})()`)
	if digest != "b37a4f2cc0624f1690f64606cf385945b2bec4ea" {
		t.Errorf("page SHA-1: %s", digest)
	}

	// The checker, with the mismatched pair of arduinoWebSockets#604.
	browsertest.Bounded(t, tab, 15*time.Second, "open the checker",
		chromedp.Navigate(base+"/en/handshake-checker"),
		chromedp.Click(chromedp.CSS("#chk-ex-bad")))
	text := poll[string](t, tab, "the Accept finding", `(document.querySelector('#chk-findings [data-key="check.accept_bad"]')||{}).textContent`)
	if !strings.Contains(text, "QEFMhxzLTip8aJkbmocIGNEeOB8=") || !strings.Contains(text, "5WQdLwdYf0ahB70uBxPU8tJ9lxE=") {
		t.Errorf("finding: %q", text)
	}
	poll[bool](t, tab, "the browser's own check", `document.querySelector('.lab-browser-check[data-agree="1"]') !== null`)
}

// TestLabScreenshots writes screenshots of the lab (after Hello and 200
// bytes), the decoder and the checker, at phone and desktop sizes, in both
// languages and both themes, into $LEARNWS_SCREENSHOTS. It runs only when
// that variable is set.
func TestLabScreenshots(t *testing.T) {
	dir := os.Getenv("LEARNWS_SCREENSHOTS")
	if dir == "" {
		t.Skip("set LEARNWS_SCREENSHOTS=DIR to write screenshots")
	}
	browser := browsertest.New(t)
	base := startSite(t)
	sizes := []struct{ w, h int64 }{{390, 844}, {1920, 1080}}
	for _, lang := range []string{"en", "zh"} {
		for _, theme := range []string{"light", "dark"} {
			for _, sz := range sizes {
				tab := browsertest.Tab(t, browser)
				name := fmt.Sprintf("%s-%d-%s", lang, sz.w, theme)
				browsertest.Bounded(t, tab, 20*time.Second, "lab "+name,
					browsertest.Viewport(sz.w, sz.h), browsertest.ColorScheme(theme),
					chromedp.Navigate(base+"/"+lang+"/lab"))
				poll[bool](t, tab, "open", `document.getElementById("lab-status").dataset.state === "lab.status.open"`)
				sendText(t, tab, "Hello")
				poll[string](t, tab, "Hello", inFrameJS("8185"))
				browsertest.Bounded(t, tab, 10*time.Second, "200", chromedp.Click(chromedp.CSS(`[data-size="200"]`)))
				poll[string](t, tab, "200", inFrameJS("81fe00c8"))
				eval[bool](t, tab, `(() => { const l = document.querySelectorAll('#lab-timeline li[data-dir="in"][data-kind="frame"]'); l[0].click(); return true; })()`)
				browsertest.Screenshot(t, tab, "lab-hello-"+name+".png")
				eval[bool](t, tab, `(() => { const l = document.querySelectorAll('#lab-timeline li[data-dir="in"][data-kind="frame"]'); l[l.length-1].click(); return true; })()`)
				browsertest.Screenshot(t, tab, "lab-200-"+name+".png")
				if sz.w > 1000 && theme == "light" {
					browsertest.Bounded(t, tab, 10*time.Second, "bad client",
						chromedp.SetValue(chromedp.CSS("#lab-bad-script"), "invalid-utf8"),
						chromedp.Click(chromedp.CSS("#lab-bad-run")))
					poll[bool](t, tab, "bad client closed", `!!document.querySelector('#lab-timeline li[data-conn="bad:invalid-utf8"][data-kind="closed"]')`)
					eval[bool](t, tab, `(() => { document.querySelector('#lab-timeline li[data-conn="bad:invalid-utf8"][data-dir="in"][data-kind="frame"]').click(); return true; })()`)
					browsertest.Screenshot(t, tab, "lab-bad-in-"+name+".png")
					eval[bool](t, tab, `(() => { document.querySelector('#lab-timeline li[data-conn="bad:invalid-utf8"][data-dir="out"][data-opcode="8"]').click(); return true; })()`)
					browsertest.Screenshot(t, tab, "lab-bad-close-"+name+".png")
				}

				browsertest.Bounded(t, tab, 20*time.Second, "decoder "+name, chromedp.Navigate(base+"/"+lang+"/decoder#818537fa213d7f9f4d5158"))
				poll[bool](t, tab, "decoded", `!!document.querySelector("#dec-out .lab-text-value")`)
				browsertest.Screenshot(t, tab, "decoder-"+name+".png")

				browsertest.Bounded(t, tab, 20*time.Second, "checker "+name,
					chromedp.Navigate(base+"/"+lang+"/handshake-checker"), chromedp.Click(chromedp.CSS("#chk-ex-bad")))
				poll[bool](t, tab, "checked", `!!document.querySelector('.lab-browser-check[data-agree]')`)
				browsertest.Screenshot(t, tab, "checker-"+name+".png")
				// Leave the page, so its lab socket closes: an address may
				// hold only a few lab sessions at once.
				browsertest.Bounded(t, tab, 10*time.Second, "leave", chromedp.Navigate("about:blank"))
			}
		}
	}
}
