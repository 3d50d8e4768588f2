package realtime

import "fmt"

// Explain says in one sentence what a result shows (English; the race page
// has its own sentences in each language).
func Explain(r Result, sc ScenarioInfo) string {
	perEvent := func(n int64) float64 {
		if r.Delivered == 0 {
			return 0
		}
		return float64(n) / float64(r.Delivered)
	}
	switch r.Technique {
	case ShortPolling:
		empty := 0.0
		if r.Requests > 0 {
			empty = 100 * float64(r.EmptyResponses) / float64(r.Requests)
		}
		return fmt.Sprintf("%.1f requests per event and %.0f%% came back empty; an event waits for the next poll (p50 %.0f ms, about half the %.0f ms interval).",
			perEvent(r.Requests), empty, r.LatencyP50MS, sc.PollIntervalMS)
	case LongPolling:
		return fmt.Sprintf("The server holds each request until an event, so delivery is quick (p50 %.1f ms), but every event still costs a full request and response (%.1f requests per event); %d answers were empty timeouts.",
			r.LatencyP50MS, perEvent(r.Requests), r.EmptyResponses)
	case IframeStreaming:
		return fmt.Sprintf("One request per client, then every event is a <script> chunk of the same never-ending response: %.0f bytes per event, and the iframe's document grows forever.",
			r.BytesPerEvent)
	case SSE:
		return fmt.Sprintf("One request per client, then each event is a few lines of text/event-stream (%.0f bytes per event); the browser reconnects and resumes by itself, but it only goes server to client.",
			r.BytesPerEvent)
	case WebSocket:
		return fmt.Sprintf("One handshake per client, then each event is one frame with 2 bytes of header (%.0f bytes per event, handshake included), and the client can send on the same connection.",
			r.BytesPerEvent)
	}
	return ""
}
