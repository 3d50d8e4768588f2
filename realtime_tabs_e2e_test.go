package learnws

// End-to-end tests that the real-time pages give their connections back. A
// browser speaking HTTP/1.1 opens at most six connections per host; the race
// holds three long-lived ones (a long poll, the forever frame, an EventSource),
// so two race tabs — or a race tab and lesson 1 with its embedded race — used to
// leave every other page of the site waiting. The pages now close everything
// while hidden, and an embedded race connects only once it is in view.
//
//	LEARNWS_BROWSER_TESTS=1 go test -run 'RealtimeTabs|RealtimeEmbed' -v .

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/learnws/learnws/internal/browsertest"
	"github.com/learnws/learnws/realtime"
)

// rtStats asks the server (from Go, not through the browser, whose connections
// are what is being tested) for the figures of session sid.
func rtStats(t *testing.T, base, sid string) map[string]realtime.Stats {
	t.Helper()
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(base + "/realtime/api/stats?sid=" + sid)
	if err != nil {
		t.Fatalf("stats of %s: %v", sid, err)
	}
	defer resp.Body.Close()
	var st realtime.SessionStats
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatalf("stats of %s: %v", sid, err)
	}
	out := map[string]realtime.Stats{}
	for _, s := range st.Techniques {
		out[string(s.Technique)] = s
	}
	return out
}

// rtWaitStats polls the server's figures of sid until ok holds, for at most d.
func rtWaitStats(t *testing.T, base, sid string, d time.Duration, what string, ok func(map[string]realtime.Stats) bool) map[string]realtime.Stats {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		st := rtStats(t, base, sid)
		if ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: not after %v; the server has %+v", what, d, st)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// rtStreams are the techniques that hold an HTTP connection open.
var rtStreams = []string{"long-polling", "iframe-streaming", "sse"}

func rtAllIdle(st map[string]realtime.Stats) bool {
	for _, s := range st {
		if s.Active != 0 {
			return false
		}
	}
	return len(st) == len(realtime.Techniques)
}

func rtStreamsOpen(st map[string]realtime.Stats) bool {
	for _, name := range append(rtStreams, "websocket") {
		if st[name].Active < 1 {
			return false
		}
	}
	return true
}

// hide makes the tab's page hidden as a background tab is: Chromium hides a page
// before it freezes it.
func hide(t *testing.T, tab context.Context) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, 10*time.Second)
	defer cancel()
	if _, err := chromedp.Call(ctx, page.SetWebLifecycleState, page.SetWebLifecycleStateParams{State: page.SetWebLifecycleStateStateFrozen}); err != nil {
		t.Fatalf("freezing the tab: %v", err)
	}
}

