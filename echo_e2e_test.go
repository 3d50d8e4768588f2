package learnws

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/learnws/learnws/internal/browsertest"
)

// echoInBrowserJS opens a WebSocket from the page to path, sends a text message
// (with markup and non-ASCII text) and binary messages of the boundary sizes of
// the three length forms (RFC 6455 §5.2), checks each echo byte for byte, and
// closes with 1000. It leaves its findings in window.__echo (a text message's
// length is in UTF-16 code units, as JavaScript counts).
const echoInBrowserJS = `((path) => {
	const r = window.__echo = {done: false, results: [], error: null};
	const sizes = [0, 125, 126, 65535, 65536, 1 << 20];
	const ws = new WebSocket(location.origin.replace(/^http/, "ws") + path);
	ws.binaryType = "arraybuffer";
	const sent = [];
	ws.onopen = () => {
		const t = "Hello, 世界 <b>bold</b>";
		ws.send(t);
		sent.push({kind: "text", data: t});
		for (const n of sizes) {
			const b = new Uint8Array(n);
			for (let i = 0; i < n; i++) b[i] = (i * 31 + 7) & 255;
			ws.send(b);
			sent.push({kind: "binary", data: b});
		}
	};
	let i = 0;
	ws.onmessage = (e) => {
		const want = sent[i++];
		let ok;
		if (want.kind === "text") {
			ok = typeof e.data === "string" && e.data === want.data;
		} else {
			const got = e.data instanceof ArrayBuffer ? new Uint8Array(e.data) : null;
			ok = got !== null && got.length === want.data.length && got.every((v, j) => v === want.data[j]);
		}
		r.results.push((ok ? "ok " : "WRONG ") + want.kind + " " + want.data.length);
		if (i === sent.length) ws.close(1000, "done");
	};
	ws.onerror = () => { r.error = "the browser reported an error"; };
	ws.onclose = (e) => { r.code = e.code; r.reason = e.reason; r.clean = e.wasClean; r.done = true; };
	return true;
})(%q)`

// TestEchoInBrowser: a real browser's WebSocket gets every message back from both
// public echo services, ours and gorilla's, with the same type and bytes, and the
// closing handshake completes cleanly with the browser's 1000.
func TestEchoInBrowser(t *testing.T) {
	browser := browsertest.New(t)
	base := startSite(t)
	for _, path := range []string{"/ws/echo", "/ws/gorilla/echo"} {
		t.Run(path, func(t *testing.T) {
			tab := browsertest.Tab(t, browser)
			browsertest.Bounded(t, tab, 20*time.Second, "open a page", chromedp.Navigate(base+"/en/lessons"))
			eval[bool](t, tab, fmt.Sprintf(echoInBrowserJS, path))
			poll[bool](t, tab, "the echoes and the close", `window.__echo.done === true`)
			got := eval[map[string]any](t, tab, `window.__echo`)
			var results []string
			for _, r := range got["results"].([]any) {
				results = append(results, r.(string))
			}
			want := "ok text 21, ok binary 0, ok binary 125, ok binary 126, ok binary 65535, ok binary 65536, ok binary 1048576"
			if strings.Join(results, ", ") != want {
				t.Errorf("echoes:\n got %s\nwant %s", strings.Join(results, ", "), want)
			}
			if got["code"] != float64(1000) || got["clean"] != true || got["error"] != nil {
				t.Errorf("close: code %v, clean %v, error %v; want 1000, clean, no error", got["code"], got["clean"], got["error"])
			}
		})
	}
}
