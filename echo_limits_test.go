package learnws

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/learnws/learnws/framing"
	"github.com/learnws/learnws/handshake"
)

// The echo services' limits and timers (issue 15), tested with short settings: a
// test never waits for the production values, it waits a few times the short ones.

// echoPaths are both echo services: they must behave the same.
var echoPaths = []string{"/ws/echo", "/ws/gorilla/echo"}

// startEchoSite runs the site through Server.Serve (the production path, serveSite)
// and returns the server, its ws:// base, and a function that shuts it down
// gracefully, which a test may call before its end.
func startEchoSite(t *testing.T, cfg Config) (s *Server, base string, shutdown func()) {
	t.Helper()
	s, site := serveSite(t, cfg)
	shutdown = func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	}
	return s, "ws" + strings.TrimPrefix(site, "http"), shutdown
}

// echoPeer is our own client on an echo service, with its read side running:
// messages, pongs and pings received arrive on channels; ended gets the error that
// ended the read side (a *framing.CloseError for a closing handshake).
type echoPeer struct {
	c     *framing.Conn
	msgs  chan []byte
	pongs chan string
	pings chan string
	ended chan error
}

func dialEcho(t *testing.T, u string) *echoPeer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	cc, err := handshake.Dial(ctx, u, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", u, err)
	}
	e := &echoPeer{msgs: make(chan []byte, 16), pongs: make(chan string, 16), pings: make(chan string, 64), ended: make(chan error, 1)}
	e.c = framing.NewConn(cc.Conn, cc.Reader, framing.RoleClient, &framing.Options{
		MaxMessageSize: 64 << 20,
		OnPong:         func(p []byte) { e.pongs <- string(p) },
		OnPing: func(p []byte) {
			select {
			case e.pings <- string(p):
			default:
			}
		},
	})
	t.Cleanup(func() { e.c.NetConn().Close() })
	go func() {
		for {
			_, p, err := e.c.ReadMessage()
			if err != nil {
				e.ended <- err
				return
			}
			e.msgs <- p
		}
	}()
	return e
}

// echo sends p and waits for it to come back.
func (e *echoPeer) echo(t *testing.T, p []byte) {
	t.Helper()
	if err := e.c.WriteMessage(framing.OpBinary, p); err != nil {
		t.Fatalf("write: %v", err)
	}
	select {
	case got := <-e.msgs:
		if string(got) != string(p) {
			t.Fatalf("echo of %d bytes came back as %d bytes", len(p), len(got))
		}
	case err := <-e.ended:
		t.Fatalf("connection ended instead of echoing %d bytes: %v", len(p), err)
	case <-time.After(testTimeout):
		t.Fatal("no echo")
	}
}

// closedWith waits for the read side to end with the peer's close frame carrying
// code, and a reason starting with reason.
func (e *echoPeer) closedWith(t *testing.T, what string, code framing.CloseCode, reason string) {
	t.Helper()
	select {
	case err := <-e.ended:
		var ce *framing.CloseError
		if !errors.As(err, &ce) || !ce.Remote || ce.Code != code || !strings.HasPrefix(ce.Reason, reason) {
			t.Errorf("%s: connection ended with %v; want the server's close %d %q", what, err, code, reason)
		}
	case <-time.After(testTimeout):
		t.Errorf("%s: no close %d after %v", what, code, testTimeout)
	}
}

