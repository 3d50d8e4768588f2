package learnws

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/gorilla/websocket"

	"github.com/learnws/learnws/framing"
	"github.com/learnws/learnws/handshake"
)

// Interop in both directions with gorilla/websocket, the production reference:
// gorilla's client against our /ws/echo, and our client (handshake.Dial + framing.Conn)
// against /ws/gorilla/echo and against a bare gorilla server that shares no code with
// this package.

// interopSizes are the payload lengths at the edges of the three length forms.
var interopSizes = []int{0, 1, 125, 126, 127, 65535, 65536, 1 << 20}

const testTimeout = 20 * time.Second

func newTestServer(t testing.TB) (*Server, *httptest.Server) {
	t.Helper()
	return newTestServerWith(t, Config{})
}

// newTestServerWith is newTestServer with a Config.
func newTestServerWith(t testing.TB, cfg Config) (*Server, *httptest.Server) {
	t.Helper()
	s, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return s, ts
}

func wsURL(ts *httptest.Server, path string) string {
	return "ws" + strings.TrimPrefix(ts.URL, "http") + path
}

// payloadOf returns n bytes that are valid UTF-8 (ASCII) with a pattern that shows
// misplaced bytes.
func payloadOf(n int) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = 'a' + byte(i%26)
	}
	return p
}

// bareGorillaServer is a gorilla/websocket echo server written the way gorilla's own
// examples are, without any of our code.
func bareGorillaServer(t testing.TB) *httptest.Server {
	t.Helper()
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for {
			mt, p, err := c.ReadMessage()
			if err != nil {
				return
			}
			if err := c.WriteMessage(mt, p); err != nil {
				return
			}
		}
	}))
	t.Cleanup(ts.Close)
	return ts
}

// gorillaDial connects gorilla's client, from a foreign Origin (the echo services accept
// any).
func gorillaDial(t testing.TB, url string, d *websocket.Dialer) *websocket.Conn {
	t.Helper()
	if d == nil {
		d = &websocket.Dialer{}
	}
	h := http.Header{"Origin": {"http://evil.example"}}
	c, resp, err := d.Dial(url, h)
	if err != nil {
		t.Fatalf("gorilla dial %s: %v (response %v)", url, err, resp)
	}
	t.Cleanup(func() { c.Close() })
	c.SetReadDeadline(time.Now().Add(testTimeout))
	return c
}

// ourDial connects our own client.
func ourDial(t testing.TB, url string, opt *framing.Options) *framing.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	cc, err := handshake.Dial(ctx, url, &handshake.DialOptions{Origin: "http://evil.example"})
	if err != nil {
		t.Fatalf("our dial %s: %v", url, err)
	}
	c := framing.NewConn(cc.Conn, cc.Reader, framing.RoleClient, opt)
	t.Cleanup(func() { c.NetConn().Close() })
	c.SetReadDeadline(time.Now().Add(testTimeout))
	return c
}

