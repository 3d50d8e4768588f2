package learnws

// End-to-end tests of the real-time pages in a real headless Chromium
// (internal/browsertest): the race page receives the same events over all five
// techniques and shows what the server measured; a technique page works on its own.
// Without Chromium they skip, unless LEARNWS_BROWSER_TESTS=1 makes them mandatory.
//
//	LEARNWS_BROWSER_TESTS=1 go test -run RealtimeInBrowser -v .

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/learnws/learnws/internal/browsertest"
)

// rtRecorderJS records, for every technique's lane, the ID of every event the page
// displays (the page itself keeps only the last eight in its log): the entries
// already there, then each new one, in the order they appear.
const rtRecorderJS = `(() => {
  window.__rt = {};
  for (const lane of document.querySelectorAll(".rt-lane[data-technique]")) {
    const rec = window.__rt[lane.dataset.technique] = { ids: [], chats: {} };
    const take = (li) => {
      const id = Number(li.querySelector(".rt-id").textContent.replace("#", ""));
      rec.ids.push(id);
      if (li.classList.contains("rt-chat")) rec.chats[li.querySelector(".rt-text").textContent] = id;
    };
    const log = lane.querySelector(".rt-log");
    for (const li of Array.from(log.children).reverse()) take(li);
    new MutationObserver((ms) => {
      for (const m of ms) for (const n of m.addedNodes) if (n.nodeType === 1) take(n);
    }).observe(log, { childList: true });
  }
  return true;
})()`

// rtLane is what a lane shows: its state, its figures (-1 for "—") and what the
// recorder saw.
type rtLane struct {
	State string             `json:"state"`
	Figs  map[string]float64 `json:"figs"`
	IDs   []int64            `json:"ids"`
	Chats map[string]int64   `json:"chats"`
}

const rtLanesJS = `(() => {
  const out = {};
  for (const lane of document.querySelectorAll(".rt-lane[data-technique]")) {
    const t = lane.dataset.technique;
    const figs = {};
    for (const dd of lane.querySelectorAll("dd[data-fig]")) {
      const digits = dd.textContent.replace(/[^0-9.]/g, ""); // "1,234" → 1234, "12.5 ms" → 12.5
      figs[dd.dataset.fig] = digits === "" ? -1 : Number(digits);
    }
    const rec = (window.__rt || {})[t] || { ids: [], chats: {} };
    out[t] = { state: lane.querySelector(".rt-state").dataset.state || "", figs, ids: rec.ids, chats: rec.chats };
  }
  return out;
})()`

// rtWait polls the page's lanes until ok says they are ready, for at most d; on
// timeout it fails with what the lanes showed last.
func rtWait(t *testing.T, tab context.Context, d time.Duration, what string, ok func(map[string]rtLane) bool) map[string]rtLane {
	t.Helper()
	deadline := time.Now().Add(d)
	var last map[string]rtLane
	for {
		ctx, cancel := context.WithTimeout(tab, 5*time.Second)
		lanes, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]rtLane](rtLanesJS))
		cancel()
		if err != nil {
			t.Fatalf("waiting for %s: reading the page: %v", what, err)
		}
		last = lanes
		if ok(lanes) {
			return lanes
		}
		if time.Now().After(deadline) {
			var b strings.Builder
			for name, l := range lanes {
				fmt.Fprintf(&b, "\n  %s: state %q, figures %v, ids %v, chats %v", name, l.State, l.Figs, l.IDs, l.Chats)
			}
			t.Fatalf("waiting for %s: not after %v; the lanes show:%s", what, d, b.String())
		}
		select {
		case <-time.After(100 * time.Millisecond):
		case <-tab.Done():
			t.Fatalf("waiting for %s: the tab closed (last: %v)", what, last)
		}
	}
}