func TestRealtimeTabsReleaseConnections(t *testing.T) {
	browser := browsertest.New(t)
	base := startSite(t)

	// Two race tabs, each with its three streams (and a WebSocket) open.
	var tabs []context.Context
	var sids []string
	for i := range 2 {
		tab := browsertest.Tab(t, browser)
		browsertest.Bounded(t, tab, 15*time.Second, fmt.Sprintf("open race tab %d", i+1),
			chromedp.Navigate(base+"/en/realtime/race"),
			chromedp.WaitVisible(chromedp.CSS(".rt-lane[data-technique=websocket]")))
		sid := poll[string](t, tab, "the page's session", `document.getElementById("rt-app").dataset.sid || ""`)
		rtWaitStats(t, base, sid, 15*time.Second, fmt.Sprintf("tab %d's streams to open", i+1), rtStreamsOpen)
		tabs = append(tabs, tab)
		sids = append(sids, sid)
	}
	before := rtStats(t, base, sids[0])

	// Both go to the background: every connection closes, on the server's count.
	for i, tab := range tabs {
		hide(t, tab)
		rtWaitStats(t, base, sids[i], 10*time.Second, fmt.Sprintf("tab %d to close its connections", i+1), rtAllIdle)
	}

	// A third tab loads the home page and a lesson promptly.
	third := browsertest.Tab(t, browser)
	for _, path := range []string{"/", "/en/lessons/why-websocket", "/zh/lessons/why-websocket"} {
		start := time.Now()
		browsertest.Bounded(t, third, 10*time.Second, "load "+path+" in a third tab",
			chromedp.Navigate(base+path),
			chromedp.WaitReady(chromedp.CSS("footer, main")))
		t.Logf("third tab: %s loaded in %v", path, time.Since(start).Round(time.Millisecond))
	}

	// The first tab comes back: the page says it was paused while hidden, then
	// reconnects every lane, and the figures carry on from where they were.
	// (Chromium keeps an unfrozen background page hidden; the page's own
	// visibility is emulated for the return.)
	a := tabs[0]
	if _, err := chromedp.Call(a, page.SetWebLifecycleState, page.SetWebLifecycleStateParams{State: page.SetWebLifecycleStateStateActive}); err != nil {
		t.Fatalf("unfreezing: %v", err)
	}
	if run := eval[string](t, a, `document.getElementById("rt-app").dataset.run`); run != "hidden" {
		t.Errorf("the hidden page's state is %q, want hidden", run)
	}
	note := eval[string](t, a, `(() => { const n = document.getElementById("rt-pause-note"); return n.hidden ? "" : n.textContent; })()`)
	if !strings.Contains(note, "hidden") {
		t.Errorf("the pause note reads %q", note)
	}
	eval[bool](t, a, `(() => {
		Object.defineProperty(document, "visibilityState", { configurable: true, get: () => "visible" });
		Object.defineProperty(document, "hidden", { configurable: true, get: () => false });
		document.dispatchEvent(new Event("visibilitychange"));
		return true;
	})()`)
	rtWaitStats(t, base, sids[0], 15*time.Second, "the shown tab to reconnect", rtStreamsOpen)
	lanes := rtWait(t, a, 15*time.Second, "every lane open again, with figures past those before", func(ls map[string]rtLane) bool {
		for name, l := range ls {
			if l.State != "open" || l.Figs["requests"] <= float64(before[name].Requests) {
				return false
			}
		}
		return len(ls) == len(realtime.Techniques)
	})
	for name, l := range lanes {
		t.Logf("%-16s before hiding %d requests, after %v", name, before[name].Requests, l.Figs["requests"])
	}
	if note := eval[string](t, a, `document.getElementById("rt-pause-note").textContent`); !strings.Contains(note, "reconnected") {
		t.Errorf("back from the background, the note reads %q", note)
	}
}

// embedFrameJS is the lesson's embedded race's document.
const embedFrameJS = `document.querySelector('figure[data-demo="realtime-race"] iframe')`