func TestGorillaClientAgainstOurEcho(t *testing.T) {
	_, ts := newTestServer(t)
	url := wsURL(ts, "/ws/echo")

	t.Run("sizes", func(t *testing.T) {
		c := gorillaDial(t, url, nil)
		for _, mt := range []int{websocket.TextMessage, websocket.BinaryMessage} {
			for _, n := range interopSizes {
				p := payloadOf(n)
				if err := c.WriteMessage(mt, p); err != nil {
					t.Fatalf("write %d bytes: %v", n, err)
				}
				gt, got, err := c.ReadMessage()
				if err != nil {
					t.Fatalf("read echo of %d bytes: %v", n, err)
				}
				if gt != mt || !bytes.Equal(got, p) {
					t.Fatalf("type %d, %d bytes: echo is type %d, %d bytes", mt, n, gt, len(got))
				}
			}
		}
	})

	t.Run("fragmented", func(t *testing.T) {
		// A small write buffer makes gorilla's writer send a 10000-byte message as
		// several frames; each Write below adds more.
		c := gorillaDial(t, url, &websocket.Dialer{WriteBufferSize: 1024})
		for _, mt := range []int{websocket.TextMessage, websocket.BinaryMessage} {
			w, err := c.NextWriter(mt)
			if err != nil {
				t.Fatal(err)
			}
			p := payloadOf(10000)
			for i := 0; i < len(p); i += 3000 {
				if _, err := w.Write(p[i:min(i+3000, len(p))]); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			gt, got, err := c.ReadMessage()
			if err != nil || gt != mt || !bytes.Equal(got, p) {
				t.Fatalf("fragmented echo: type %d, %d bytes, %v", gt, len(got), err)
			}
		}
	})

	t.Run("ping", func(t *testing.T) {
		c := gorillaDial(t, url, nil)
		pongs := make(chan string, 1)
		c.SetPongHandler(func(s string) error { pongs <- s; return nil })
		if err := c.WriteControl(websocket.PingMessage, []byte("are you there?"), time.Now().Add(time.Second)); err != nil {
			t.Fatal(err)
		}
		if err := c.WriteMessage(websocket.TextMessage, []byte("after the ping")); err != nil {
			t.Fatal(err)
		}
		// The pong arrives before the echo; gorilla calls the handler while reading.
		if _, p, err := c.ReadMessage(); err != nil || string(p) != "after the ping" {
			t.Fatalf("echo after ping: %q %v", p, err)
		}
		select {
		case s := <-pongs:
			if s != "are you there?" {
				t.Errorf("pong payload %q", s)
			}
		default:
			t.Error("no pong before the echo")
		}
	})

	for _, tc := range []struct {
		code   int
		reason string
	}{{1000, ""}, {1000, "done"}, {1001, "going away"}, {4000, "private code"}, {3000, strings.Repeat("r", 123)}} {
		t.Run(fmt.Sprintf("close %d %.10s", tc.code, tc.reason), func(t *testing.T) {
			c := gorillaDial(t, url, nil)
			msg := websocket.FormatCloseMessage(tc.code, tc.reason)
			if err := c.WriteMessage(websocket.CloseMessage, msg); err != nil {
				t.Fatal(err)
			}
			_, _, err := c.ReadMessage()
			var ce *websocket.CloseError
			if !errors.As(err, &ce) || ce.Code != tc.code {
				t.Fatalf("after close %d: %v, want the server to echo the code", tc.code, err)
			}
		})
	}

	// Violations fail the connection with the RFC's close code.
	for _, tc := range []struct {
		name string
		send func(*websocket.Conn) error
		code int
	}{
		{"invalid UTF-8", func(c *websocket.Conn) error { return c.WriteMessage(websocket.TextMessage, []byte{'a', 0xff}) }, 1007},
		{"close code 1005 on the wire", func(c *websocket.Conn) error {
			return c.WriteMessage(websocket.CloseMessage, []byte{0x03, 0xed})
		}, 1002},
		{"close reason not UTF-8", func(c *websocket.Conn) error {
			return c.WriteMessage(websocket.CloseMessage, []byte{0x03, 0xe8, 0xff})
		}, 1007},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := gorillaDial(t, url, nil)
			if err := tc.send(c); err != nil {
				t.Fatal(err)
			}
			_, _, err := c.ReadMessage()
			var ce *websocket.CloseError
			if !errors.As(err, &ce) || ce.Code != tc.code {
				t.Fatalf("got %v, want close %d", err, tc.code)
			}
		})
	}
}

// ourClientTargets are the gorilla servers our client is tested against, and our own.
func ourClientTargets(t *testing.T) map[string]string {
	_, ts := newTestServer(t)
	return map[string]string{
		"gorilla-echo-route": wsURL(ts, "/ws/gorilla/echo"),
		"bare-gorilla":       wsURL(bareGorillaServer(t), "/"),
		"our-echo":           wsURL(ts, "/ws/echo"),
	}
}