// TestEchoQuietConnectionStillAnswers is issue 15 item 1: a write deadline set for
// one echo must not outlive it. After staying quiet for three write timeouts, a
// connection still gets its ping answered and its close 1000 echoed (the closing
// handshake completes: no 1006).
func TestEchoQuietConnectionStillAnswers(t *testing.T) {
	const writeTimeout = 300 * time.Millisecond
	_, base, _ := startEchoSite(t, Config{EchoWriteTimeout: writeTimeout})
	for _, path := range echoPaths {
		t.Run(path, func(t *testing.T) {
			e := dialEcho(t, base+path)
			e.echo(t, []byte("hello"))
			time.Sleep(3 * writeTimeout) // the scenario: quiet for longer than a write may take
			if err := e.c.Ping([]byte("still there?")); err != nil {
				t.Fatal(err)
			}
			select {
			case p := <-e.pongs:
				if p != "still there?" {
					t.Errorf("pong payload %q", p)
				}
			case err := <-e.ended:
				t.Fatalf("ping after %v quiet: connection ended: %v", 3*writeTimeout, err)
			case <-time.After(testTimeout):
				t.Fatalf("ping after %v quiet: no pong", 3*writeTimeout)
			}
			time.Sleep(3 * writeTimeout)
			if err := e.c.Close(framing.CloseNormal, "bye"); err != nil {
				t.Errorf("close after %v quiet: %v", 3*writeTimeout, err)
			}
			e.closedWith(t, "close", framing.CloseNormal, "")
		})
	}
}

// TestShutdownReachesQuietConnections is issue 15 item 1's shutdown half: every
// connection receives 1001 "server shutting down", whatever it last did and however
// long ago (here: three write timeouts).
func TestShutdownReachesQuietConnections(t *testing.T) {
	const writeTimeout = 300 * time.Millisecond
	_, base, shutdown := startEchoSite(t, Config{EchoWriteTimeout: writeTimeout})
	type client struct {
		what string
		e    *echoPeer
	}
	var clients []client
	for _, path := range echoPaths {
		for i := range 3 {
			echoed := dialEcho(t, base+path)
			echoed.echo(t, []byte(fmt.Sprintf("message %d", i)))
			pinged := dialEcho(t, base+path)
			pinged.c.Ping([]byte("ping"))
			select {
			case <-pinged.pongs:
			case <-time.After(testTimeout):
				t.Fatal("no pong")
			}
			fragment := dialEcho(t, base+path)
			fragment.c.WriteFrame(framing.Header{Opcode: framing.OpText}, []byte("the first fragment of a message that "))
			clients = append(clients,
				client{path + " echoed a message", echoed},
				client{path + " got a pong", pinged},
				client{path + " is inside a fragmented message", fragment},
				client{path + " did nothing after the handshake", dialEcho(t, base+path)})
		}
	}
	time.Sleep(3 * writeTimeout)
	shutdown()
	for _, c := range clients {
		c.e.closedWith(t, c.what, framing.CloseGoingAway, shutdownReason)
	}
}

// TestEchoMessageLimit is issue 15 item 3: a public echo takes messages up to
// EchoMaxMessage (1 MiB by default, python-websockets' max_size) and refuses a bigger
// one with 1009, on both services.
func TestEchoMessageLimit(t *testing.T) {
	for _, tc := range []struct {
		cfg   Config
		limit int
	}{
		{Config{}, 1 << 20},
		{Config{EchoMaxMessage: 1000}, 1000},
	} {
		_, base, _ := startEchoSite(t, tc.cfg)
		for _, path := range echoPaths {
			t.Run(fmt.Sprintf("%s/%d", path, tc.limit), func(t *testing.T) {
				e := dialEcho(t, base+path)
				e.echo(t, make([]byte, tc.limit))
				// One byte too many, in a last fragment: both servers refuse at its
				// header, having read everything before it, so the client's bytes
				// are all read and its connection is not reset under its feet.
				e.c.WriteFrame(framing.Header{Opcode: framing.OpBinary}, make([]byte, tc.limit))
				e.c.WriteFrame(framing.Header{Fin: true, Opcode: framing.OpContinuation}, []byte{0})
				e.closedWith(t, fmt.Sprintf("message of %d bytes", tc.limit+1), framing.CloseMessageTooBig, "")
			})
		}
	}
}

