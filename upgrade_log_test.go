package learnws

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/learnws/learnws/framing"
	"github.com/learnws/learnws/handshake"
)

// requestLog collects the request log's lines: "METHOD path" → statuses logged.
type requestLog struct {
	mu    sync.Mutex
	lines map[string][]int
}

func (l *requestLog) Enabled(context.Context, slog.Level) bool { return true }
func (l *requestLog) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *requestLog) WithGroup(string) slog.Handler            { return l }
func (l *requestLog) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "request" {
		return nil
	}
	var method, path string
	var status int
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "method":
			method = a.Value.String()
		case "path":
			path = a.Value.String()
		case "status":
			status = int(a.Value.Int64())
		}
		return true
	})
	l.mu.Lock()
	l.lines[method+" "+path] = append(l.lines[method+" "+path], status)
	l.mu.Unlock()
	return nil
}

// statusOf waits for the log line of the request and returns its status.
func (l *requestLog) statusOf(t *testing.T, request string) int {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for {
		l.mu.Lock()
		got := l.lines[request]
		l.mu.Unlock()
		if len(got) > 0 {
			return got[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no log line for %s", request)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestUpgradesAreLogged101 is issue 15 item 5: the request log says 101 for every
// request a WebSocket handshake took over (the 101 goes out on the hijacked
// connection, not through the ResponseWriter), and the real status for the others.
func TestUpgradesAreLogged101(t *testing.T) {
	log := &requestLog{lines: map[string][]int{}}
	_, base, _ := startEchoSite(t, Config{Logger: slog.New(log)})
	httpBase := "http" + strings.TrimPrefix(base, "ws")
	for _, path := range []string{"/ws/echo", "/ws/gorilla/echo", "/ws/lab", "/realtime/api/ws"} {
		u := base + path
		if path == "/realtime/api/ws" {
			u += "?sid=upgrade-log-test"
		}
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		cc, err := handshake.Dial(ctx, u, &handshake.DialOptions{Origin: httpBase})
		cancel()
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		// The log line is written when the handler returns: end the connection.
		c := framing.NewConn(cc.Conn, cc.Reader, framing.RoleClient, nil)
		go c.Close(framing.CloseNormal, "")
		if got := log.statusOf(t, "GET "+path); got != http.StatusSwitchingProtocols {
			t.Errorf("GET %s (upgraded) logged as %d, want 101", path, got)
		}
	}
	// Refused handshakes keep their own status.
	resp, err := http.Get(httpBase + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for request, want := range map[string]int{"POST /ws/echo": 405, "POST /ws/lab": 405, "GET /healthz": 200} {
		method, path, _ := strings.Cut(request, " ")
		if method == "POST" {
			resp, err := http.Post(httpBase+path, "text/plain", strings.NewReader("x"))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}
		if got := log.statusOf(t, request); got != want {
			t.Errorf("%s logged as %d, want %d", request, got, want)
		}
	}
}

// TestLabSocketRefusesPOST is issue 15 item 5: POST /ws/lab gets the handshake's 405
// and "Allow: GET", as POST /ws/echo does, not the 404 page.
func TestLabSocketRefusesPOST(t *testing.T) {
	_, base, _ := startEchoSite(t, Config{})
	httpBase := "http" + strings.TrimPrefix(base, "ws")
	for _, path := range []string{"/ws/lab", "/ws/echo"} {
		resp, err := http.Post(httpBase+path, "text/plain", strings.NewReader("x"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET" {
			t.Errorf("POST %s = %d, Allow %q; want 405 with Allow: GET", path, resp.StatusCode, resp.Header.Get("Allow"))
		}
	}
}

// TestShutdownReasonEverywhere is issue 15 item 5: at shutdown every WebSocket of the
// site — the echo, the lab socket, the real-time stream — is told "server shutting
// down", although the lab and the real-time handler also close their own sockets when
// the server stops (both goodbyes race; both must say the same).
func TestShutdownReasonEverywhere(t *testing.T) {
	for round := range 5 {
		_, base, shutdown := startEchoSite(t, Config{})
		httpBase := "http" + strings.TrimPrefix(base, "ws")
		ended := map[string]chan error{}
		for _, path := range []string{"/ws/echo", "/ws/lab", "/realtime/api/ws?sid=shutdown-reason"} {
			ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
			cc, err := handshake.Dial(ctx, base+path, &handshake.DialOptions{Origin: httpBase})
			cancel()
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			c := framing.NewConn(cc.Conn, cc.Reader, framing.RoleClient, nil)
			ch := make(chan error, 1)
			ended[path] = ch
			go func() {
				for {
					if _, _, err := c.ReadMessage(); err != nil {
						ch <- err
						return
					}
				}
			}()
		}
		shutdown()
		for path, ch := range ended {
			select {
			case err := <-ch:
				var ce *framing.CloseError
				if !errors.As(err, &ce) || ce.Code != framing.CloseGoingAway || ce.Reason != shutdownReason {
					t.Errorf("round %d, %s: %v; want 1001 %q", round, path, err, shutdownReason)
				}
			case <-time.After(testTimeout):
				t.Fatalf("round %d, %s: no close", round, path)
			}
		}
	}
}