func TestOurClientAgainstGorilla(t *testing.T) {
	for name, url := range ourClientTargets(t) {
		t.Run(name, func(t *testing.T) {
			t.Run("sizes", func(t *testing.T) {
				c := ourDial(t, url, nil)
				for _, op := range []framing.Opcode{framing.OpText, framing.OpBinary} {
					for _, n := range interopSizes {
						p := payloadOf(n)
						if err := c.WriteMessage(op, p); err != nil {
							t.Fatalf("write %d bytes: %v", n, err)
						}
						got, gp, err := c.ReadMessage()
						if err != nil {
							t.Fatalf("read echo of %d bytes: %v", n, err)
						}
						if got != op || !bytes.Equal(gp, p) {
							t.Fatalf("%s, %d bytes: echo is %s, %d bytes", op, n, got, len(gp))
						}
					}
				}
				if err := c.Close(framing.CloseNormal, "bye"); err != nil {
					t.Errorf("close: %v", err)
				}
			})

			t.Run("fragmented with a ping between", func(t *testing.T) {
				pongs := make(chan string, 4)
				c := ourDial(t, url, &framing.Options{OnPong: func(p []byte) { pongs <- string(p) }})
				for _, op := range []framing.Opcode{framing.OpText, framing.OpBinary} {
					parts := [][]byte{payloadOf(100), payloadOf(70000), nil, payloadOf(3)}
					for i, part := range parts {
						h := framing.Header{Fin: i == len(parts)-1, Opcode: framing.OpContinuation}
						if i == 0 {
							h.Opcode = op
						}
						if err := c.WriteFrame(h, part); err != nil {
							t.Fatal(err)
						}
						if i == 1 {
							// Control frames may come between fragments (§5.4).
							if err := c.Ping([]byte("mid-message")); err != nil {
								t.Fatal(err)
							}
						}
					}
					got, gp, err := c.ReadMessage()
					want := bytes.Join(parts, nil)
					if err != nil || got != op || !bytes.Equal(gp, want) {
						t.Fatalf("fragmented %s: got %s, %d bytes, %v; want %d bytes", op, got, len(gp), err, len(want))
					}
					select {
					case p := <-pongs:
						if p != "mid-message" {
							t.Errorf("pong %q", p)
						}
					default:
						t.Errorf("no pong before the echo")
					}
				}
			})

			t.Run("close code and reason", func(t *testing.T) {
				c := ourDial(t, url, nil)
				if err := c.Close(4001, "done here"); err != nil {
					t.Fatalf("close handshake: %v", err)
				}
				_, _, err := c.ReadMessage()
				var ce *framing.CloseError
				if !errors.As(err, &ce) || ce.Code != 4001 {
					t.Fatalf("after Close: %v, want the peer's close 4001", err)
				}
			})
		})
	}
}

// TestGorillaEchoRejectsInvalidUTF8: our gorilla route behaves like ours on bad text.
func TestGorillaEchoRejectsInvalidUTF8(t *testing.T) {
	_, ts := newTestServer(t)
	c := ourDial(t, wsURL(ts, "/ws/gorilla/echo"), nil)
	if err := c.WriteMessage(framing.OpText, []byte{0xc3, 0x28}); err != nil {
		t.Fatal(err)
	}
	_, _, err := c.ReadMessage()
	var ce *framing.CloseError
	if !errors.As(err, &ce) || ce.Code != framing.CloseInvalidPayload {
		t.Fatalf("got %v, want close 1007", err)
	}
}

