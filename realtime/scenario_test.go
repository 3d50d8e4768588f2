package realtime

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"
)

// testScenario is short: 10 events at 5/s (gaps 100–300 ms), short polls
// every 100 ms, so each technique takes about two seconds.
var testScenario = Scenario{Events: 10, Rate: 5, Clients: 5, PollInterval: 100 * time.Millisecond,
	LongPollTimeout: 5 * time.Second, Seed: 7}

var (
	reportOnce sync.Once
	report     *Report
	reportErr  error
)

// testReport runs testScenario once for all the tests that read it.
func testReport(t *testing.T) *Report {
	t.Helper()
	if testing.Short() {
		t.Skip("runs a 10 s scenario")
	}
	reportOnce.Do(func() {
		report, reportErr = Run(context.Background(), testScenario)
		if report != nil {
			b, _ := json.MarshalIndent(report, "", "  ")
			t.Logf("measured:\n%s", b)
		}
	})
	if reportErr != nil {
		t.Fatal(reportErr)
	}
	return report
}

// The first lesson's claim: per event delivered, WebSocket costs fewer bytes
// than long polling, which costs fewer than short polling (when polls are
// more frequent than events, as at the default rate).
func TestBytesPerEventOrder(t *testing.T) {
	rep := testReport(t)
	ws, lp, sp := rep.Get(WebSocket), rep.Get(LongPolling), rep.Get(ShortPolling)
	if !(ws.BytesPerEvent < lp.BytesPerEvent && lp.BytesPerEvent < sp.BytesPerEvent) {
		t.Errorf("bytes per event: websocket %.0f, long polling %.0f, short polling %.0f; want increasing",
			ws.BytesPerEvent, lp.BytesPerEvent, sp.BytesPerEvent)
	}
	// Streams pay the request once; their cost per event is the event plus framing.
	for _, s := range []Result{rep.Get(SSE), rep.Get(IframeStreaming), ws} {
		if s.Requests != int64(s.Clients) || s.Connections != int64(s.Clients) {
			t.Errorf("%s: %d requests on %d connections for %d clients; want one each", s.Technique, s.Requests, s.Connections, s.Clients)
		}
		if s.BytesPerEvent >= lp.BytesPerEvent {
			t.Errorf("%s: %.0f bytes per event, not below long polling's %.0f", s.Technique, s.BytesPerEvent, lp.BytesPerEvent)
		}
	}
	// Polling clients keep their connection alive, like browsers.
	for _, p := range []Result{sp, lp} {
		if p.Connections != int64(p.Clients) {
			t.Errorf("%s: %d connections for %d keep-alive clients", p.Technique, p.Connections, p.Clients)
		}
	}
}

// Short polling: an event waits for the next poll, on average half the
// interval (events fall at random phases of the poll cycle).
func TestShortPollingLatencyHalfInterval(t *testing.T) {
	sp := testReport(t).Get(ShortPolling)
	half := float64(testScenario.PollInterval.Milliseconds()) / 2
	if sp.LatencyP50MS < 0.5*half || sp.LatencyP50MS > 1.7*half {
		t.Errorf("short polling p50 latency %.1f ms; want near half the %v interval (%.0f ms)", sp.LatencyP50MS, testScenario.PollInterval, half)
	}
	if sp.EmptyResponses == 0 || sp.Requests <= int64(sp.Clients*sp.Events)/2 {
		t.Errorf("short polling: %d requests, %d empty; polls outnumber events, many must come back empty", sp.Requests, sp.EmptyResponses)
	}
	// Push techniques deliver in well under a poll interval.
	for _, tq := range []Technique{LongPolling, IframeStreaming, SSE, WebSocket} {
		r := testReport(t).Get(tq)
		if r.LatencyP50MS >= sp.LatencyP50MS/2 {
			t.Errorf("%s p50 latency %.1f ms; want far below short polling's %.1f", tq, r.LatencyP50MS, sp.LatencyP50MS)
		}
	}
}

// Long polling answers empty only when no event comes within its timeout:
// never here (gaps at most 1.5/rate = 300 ms, timeout 5 s)…
func TestLongPollingEmptyOnlyWhenEventsRarerThanTimeout(t *testing.T) {
	lp := testReport(t).Get(LongPolling)
	if lp.EmptyResponses != 0 {
		t.Errorf("long polling: %d empty responses although every gap is shorter than the timeout", lp.EmptyResponses)
	}
	// …but often when events are rarer than the timeout: gaps 250–750 ms, timeout 100 ms.
	rare := Scenario{Events: 3, Rate: 2, Clients: 3, LongPollTimeout: 100 * time.Millisecond, Seed: 3,
		Techniques: []Technique{LongPolling}}
	rep, err := Run(context.Background(), rare)
	if err != nil {
		t.Fatal(err)
	}
	r := rep.Get(LongPolling)
	if r.EmptyResponses < int64(r.Clients*r.Events) {
		t.Errorf("long polling with gaps above the timeout: %d empty responses, want at least one per gap per client (%d)", r.EmptyResponses, r.Clients*r.Events)
	}
}

func TestEveryoneReleased(t *testing.T) {
	for _, r := range testReport(t).Techniques {
		if !r.Released || r.Delivered != int64(r.Events*r.Clients) || r.ClientErrors != 0 {
			t.Errorf("%s: released=%v delivered=%d/%d client errors=%d", r.Technique, r.Released, r.Delivered, r.Events*r.Clients, r.ClientErrors)
		}
	}
}