func TestRealtimeRaceInBrowser(t *testing.T) {
	browser := browsertest.New(t)
	base := startSite(t)
	tab := browsertest.Tab(t, browser)
	browsertest.Bounded(t, tab, 15*time.Second, "open the race page",
		chromedp.Navigate(base+"/en/realtime/race"),
		chromedp.WaitVisible(chromedp.CSS(".rt-lane[data-technique=websocket]")))
	eval[bool](t, tab, rtRecorderJS) // install the event recorder

	techniques := []string{"short-polling", "long-polling", "iframe-streaming", "sse", "websocket"}
	// Every lane connected and showing generated events (one a second).
	lanes := rtWait(t, tab, 20*time.Second, "all five lanes to receive events", func(ls map[string]rtLane) bool {
		for _, name := range techniques {
			if l, ok := ls[name]; !ok || l.State != "open" || len(l.IDs) == 0 {
				return false
			}
		}
		return true
	})
	if len(lanes) != len(techniques) {
		t.Errorf("the race page has lanes %v, want the five techniques", keysOf(lanes))
	}

	// Post a message into the feed (via the page's default, WebSocket): every
	// technique must deliver it, with the same event ID.
	msg := fmt.Sprintf("e2e %d", time.Now().UnixNano())
	browsertest.Bounded(t, tab, 10*time.Second, "post a message",
		chromedp.SetValue(chromedp.CSS("#rt-send input[name=text]"), msg),
		chromedp.Click(chromedp.CSS("#rt-send button[type=submit]")))
	lanes = rtWait(t, tab, 15*time.Second, "the message to reach every lane", func(ls map[string]rtLane) bool {
		for _, name := range techniques {
			if _, ok := ls[name].Chats[msg]; !ok {
				return false
			}
		}
		return true
	})
	chatID := lanes["websocket"].Chats[msg]
	for _, name := range techniques {
		if id := lanes[name].Chats[msg]; id != chatID {
			t.Errorf("%s shows the message as event #%d; websocket as #%d", name, id, chatID)
		}
	}
	// Two more generated events after it (one a second).
	to := chatID + 2
	lanes = rtWait(t, tab, 10*time.Second, fmt.Sprintf("event #%d in every lane", to), func(ls map[string]rtLane) bool {
		for _, name := range techniques {
			if !slices.Contains(ls[name].IDs, to) {
				return false
			}
		}
		return true
	})

	// The same events everywhere: from the first event every lane had shown to two
	// past the message, each lane displayed each ID once, in order.
	var from int64
	for _, name := range techniques {
		from = max(from, lanes[name].IDs[0])
	}
	if from > chatID {
		t.Fatalf("the lanes started after the message (from #%d, message #%d)", from, chatID)
	}
	if to-from < 3 {
		t.Errorf("only events #%d…#%d compared", from, to)
	}
	for _, name := range techniques {
		var got []int64
		for _, id := range lanes[name].IDs {
			if id >= from && id <= to {
				got = append(got, id)
			}
		}
		var want []int64
		for id := from; id <= to; id++ {
			want = append(want, id)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s displayed events %v between #%d and #%d, want each once, in order: %v", name, got, from, to, want)
		}
	}
	t.Logf("all five lanes displayed events #%d…#%d, the message as #%d", from, to, chatID)

	// What the server measured reaches the page (the page asks once a second):
	// requests, connections and bytes each way, for every technique.
	lanes = rtWait(t, tab, 10*time.Second, "every lane's figures", func(ls map[string]rtLane) bool {
		for _, name := range techniques {
			f := ls[name].Figs
			if f["requests"] < 1 || f["connections"] < 1 || f["bytes_up"] < 1 || f["bytes_down"] < 1 || f["bpe"] < 1 {
				return false
			}
		}
		return true
	})
	for _, name := range techniques {
		t.Logf("%-16s %v", name, lanes[name].Figs)
	}
	// A poll per event at least, for the two polling techniques; the streams keep one
	// request open (the message posted over WebSocket did not add a request there).
	if sp, lp := lanes["short-polling"].Figs["requests"], lanes["long-polling"].Figs["requests"]; sp < 2 || lp < 2 {
		t.Errorf("short polling made %v requests, long polling %v; want a request per poll", sp, lp)
	}
	for _, name := range []string{"iframe-streaming", "sse", "websocket"} {
		if r := lanes[name].Figs["requests"]; r != 1 {
			t.Errorf("%s: %v requests, want the one that opened the stream", name, r)
		}
	}
	// The explanation table filled in.
	why := eval[string](t, tab, `document.querySelector('#rt-table tbody[data-technique="websocket"] [data-col="why"]').textContent`)
	if !strings.Contains(why, "frame") {
		t.Errorf("the table's sentence for WebSocket is %q", why)
	}
}

