package realtime

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/learnws/learnws/framing"
	"github.com/learnws/learnws/handshake"
)

// Issue 15: sessions per client address (item 4), and the /ws stream's write
// deadlines (item 1) and close reasons (item 5).

// streamWriter is a ResponseWriter for a stream served in a test: it tells when the
// handler has started writing (the stream is open) and discards the bytes.
type streamWriter struct {
	header  http.Header
	once    sync.Once
	started chan int // the status, once
}

func newStreamWriter() *streamWriter {
	return &streamWriter{header: http.Header{}, started: make(chan int, 1)}
}
func (w *streamWriter) Header() http.Header { return w.header }
func (w *streamWriter) WriteHeader(code int) {
	w.once.Do(func() { w.started <- code })
}
func (w *streamWriter) Write(p []byte) (int, error) { w.WriteHeader(http.StatusOK); return len(p), nil }
func (w *streamWriter) Flush()                      {}

// TestSessionsPerAddress is issue 15 item 4: one client opening event streams with
// fresh session ids gets its own few sessions and then 429; it cannot fill the
// server's sessions, so a learner from another address still gets in.
func TestSessionsPerAddress(t *testing.T) {
	const maxSessions, perAddr = 16, 3
	h := NewHandler(Config{Rate: 1e-6, MaxSessions: maxSessions, MaxSessionsPerAddr: perAddr})
	defer h.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var streams sync.WaitGroup
	defer func() { cancel(); streams.Wait() }()

	refused := 0
	for i := range maxSessions { // as many as the whole server holds
		r := httptest.NewRequestWithContext(ctx, "GET", fmt.Sprintf("/sse?sid=flood-%04d", i), nil)
		r.RemoteAddr = "192.0.2.1:4000"
		w := newStreamWriter()
		streams.Go(func() { h.ServeHTTP(w, r) })
		switch code := <-w.started; code {
		case http.StatusOK:
		case http.StatusTooManyRequests:
			refused++
		default:
			t.Fatalf("stream %d: status %d", i, code)
		}
	}
	if want := maxSessions - perAddr; refused != want {
		t.Errorf("one address opened %d sessions; want %d (%d refused, want %d)", maxSessions-refused, perAddr, refused, want)
	}

	w := httptest.NewRecorder()
	r := httptest.NewRequest("GET", "/poll?sid=another-learner", nil)
	r.RemoteAddr = "198.51.100.7:5000"
	h.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		t.Errorf("a learner from another address: %d %q; want 200", w.Code, w.Body)
	}
}

// TestSessionsPerAddressMakeRoom: at its limit, an address's own session with
// nothing open (a closed tab) makes room for its new one.
func TestSessionsPerAddressMakeRoom(t *testing.T) {
	h := NewHandler(Config{Rate: 1e-6, MaxSessionsPerAddr: 2})
	defer h.Close()
	for i := range 4 {
		w := httptest.NewRecorder()
		r := httptest.NewRequest("GET", fmt.Sprintf("/poll?sid=tab-%04d", i), nil)
		r.RemoteAddr = "192.0.2.1:4000"
		h.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			t.Fatalf("poll %d: %d %q", i, w.Code, w.Body)
		}
	}
	if n := h.Sessions(); n != 2 {
		t.Errorf("%d sessions kept for one address; want 2", n)
	}
}

// wsPeer is a client of /ws with its read side running.
type wsPeer struct {
	c     *framing.Conn
	pongs chan string
	msgs  chan []byte
	ended chan error
}

func dialWS(t *testing.T, srv *httptest.Server, sid string) *wsPeer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cc, err := handshake.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/ws?sid="+sid, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := &wsPeer{pongs: make(chan string, 4), msgs: make(chan []byte, 64), ended: make(chan error, 1)}
	p.c = framing.NewConn(cc.Conn, cc.Reader, framing.RoleClient, &framing.Options{OnPong: func(b []byte) { p.pongs <- string(b) }})
	t.Cleanup(func() { p.c.NetConn().Close() })
	go func() {
		for {
			_, m, err := p.c.ReadMessage()
			if err != nil {
				p.ended <- err
				return
			}
			select {
			case p.msgs <- m:
			default:
			}
		}
	}()
	return p
}

func (p *wsPeer) closedWith(t *testing.T, code framing.CloseCode, reason string) {
	t.Helper()
	select {
	case err := <-p.ended:
		var ce *framing.CloseError
		if !errors.As(err, &ce) || ce.Code != code || ce.Reason != reason {
			t.Errorf("got %v, want close %d %q", err, code, reason)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("no close %d %q", code, reason)
	}
}

// TestWebSocketCloseReasons is issue 15 item 5: a stream ended by the server's
// shutdown says "server shutting down"; one ended by StreamMax, "stream ended".
func TestWebSocketCloseReasons(t *testing.T) {
	t.Run("shutdown", func(t *testing.T) {
		h := NewHandler(Config{Rate: 1e-6})
		srv := httptest.NewServer(h)
		defer srv.Close()
		p := dialWS(t, srv, "closing-reasons")
		waitUntil(t, "the stream to open", func() bool { return activeAll(h, WebSocket) == 1 })
		h.Close()
		p.closedWith(t, framing.CloseGoingAway, "server shutting down")
	})
	t.Run("StreamMax", func(t *testing.T) {
		h := NewHandler(Config{Rate: 1e-6, StreamMax: 200 * time.Millisecond})
		defer h.Close()
		srv := httptest.NewServer(h)
		defer srv.Close()
		dialWS(t, srv, "closing-reasons").closedWith(t, framing.CloseGoingAway, "stream ended")
	})
}

// TestWebSocketQuietStreamAnswersPings is issue 15 item 1 for /ws: the deadline of
// one event's write must not outlive it; three write timeouts after the last event,
// a ping is still answered.
func TestWebSocketQuietStreamAnswersPings(t *testing.T) {
	const writeTimeout = 300 * time.Millisecond
	h := NewHandler(Config{Rate: 1e-6, WriteTimeout: writeTimeout, Heartbeat: time.Hour})
	defer h.Close()
	srv := httptest.NewServer(h)
	defer srv.Close()
	p := dialWS(t, srv, "quiet-stream")
	// A chat message goes into the feed and comes back as an event: one write.
	if err := p.c.WriteMessage(framing.OpText, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.msgs:
	case err := <-p.ended:
		t.Fatal(err)
	case <-time.After(10 * time.Second):
		t.Fatal("no event")
	}
	time.Sleep(3 * writeTimeout)
	if err := p.c.Ping([]byte("still there?")); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-p.pongs:
		if got != "still there?" {
			t.Errorf("pong %q", got)
		}
	case err := <-p.ended:
		t.Fatalf("no pong, the connection ended: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("no pong")
	}
}