// rawHandshake sends an upgrade request for path from a chosen local address (any of
// 127.0.0.0/8 reaches a loopback listener) and returns the response and, when it is
// 101, the open connection.
func rawHandshake(t *testing.T, base, path, from string) (*http.Response, string, net.Conn) {
	t.Helper()
	u, _ := url.Parse(base + path)
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: testTimeout}
	c, err := d.Dial("tcp", u.Host)
	if err != nil {
		t.Fatalf("dial from %s: %v", from, err)
	}
	c.SetDeadline(time.Now().Add(testTimeout))
	key, _ := handshake.NewKey(nil)
	if _, err := c.Write(handshake.NewRequest(u, key, nil, "")); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("%s from %s: %v", path, from, err)
	}
	if resp.StatusCode == http.StatusSwitchingProtocols {
		c.SetDeadline(time.Time{})
		t.Cleanup(func() { c.Close() })
		return resp, "", c
	}
	body, _ := io.ReadAll(resp.Body)
	c.Close()
	return resp, string(body), nil
}

// TestEchoConnectionCaps is issue 15 item 3's connection caps: per client address and
// in total, shared by both echo services, refused before the upgrade with 503, a
// Retry-After and a reason; a slot is free again once its connection has ended.
func TestEchoConnectionCaps(t *testing.T) {
	s, base, _ := startEchoSite(t, Config{EchoMaxConns: 4, EchoMaxConnsPerAddr: 2})
	refused := func(path, from, want string) {
		t.Helper()
		resp, body, c := rawHandshake(t, base, path, from)
		if c != nil {
			t.Fatalf("%s from %s: upgraded; want 503", path, from)
		}
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" || !strings.Contains(body, want) {
			t.Errorf("%s from %s: %d, Retry-After %q, %q; want 503 with Retry-After and %q",
				path, from, resp.StatusCode, resp.Header.Get("Retry-After"), body, want)
		}
	}
	accepted := func(path, from string) net.Conn {
		t.Helper()
		resp, body, c := rawHandshake(t, base, path, from)
		if c == nil {
			t.Fatalf("%s from %s: %d %q; want 101", path, from, resp.StatusCode, body)
		}
		return c
	}
	first := accepted("/ws/echo", "127.0.0.1")
	accepted("/ws/gorilla/echo", "127.0.0.1")
	refused("/ws/echo", "127.0.0.1", "your address is at its limit of echo connections (2)")
	refused("/ws/gorilla/echo", "127.0.0.1", "your address is at its limit of echo connections (2)")
	accepted("/ws/echo", "127.0.0.2")
	accepted("/ws/echo", "127.0.0.3")
	refused("/ws/echo", "127.0.0.4", "connection limit (4)")

	// Ending a connection gives its slot back (when its handler has returned).
	first.Close()
	deadline := time.Now().Add(testTimeout)
	for {
		s.echoConns.mu.Lock()
		n := s.echoConns.total
		s.echoConns.mu.Unlock()
		if n < 4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the slot of a closed connection was never given back")
		}
		time.Sleep(10 * time.Millisecond)
	}
	accepted("/ws/echo", "127.0.0.1")
}

// readRawFrame reads one server frame without answering anything (a peer that has
// stopped responding, as far as pings go).
func readRawFrame(br *bufio.Reader) (framing.Header, []byte, error) {
	h, err := framing.ReadHeader(br)
	if err != nil {
		return h, nil, err
	}
	if h.PayloadLength > 125 {
		return h, nil, fmt.Errorf("unexpected %d-byte frame", h.PayloadLength)
	}
	p := make([]byte, h.PayloadLength)
	_, err = io.ReadFull(br, p)
	return h, p, err
}