func TestRealtimeEmbedConnectsWhenSeen(t *testing.T) {
	browser := browsertest.New(t)
	base := startSite(t)
	tab := browsertest.Tab(t, browser)
	browsertest.Bounded(t, tab, 15*time.Second, "open lesson 1",
		browsertest.Viewport(1280, 800),
		chromedp.Navigate(base+"/en/lessons/why-websocket"),
		chromedp.WaitReady(chromedp.CSS(`figure[data-demo="realtime-race"] iframe`)))
	if far := eval[float64](t, tab, `(scrollTo(0, 0), `+embedFrameJS+`.getBoundingClientRect().top / innerHeight)`); far < 2.2 {
		t.Fatalf("the demo is %.1f screens down; the test needs it out of view", far)
	}
	// Load the (lazy) frame now, out of view.
	eval[bool](t, tab, `(`+embedFrameJS+`.loading = "eager", true)`)
	frameApp := `((f) => f && f.contentDocument && f.contentDocument.getElementById("rt-app"))(` + embedFrameJS + `)`
	run := func() string { return eval[string](t, tab, `((a) => a ? (a.dataset.run || "") : "")(`+frameApp+`)`) }
	sid := poll[string](t, tab, "the embedded race to load and wait", `((a) => a && a.dataset.run === "idle" ? a.dataset.sid : "")(`+frameApp+`)`)
	apiRequests := `((f) => f.contentWindow.performance.getEntriesByType("resource").filter((e) => e.name.includes("/realtime/api/")).length)(` + embedFrameJS + `)`

	// Out of view, nothing is asked of the server: watch it for a second and a half.
	for end := time.Now().Add(1500 * time.Millisecond); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if r := run(); r != "idle" {
			t.Fatalf("the embedded race is %q before it was seen", r)
		}
		if n := eval[int](t, tab, apiRequests); n != 0 {
			t.Fatalf("the embedded race made %d API requests before it was seen", n)
		}
	}
	for name, s := range rtStats(t, base, sid) {
		if s.Requests != 0 || s.Connections != 0 || s.Active != 0 {
			t.Errorf("%s: the server counted %+v before the demo was seen", name, s)
		}
	}
	if note := eval[string](t, tab, `((a) => a.querySelector("#rt-pause-note").textContent)(`+frameApp+`)`); !strings.Contains(note, "scroll") {
		t.Errorf("the embedded race's note reads %q", note)
	}

	// Scrolled into view, it starts.
	eval[bool](t, tab, `(`+embedFrameJS+`.scrollIntoView({ block: "center" }), true)`)
	poll[bool](t, tab, "the embedded race to start", `((a) => a && a.dataset.run === "running")(`+frameApp+`)`)
	rtWaitStats(t, base, sid, 15*time.Second, "the embedded race's streams to open", rtStreamsOpen)

	// Scrolled far away, it lets go of every connection.
	eval[bool](t, tab, `(scrollTo(0, 0), true)`)
	poll[bool](t, tab, "the embedded race to pause", `((a) => a && a.dataset.run === "offscreen")(`+frameApp+`)`)
	rtWaitStats(t, base, sid, 10*time.Second, "the embedded race to close its connections", rtAllIdle)

	// And back again.
	eval[bool](t, tab, `(`+embedFrameJS+`.scrollIntoView({ block: "center" }), true)`)
	poll[bool](t, tab, "the embedded race to resume", `((a) => a && a.dataset.run === "running")(`+frameApp+`)`)
	rtWaitStats(t, base, sid, 15*time.Second, "the embedded race's streams to reopen", rtStreamsOpen)

	// The Start button starts a demo that has not been seen.
	browsertest.Bounded(t, tab, 15*time.Second, "reload lesson 1",
		chromedp.Navigate(base+"/zh/lessons/why-websocket"),
		chromedp.WaitReady(chromedp.CSS(`figure[data-demo="realtime-race"] iframe`)))
	eval[bool](t, tab, `(scrollTo(0, 0), `+embedFrameJS+`.loading = "eager", true)`)
	sid = poll[string](t, tab, "the embedded race to load and wait", `((a) => a && a.dataset.run === "idle" ? a.dataset.sid : "")(`+frameApp+`)`)
	if label := eval[string](t, tab, `((a) => a.querySelector("#rt-toggle").textContent)(`+frameApp+`)`); label != "开始" {
		t.Errorf("the button reads %q, want 开始", label)
	}
	eval[bool](t, tab, `((a) => (a.querySelector("#rt-toggle").click(), true))(`+frameApp+`)`)
	rtWaitStats(t, base, sid, 15*time.Second, "the started race's streams to open", rtStreamsOpen)
}

