package realtime

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/learnws/learnws/wire"
)

// TestReleaseAfterClientsLeave: 1,000 clients per technique open a poll or a
// stream (a WebSocket too) and vanish without a goodbye, mid-poll or
// mid-stream. The server must end every handler, close every connection and
// keep no goroutine, timer or generator behind.
func TestReleaseAfterClientsLeave(t *testing.T) {
	if testing.Short() {
		t.Skip("opens 5,000 connections")
	}
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	const clients = 1000

	// No events: polls stay open. All 20 sessions come from this one address.
	h := NewHandler(Config{Rate: 1e-6, LongPollTimeout: time.Minute, MaxSessionsPerAddr: 20})
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := wire.NewListener(tcp, wire.Options{})
	srv := &http.Server{Handler: h, ConnContext: wire.ConnContext}
	go srv.Serve(ln)
	addr := tcp.Addr().String()
	baseline := runtime.NumGoroutine()

	requests := map[Technique]string{
		ShortPolling:    "GET /poll?sid=%s HTTP/1.1\r\nHost: x\r\n\r\n",
		LongPolling:     "GET /long?sid=%s HTTP/1.1\r\nHost: x\r\n\r\n",
		IframeStreaming: "GET /iframe?sid=%s HTTP/1.1\r\nHost: x\r\n\r\n",
		SSE:             "GET /sse?sid=%s HTTP/1.1\r\nHost: x\r\n\r\n",
		WebSocket: "GET /ws?sid=%s HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
			"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
	}
	for _, tq := range Techniques {
		conns := make([]net.Conn, 0, clients)
		for i := range clients {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatalf("%s: client %d: %v (ulimit -n?)", tq, i, err)
			}
			sid := fmt.Sprintf("release-%d", i%20) // 20 sessions, 50 clients each
			if _, err := fmt.Fprintf(c, requests[tq], sid); err != nil {
				t.Fatal(err)
			}
			conns = append(conns, c)
		}
		// Wait until each client got its answer started (status line): the
		// handler is mid-stream. A long poll has not answered yet: it waits.
		for _, c := range conns {
			if tq == LongPolling {
				break
			}
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			line, err := bufio.NewReader(c).ReadString('\n')
			if err != nil || !strings.HasPrefix(line, "HTTP/1.1 ") {
				t.Fatalf("%s: %q %v", tq, line, err)
			}
		}
		if tq != ShortPolling {
			waitUntil(t, fmt.Sprintf("%s: %d open", tq, clients), func() bool { return activeAll(h, tq) == clients })
		}
		for _, c := range conns {
			c.Close() // gone, without a word
		}
		waitUntil(t, fmt.Sprintf("%s: handlers ended", tq), func() bool { return activeAll(h, tq) == 0 })
	}
	waitUntil(t, "connections closed", func() bool { return ln.Totals().Active() == 0 })
	if n := h.Sessions(); n != 20 {
		t.Errorf("%d sessions, want 20", n)
	}
	h.sweep(time.Now().Add(time.Hour)) // every session is idle now: generators stop
	if n := h.Sessions(); n != 0 {
		t.Errorf("%d sessions after sweep", n)
	}
	waitUntil(t, "goroutines back to baseline", func() bool { return runtime.NumGoroutine() <= baseline })
	srv.Close()
	h.Close()
}

func activeAll(h *Handler, t Technique) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, s := range h.sessions {
		n += int(s.tech[t].active.Load())
	}
	return n
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 15 s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