// TestByteIdentity: for the same message, our server and gorilla's write the same
// unmasked frame bytes.
func TestByteIdentity(t *testing.T) {
	_, ts := newTestServer(t)
	for _, n := range []int{0, 5, 125, 126, 65535, 65536} {
		var frames [2][]byte
		for i, path := range []string{"/ws/echo", "/ws/gorilla/echo"} {
			var mu sync.Mutex
			var raw []byte
			c := ourDial(t, wsURL(ts, path), &framing.Options{Trace: func(ev framing.TraceEvent) {
				if ev.Dir == framing.Read {
					mu.Lock()
					raw = append(raw, ev.Raw...)
					mu.Unlock()
				}
			}})
			if err := c.WriteMessage(framing.OpBinary, payloadOf(n)); err != nil {
				t.Fatal(err)
			}
			if _, _, err := c.ReadMessage(); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			frames[i] = raw
			mu.Unlock()
			c.Close(framing.CloseNormal, "")
		}
		if !bytes.Equal(frames[0], frames[1]) {
			t.Errorf("%d bytes: ours % x… differs from gorilla's % x…", n, frames[0][:min(16, len(frames[0]))], frames[1][:min(16, len(frames[1]))])
		}
	}
}

func TestHealthz(t *testing.T) {
	_, ts := newTestServer(t)
	resp, err := http.Get(ts.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "ok\n" {
		t.Errorf("GET /healthz = %d %q", resp.StatusCode, body)
	}
	req, _ := http.NewRequest("GET", ts.URL+"/healthz", nil)
	req.Header.Set("Accept", "application/json")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || strings.TrimSpace(string(body)) != `{"status":"ok"}` {
		t.Errorf("GET /healthz (JSON) = %d %q", resp.StatusCode, body)
	}
}

// TestEchoRefusesPlainGET: a request that is not an upgrade gets a readable 4xx from
// both endpoints, not a hang or a 500.
func TestEchoRefusesPlainGET(t *testing.T) {
	_, ts := newTestServer(t)
	for _, path := range []string{"/ws/echo", "/ws/gorilla/echo"} {
		resp, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode < 400 || resp.StatusCode >= 500 || len(body) == 0 {
			t.Errorf("GET %s = %d %q, want a 4xx with a reason", path, resp.StatusCode, body)
		}
	}
	// Version 8 gets 426 and the version we speak.
	req, _ := http.NewRequest("GET", ts.URL+"/ws/echo", nil)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	req.Header.Set("Sec-WebSocket-Version", "8")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 426 || resp.Header.Get("Sec-WebSocket-Version") != "13" {
		t.Errorf("version 8: %d, Sec-WebSocket-Version %q", resp.StatusCode, resp.Header.Get("Sec-WebSocket-Version"))
	}
}

// TestEchoRefusesOtherMethods: a handshake must be a GET (RFC 6455 §4.2.1 item 1);
// both endpoints answer any other method with 405 and "Allow: GET" (ours) or
// gorilla's own 405.
func TestEchoRefusesOtherMethods(t *testing.T) {
	_, ts := newTestServer(t)
	for _, path := range []string{"/ws/echo", "/ws/gorilla/echo"} {
		for _, method := range []string{"POST", "PUT", "DELETE"} {
			req, _ := http.NewRequest(method, ts.URL+path, strings.NewReader("x"))
			req.Header.Set("Connection", "Upgrade")
			req.Header.Set("Upgrade", "websocket")
			req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
			req.Header.Set("Sec-WebSocket-Version", "13")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusMethodNotAllowed {
				t.Errorf("%s %s = %d, want 405", method, path, resp.StatusCode)
			}
			if path == "/ws/echo" && resp.Header.Get("Allow") != "GET" {
				t.Errorf("%s %s: Allow %q, want GET", method, path, resp.Header.Get("Allow"))
			}
		}
	}
}

// TestRecoveryHidesPanic: a panicking handler gives a plain 500 and no internals.
func TestRecoveryHidesPanic(t *testing.T) {
	s, ts := newTestServer(t)
	s.engine.GET("/test-panic", func(*gin.Context) { panic("secret internal detail") })
	resp, err := http.Get(ts.URL + "/test-panic")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 500 || strings.Contains(string(body), "secret") || strings.Contains(string(body), "goroutine") {
		t.Errorf("panic: %d %q", resp.StatusCode, body)
	}
}

// TestShutdownSendsGoingAway: every open WebSocket, ours and gorilla's, whatever the
// client, receives close 1001 "server shutting down", and Shutdown waits for them.
func TestShutdownSendsGoingAway(t *testing.T) {
	s, err := NewServer(Config{})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()
	base := "ws://" + ln.Addr().String()

	type result struct {
		who    string
		code   int
		reason string
		err    error
	}
	results := make(chan result, 4)
	var ready sync.WaitGroup
	for _, path := range []string{"/ws/echo", "/ws/gorilla/echo"} {
		g := gorillaDial(t, base+path, nil)
		// One round trip first, so the server handler is surely running.
		g.WriteMessage(websocket.TextMessage, []byte("hi"))
		if _, _, err := g.ReadMessage(); err != nil {
			t.Fatal(err)
		}
		ready.Add(1)
		go func() {
			ready.Done()
			_, _, err := g.ReadMessage()
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				results <- result{"gorilla client " + path, ce.Code, ce.Text, nil}
			} else {
				results <- result{"gorilla client " + path, 0, "", err}
			}
		}()

		o := ourDial(t, base+path, nil)
		o.WriteMessage(framing.OpText, []byte("hi"))
		if _, _, err := o.ReadMessage(); err != nil {
			t.Fatal(err)
		}
		ready.Add(1)
		go func() {
			ready.Done()
			_, _, err := o.ReadMessage()
			var ce *framing.CloseError
			if errors.As(err, &ce) {
				results <- result{"our client " + path, int(ce.Code), ce.Reason, nil}
			} else {
				results <- result{"our client " + path, 0, "", err}
			}
		}()
	}
	ready.Wait()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	for range 4 {
		select {
		case r := <-results:
			if r.err != nil || r.code != 1001 || r.reason != "server shutting down" {
				t.Errorf("%s: code %d reason %q err %v; want 1001 \"server shutting down\"", r.who, r.code, r.reason, r.err)
			}
		case <-time.After(testTimeout):
			t.Fatal("a client never saw the close")
		}
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		t.Errorf("Serve returned %v, want http.ErrServerClosed", err)
	}
	s.mu.Lock()
	left := len(s.conns)
	s.mu.Unlock()
	if left != 0 {
		t.Errorf("%d connections still tracked after Shutdown", left)
	}
}