// TestEchoKeepalive is issue 15 item 5: quiet peers get pings; a peer that does not
// answer them is closed with 1011 "keepalive ping timeout"; a peer that completes no
// message — idle, or dripping a fragmented message that never ends — is closed with
// 1001 after the idle timeout; a peer that answers pings stays.
//
// Each part runs with only the timer it tests, and where the client must answer in
// time it gets a second (the ping interval is also how long a pong may take), so a
// loaded machine cannot make a test see the wrong timer fire.
func TestEchoKeepalive(t *testing.T) {
	_, pinging, _ := startEchoSite(t, Config{EchoPingInterval: 100 * time.Millisecond, EchoIdleTimeout: -1})
	const idle = 500 * time.Millisecond
	_, idling, _ := startEchoSite(t, Config{EchoPingInterval: -1, EchoIdleTimeout: idle})
	const interval = time.Second
	_, both, _ := startEchoSite(t, Config{EchoPingInterval: interval, EchoIdleTimeout: 10 * interval})
	for _, path := range echoPaths {
		t.Run(path+"/no answer", func(t *testing.T) {
			_, _, c := rawHandshake(t, pinging, path, "127.0.0.1")
			c.SetReadDeadline(time.Now().Add(testTimeout))
			br := bufio.NewReader(c)
			var ops []framing.Opcode
			for {
				h, p, err := readRawFrame(br)
				if err != nil {
					t.Fatalf("after %v: %v", ops, err)
				}
				ops = append(ops, h.Opcode)
				if h.Opcode == framing.OpClose {
					code, reason, _ := framing.ParseClosePayload(p)
					if code != framing.CloseInternalError || reason != "keepalive ping timeout" || ops[0] != framing.OpPing {
						t.Errorf("frames %v ending in close %d %q; want pings, then close 1011 \"keepalive ping timeout\"", ops, code, reason)
					}
					return
				}
			}
		})
		t.Run(path+"/idle", func(t *testing.T) {
			e := dialEcho(t, idling+path)
			e.echo(t, []byte("one message, then nothing"))
			e.closedWith(t, "idle", framing.CloseGoingAway, "idle")
		})
		t.Run(path+"/dripping", func(t *testing.T) {
			e := dialEcho(t, idling+path)
			e.c.WriteFrame(framing.Header{Opcode: framing.OpText}, []byte("a"))
			stop := make(chan struct{})
			defer close(stop)
			go func() {
				tick := time.NewTicker(idle / 5)
				defer tick.Stop()
				for {
					select {
					case <-stop:
						return
					case <-tick.C:
						if e.c.WriteFrame(framing.Header{Opcode: framing.OpContinuation}, []byte("a")) != nil {
							return
						}
					}
				}
			}()
			e.closedWith(t, "dripping", framing.CloseGoingAway, "idle")
		})
		t.Run(path+"/alive", func(t *testing.T) {
			e := dialEcho(t, both+path)
			e.echo(t, []byte("hello"))
			// Two pings, each answered by the read side: had the first pong not
			// counted, the second would have been a close 1011.
			for i := range 2 {
				select {
				case <-e.pings:
				case err := <-e.ended:
					t.Fatalf("ended while quiet, after %d pings: %v", i, err)
				case <-time.After(testTimeout):
					t.Fatalf("%d keepalive pings; want 2", i)
				}
			}
			e.echo(t, []byte("still here"))
		})
	}
}

// TestGorillaClientStaysOnQuietEcho: the production library as the peer, sending
// nothing for three write timeouts and then closing; gorilla must see our close reply
// (1000), not an abnormal end.
func TestGorillaClientStaysOnQuietEcho(t *testing.T) {
	const writeTimeout = 300 * time.Millisecond
	_, base, _ := startEchoSite(t, Config{EchoWriteTimeout: writeTimeout})
	c, _, err := websocket.DefaultDialer.Dial(base+"/ws/echo", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.WriteMessage(websocket.TextMessage, []byte("hi"))
	c.SetReadDeadline(time.Now().Add(testTimeout))
	if _, p, err := c.ReadMessage(); err != nil || string(p) != "hi" {
		t.Fatalf("echo: %q %v", p, err)
	}
	time.Sleep(3 * writeTimeout)
	c.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(1000, "bye"))
	_, _, err = c.ReadMessage()
	if !websocket.IsCloseError(err, 1000) {
		t.Errorf("after close 1000: %v, want the server's close 1000", err)
	}
}