// TestRealtimeScreenshots writes screenshots of the race page (English and
// Chinese, phone and desktop, and the Chinese big mode) into
// $LEARNWS_SCREENSHOTS. It runs only when that variable is set.
func TestRealtimeScreenshots(t *testing.T) {
	dir := os.Getenv("LEARNWS_SCREENSHOTS")
	if dir == "" {
		t.Skip("set LEARNWS_SCREENSHOTS=DIR to write screenshots")
	}
	browser := browsertest.New(t)
	base := startSite(t)
	for _, c := range []struct {
		lang, query string
		w, h        int64
	}{
		{"en", "", 390, 844}, {"zh", "", 390, 844}, {"en", "", 1920, 1080}, {"zh", "", 1920, 1080}, {"zh", "?big=1", 1920, 1080}, {"zh", "?big=1", 390, 844},
	} {
		tab := browsertest.Tab(t, browser)
		name := fmt.Sprintf("race-%s-%d%s.png", c.lang, c.w, strings.ReplaceAll(strings.TrimPrefix(c.query, "?"), "=1", ""))
		browsertest.Bounded(t, tab, 20*time.Second, name,
			browsertest.Viewport(c.w, c.h),
			chromedp.Navigate(base+"/"+c.lang+"/realtime/race"+c.query))
		rtWait(t, tab, 20*time.Second, "figures", func(ls map[string]rtLane) bool {
			for _, l := range ls {
				if l.State != "open" || l.Figs["p50"] < 0 || l.Figs["requests"] < 1 {
					return false
				}
			}
			return len(ls) == 5
		})
		if c.query != "" {
			// Poll every 250 ms until the bytes chart counts in ten thousands (万).
			eval[bool](t, tab, `(() => { const s = document.getElementById("rt-interval"); s.value = "250"; s.dispatchEvent(new Event("change")); return true; })()`)
			rtWait(t, tab, 30*time.Second, "short polling past 12,000 bytes", func(ls map[string]rtLane) bool {
				f := ls["short-polling"].Figs
				return f["bytes_up"]+f["bytes_down"] > 12000
			})
			// The next stats answer (new figures) redraws the chart with it.
			was := eval[string](t, tab, `document.querySelector('[data-technique="short-polling"] [data-fig="bytes_up"]').textContent`)
			poll[bool](t, tab, "the chart redrawn", fmt.Sprintf(`document.querySelector('[data-technique="short-polling"] [data-fig="bytes_up"]').textContent !== %q`, was))
		}
		// Large figures, as after a long race, to see the labels fit.
		eval[bool](t, tab, `(() => {
			for (const dd of document.querySelectorAll('[data-fig="p50"], [data-fig="p95"]')) dd.textContent = "350.5 ms";
			for (const dd of document.querySelectorAll('[data-fig="bytes_down"]')) dd.textContent = "38,123,456";
			return true;
		})()`)
		browsertest.Screenshot(t, tab, name)
		// Close-ups of the first lane and of the charts.
		for _, part := range []struct{ sel, suffix string }{{".rt-lane", "lane"}, {".rt-charts", "charts"}} {
			ctx, cancel := context.WithTimeout(tab, 20*time.Second)
			png, err := chromedp.Run(ctx, chromedp.Screenshot(chromedp.CSS(part.sel)))
			cancel()
			if err != nil {
				t.Fatalf("screenshot of %s: %v", part.sel, err)
			}
			if err := os.WriteFile(filepath.Join(dir, strings.TrimSuffix(name, ".png")+"-"+part.suffix+".png"), png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		browsertest.Bounded(t, tab, 10*time.Second, "leave", chromedp.Navigate("about:blank"))
	}
	// The note of a page paused while hidden, and of an embedded race not started.
	for _, lang := range []string{"en", "zh"} {
		tab := browsertest.Tab(t, browser)
		browsertest.Bounded(t, tab, 20*time.Second, "hidden "+lang,
			browsertest.Viewport(390, 844), chromedp.Navigate(base+"/"+lang+"/realtime/race"))
		poll[bool](t, tab, "running", `document.getElementById("rt-app").dataset.run === "running"`)
		eval[bool](t, tab, `(() => {
			Object.defineProperty(document, "visibilityState", { configurable: true, get: () => "hidden" });
			document.dispatchEvent(new Event("visibilitychange"));
			document.querySelector(".rt-lanes").scrollIntoView();
			scrollBy(0, -300);
			return true;
		})()`)
		shot(t, tab, dir, "race-"+lang+"-390-hidden.png")
		browsertest.Bounded(t, tab, 20*time.Second, "embed "+lang,
			browsertest.Viewport(1280, 800), chromedp.Navigate(base+"/"+lang+"/realtime/race?embed=1"))
		poll[bool](t, tab, "running", `document.getElementById("rt-app").dataset.run === "running"`)
		browsertest.Bounded(t, tab, 20*time.Second, "lesson "+lang, chromedp.Navigate(base+"/"+lang+"/lessons/why-websocket"))
		eval[bool](t, tab, `(scrollTo(0, 0), `+embedFrameJS+`.loading = "eager", true)`)
		poll[bool](t, tab, "idle", `((f) => { const a = f.contentDocument && f.contentDocument.getElementById("rt-app"); return !!a && a.dataset.run === "idle"; })(`+embedFrameJS+`)`)
		// Show it without letting it see the viewport: stop its observers first.
		eval[bool](t, tab, `((f) => { f.contentWindow.IntersectionObserver.prototype.observe = () => {}; return true; })(`+embedFrameJS+`)`)
		ctx, cancel := context.WithTimeout(tab, 20*time.Second)
		png, err := chromedp.Run(ctx, chromedp.Screenshot(chromedp.CSS(`figure[data-demo="realtime-race"]`)))
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, "embed-"+lang+"-idle.png"), png, 0o644)
	}
}

// shot saves the visible part of the tab.
func shot(t *testing.T, tab context.Context, dir, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}