// TestEchoDropsPeerThatStopsReading: a client that sends a big message and never
// reads the echo does not pin the handler (and its copy of the message) forever:
// the write deadline ends the connection (RFC 6455 §10.4).
func TestEchoDropsPeerThatStopsReading(t *testing.T) {
	// The message must be accepted (under the limit) for its echo to block.
	s, ts := newTestServerWith(t, Config{EchoWriteTimeout: 200 * time.Millisecond, EchoMaxMessage: 32 << 20})
	open := func() int {
		s.mu.Lock()
		defer s.mu.Unlock()
		return len(s.conns)
	}
	for _, path := range []string{"/ws/echo", "/ws/gorilla/echo"} {
		cc, err := handshake.Dial(context.Background(), wsURL(ts, path), nil)
		if err != nil {
			t.Fatal(err)
		}
		c := framing.NewConn(cc.Conn, cc.Reader, framing.RoleClient, nil)
		// 16 MiB is far more than loopback's socket buffers hold, so the echo
		// blocks until its deadline; this client never reads.
		go c.WriteMessage(framing.OpBinary, make([]byte, 16<<20))
		deadline := time.Now().Add(10 * time.Second)
		for open() == 0 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		for open() != 0 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if n := open(); n != 0 {
			t.Errorf("%s: %d connections still held 10 s after the peer stopped reading", path, n)
		}
		cc.Conn.Close()
	}
}
