package lab

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/learnws/learnws/framing"
)

// Issue 15 item 5: the lab socket's write timeout, FIN, shutdown reason and 405.

// TestLabSocketWriteTimeout is issue 15 item 5: an owner whose page stops reading
// does not hold the lab socket's goroutine (and its echo) forever: the socket's write
// timeout ends the connection.
func TestLabSocketWriteTimeout(t *testing.T) {
	l, srv := newTestServer(t, Limits{WriteTimeout: 200 * time.Millisecond})
	c := dialLab(t, srv)
	s := l.Session(c.id)
	// This client sends and never reads: the echoes fill the socket buffers (kept
	// small on the client's side), then the server's write blocks.
	if tc, ok := c.cc.Conn.(*net.TCPConn); ok {
		tc.SetReadBuffer(4 << 10)
	}
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		msg := make([]byte, 200<<10)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if c.conn.WriteMessage(framing.OpBinary, msg) != nil {
				return
			}
		}
	}()
	waitFor(t, "the server to drop a socket that stopped reading", func() bool { return !s.Live() })
}

// closeWatch is a TCP connection that records, in order, when the server half-closes
// it (CloseWrite: the FIN) and closes it.
type closeWatch struct {
	*net.TCPConn
	mu     sync.Mutex
	events []string
}

func (c *closeWatch) note(e string) {
	c.mu.Lock()
	c.events = append(c.events, e)
	c.mu.Unlock()
}
func (c *closeWatch) CloseWrite() error { c.note("close-write"); return c.TCPConn.CloseWrite() }
func (c *closeWatch) Close() error      { c.note("close"); return c.TCPConn.Close() }
func (c *closeWatch) seen() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.events...)
}

// TestFailedLabSocketHalfClosesAtOnce is issue 15 item 5's late FIN: when the lab
// fails a connection (here, an unmasked client frame: 1002), the server sends its
// close frame and then its FIN at once (framing.Conn half-closes through the tap),
// and only then closes the connection — not a second later, when it stops waiting
// for the client.
func TestFailedLabSocketHalfClosesAtOnce(t *testing.T) {
	l := New(Options{})
	defer l.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	sc, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	watched := &closeWatch{TCPConn: sc.(*net.TCPConn)}
	s, err := l.reg.open("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		l.serveConn(s, "lab", watched, nil, false, true)
	}()

	client.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(client)
	if h, err := framing.ReadHeader(br); err != nil || h.Opcode != framing.OpText {
		t.Fatalf("welcome: %v %v", h, err)
	} else {
		br.Discard(int(h.PayloadLength))
	}
	client.Write(framing.AppendFrame(nil, framing.Header{Fin: true, Opcode: framing.OpText}, []byte("not masked")))
	h, err := framing.ReadHeader(br)
	if err != nil || h.Opcode != framing.OpClose {
		t.Fatalf("want the server's close frame, got %v %v", h, err)
	}
	br.Discard(int(h.PayloadLength))
	// The client neither answers nor closes: the FIN must come anyway.
	if _, err := br.ReadByte(); err != io.EOF {
		t.Fatalf("after the close frame: %v, want EOF", err)
	}
	client.Close()
	<-served
	if got := watched.seen(); len(got) == 0 || got[0] != "close-write" {
		t.Errorf("the server's connection saw %v; want a half-close (FIN) first, then close", got)
	}
}

// TestLabClosingSaysShuttingDown is issue 15 item 5's shutdown reason: when the lab
// closes because the server stops (Lab.Close, run at shutdown), the socket's 1001
// says "server shutting down", not "idle for too long".
func TestLabClosingSaysShuttingDown(t *testing.T) {
	l, srv := newTestServer(t, Limits{})
	c := dialLab(t, srv)
	read := make(chan error, 1)
	go func() {
		for {
			if _, _, err := c.conn.ReadMessage(); err != nil {
				read <- err
				return
			}
		}
	}()
	l.Close()
	select {
	case err := <-read:
		var ce *framing.CloseError
		if !errors.As(err, &ce) || ce.Code != framing.CloseGoingAway || ce.Reason != "server shutting down" {
			t.Errorf("got %v, want 1001 \"server shutting down\"", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no close after Lab.Close")
	}
}

// TestLabSocketRefusesOtherMethods: POST /ws/lab gets the handshake's 405 with
// "Allow: GET", as /ws/echo does, and opens no session.
func TestLabSocketRefusesOtherMethods(t *testing.T) {
	l := New(Options{})
	defer l.Close()
	for _, method := range []string{"POST", "PUT", "HEAD"} {
		w := httptest.NewRecorder()
		r := httptest.NewRequest(method, "/ws/lab", strings.NewReader("x"))
		r.Header.Set("Connection", "Upgrade")
		r.Header.Set("Upgrade", "websocket")
		r.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
		r.Header.Set("Sec-WebSocket-Version", "13")
		l.ServeWS(w, r)
		if w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != "GET" {
			t.Errorf("%s /ws/lab = %d, Allow %q; want 405, Allow: GET", method, w.Code, w.Header().Get("Allow"))
		}
	}
	if n := l.Registry().Len(); n != 0 {
		t.Errorf("%d sessions opened by refused requests", n)
	}
}