func TestRealtimeTechniquePageInBrowser(t *testing.T) {
	browser := browsertest.New(t)
	base := startSite(t)
	tab := browsertest.Tab(t, browser)
	browsertest.Bounded(t, tab, 15*time.Second, "open the long-polling page",
		chromedp.Navigate(base+"/zh/realtime/long-polling"),
		chromedp.WaitVisible(chromedp.CSS(".rt-lane[data-technique=long-polling]")))
	eval[bool](t, tab, rtRecorderJS) // install the event recorder

	st, err := loadSite()
	if err != nil {
		t.Fatal(err)
	}
	if h1 := eval[string](t, tab, `document.querySelector("h1").textContent`); h1 != st.t("zh", "realtime.long-polling.title") {
		t.Errorf("h1 is %q, want the Chinese title %q", h1, st.t("zh", "realtime.long-polling.title"))
	}
	if n := eval[int](t, tab, `document.querySelectorAll(".rt-lane").length`); n != 1 {
		t.Errorf("%d lanes on a technique page, want 1", n)
	}

	// Two generated events, one a second, each answering a held request.
	rtWait(t, tab, 15*time.Second, "two events", func(ls map[string]rtLane) bool {
		l := ls["long-polling"]
		return l.State == "open" && len(l.IDs) >= 2
	})
	if s := eval[string](t, tab, `document.querySelector(".rt-state").textContent`); s != st.t("zh", "realtime.js.state.open") {
		t.Errorf("state reads %q, want %q", s, st.t("zh", "realtime.js.state.open"))
	}

	// Post a message: here it goes up by an HTTP request and comes back as an event.
	msg := fmt.Sprintf("你好 %d", time.Now().UnixNano())
	browsertest.Bounded(t, tab, 10*time.Second, "post a message",
		chromedp.SetValue(chromedp.CSS("#rt-send input[name=text]"), msg),
		chromedp.Click(chromedp.CSS("#rt-send button[type=submit]")))
	lanes := rtWait(t, tab, 10*time.Second, "the message and the figures", func(ls map[string]rtLane) bool {
		l := ls["long-polling"]
		_, got := l.Chats[msg]
		return got && l.Figs["requests"] >= 2 && l.Figs["bytes_up"] > 0 && l.Figs["bytes_down"] > 0 && l.Figs["received"] >= 3
	})
	l := lanes["long-polling"]
	for i := 1; i < len(l.IDs); i++ {
		if l.IDs[i] != l.IDs[i-1]+1 {
			t.Errorf("events displayed %v: want consecutive IDs, none missing or repeated", l.IDs)
			break
		}
	}
	// Long polling answers every event with the response to a held request, so it
	// has made at least one request per event displayed (and never an empty one
	// here: events come every second, far inside the 20 s timeout).
	if l.Figs["requests"] < float64(len(l.IDs)) || l.Figs["empty"] != 0 {
		t.Errorf("%v requests, %v empty for %d events", l.Figs["requests"], l.Figs["empty"], len(l.IDs))
	}
	t.Logf("long polling: %v, events %v", l.Figs, l.IDs)
}

func keysOf[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
