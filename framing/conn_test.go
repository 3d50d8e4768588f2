package framing_test

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"
	"github.com/learnws/learnws/framing"
)

// ---- helpers ---------------------------------------------------------------

// tcpPair returns both ends of a loopback TCP connection: the client's end
// and the server's end. Both are closed when the test ends.
func tcpPair(t testing.TB) (client, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			accepted <- nil
			return
		}
		accepted <- c
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-accepted
	if server == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	deadline := time.Now().Add(10 * time.Second) // a hung test fails instead of hanging
	client.SetDeadline(deadline)
	server.SetDeadline(deadline)
	return client, server
}

// connPair returns a client Conn and a server Conn talking to each other.
func connPair(t testing.TB, copt, sopt *framing.Options) (client, server *framing.Conn) {
	t.Helper()
	c, s := tcpPair(t)
	return framing.NewConn(c, nil, framing.RoleClient, copt), framing.NewConn(s, nil, framing.RoleServer, sopt)
}

var testKey = [4]byte{0x37, 0xfa, 0x21, 0x3d}

// clientFrame is a frame as a well-behaved client sends it: masked.
func clientFrame(op framing.Opcode, fin bool, payload []byte) []byte {
	return framing.AppendFrame(nil, framing.Header{Fin: fin, Opcode: op, Masked: true, MaskingKey: testKey}, payload)
}

// serverFrame is a frame as a well-behaved server sends it: not masked.
func serverFrame(op framing.Opcode, fin bool, payload []byte) []byte {
	return framing.AppendFrame(nil, framing.Header{Fin: fin, Opcode: op}, payload)
}

// peer is the raw end of a connection: the test writes exact bytes to it
// and reads frames from it one by one.
type peer struct {
	t  testing.TB
	c  net.Conn
	br *bufio.Reader
}

func newPeer(t testing.TB, c net.Conn) *peer { return &peer{t: t, c: c, br: bufio.NewReader(c)} }

func (p *peer) write(b ...[]byte) {
	p.t.Helper()
	for _, b := range b {
		if _, err := p.c.Write(b); err != nil {
			p.t.Fatalf("peer write: %v", err)
		}
	}
}

// next reads one frame and returns its header and unmasked payload.
func (p *peer) next() (framing.Header, []byte, error) {
	h, err := framing.ReadHeader(p.br)
	if err != nil {
		return h, nil, err
	}
	if h.PayloadLength > 1<<24 {
		return h, nil, fmt.Errorf("peer: frame too big for a test: %d", h.PayloadLength)
	}
	payload := make([]byte, h.PayloadLength)
	if _, err := io.ReadFull(p.br, payload); err != nil {
		return h, nil, err
	}
	if h.Masked {
		framing.Mask(h.MaskingKey, 0, payload)
	}
	return h, payload, nil
}

// mustNext reads one frame, failing the test if there is none.
func (p *peer) mustNext() (framing.Header, []byte) {
	p.t.Helper()
	h, b, err := p.next()
	if err != nil {
		p.t.Fatalf("peer read: %v", err)
	}
	return h, b
}

// expectClose reads one frame, which must be a close frame with code.
func (p *peer) expectClose(code framing.CloseCode) string {
	p.t.Helper()
	h, b := p.mustNext()
	if h.Opcode != framing.OpClose {
		p.t.Fatalf("got a %s frame %q, want a close frame with %d", h.Opcode, b, code)
	}
	got, reason, err := framing.ParseClosePayload(b)
	if err != nil {
		p.t.Fatalf("our close frame is bad: %v", err)
	}
	if got != code {
		p.t.Fatalf("close code = %d (%s: %q), want %d", got, got, reason, code)
	}
	return reason
}

// expectEOF checks that the other end closed the TCP connection.
func (p *peer) expectEOF() {
	p.t.Helper()
	h, _, err := p.next()
	if err == nil {
		p.t.Fatalf("got a %s frame, want the connection closed", h.Opcode)
	}
	if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !isReset(err) {
		p.t.Fatalf("want EOF, got %v", err)
	}
}

// hangUp closes the peer's side of the connection (FIN), as a peer does once
// it has read the close frame and the other end's FIN.
func (p *peer) hangUp() {
	if tc, ok := p.c.(*net.TCPConn); ok {
		tc.CloseWrite()
		return
	}
	p.c.Close()
}

func isReset(err error) bool {
	return err != nil && strings.Contains(err.Error(), "connection reset")
}

// readAsync runs ReadMessage in the background.
type readResult struct {
	op  framing.Opcode
	p   []byte
	err error
}

func readAsync(c *framing.Conn) <-chan readResult {
	ch := make(chan readResult, 1)
	go func() {
		op, p, err := c.ReadMessage()
		ch <- readResult{op, p, err}
	}()
	return ch
}

func wantCloseError(t testing.TB, err error, code framing.CloseCode, remote bool) *framing.CloseError {
	t.Helper()
	var ce *framing.CloseError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v (%T), want *CloseError %d", err, err, code)
	}
	if ce.Code != code || ce.Remote != remote {
		t.Fatalf("err = %+v, want code %d remote %v", ce, code, remote)
	}
	return ce
}

func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + i%26)
	}
	return b
}

// ---- messages ----------------------------------------------------------------

// wrapped hides the concrete type of a net.Conn, as byte-counting wrappers
// do (Conn then cannot use writev).
type wrapped struct{ net.Conn }

func TestEchoSizes(t *testing.T) {
	t.Run("tcp", func(t *testing.T) { testEchoSizes(t, false) })
	t.Run("wrapped", func(t *testing.T) { testEchoSizes(t, true) })
}

func testEchoSizes(t *testing.T, wrap bool) {
	c, s := tcpPair(t)
	if wrap {
		c, s = wrapped{c}, wrapped{s}
	}
	client := framing.NewConn(c, nil, framing.RoleClient, nil)
	server := framing.NewConn(s, nil, framing.RoleServer, nil)
	go func() {
		for {
			op, p, err := server.ReadMessage()
			if err != nil {
				return
			}
			if err := server.WriteMessage(op, p); err != nil {
				return
			}
		}
	}()
	for _, n := range []int{0, 1, 125, 126, 127, 8 << 10, 8<<10 + 1, 65535, 65536, 65537, 1 << 20} {
		for _, op := range []framing.Opcode{framing.OpText, framing.OpBinary} {
			msg := pattern(n)
			if err := client.WriteMessage(op, msg); err != nil {
				t.Fatal(err)
			}
			gotOp, got, err := client.ReadMessage()
			if err != nil {
				t.Fatalf("%d bytes: %v", n, err)
			}
			if gotOp != op || !bytes.Equal(got, msg) {
				t.Fatalf("%s %d bytes: echo is %s %d bytes", op, n, gotOp, len(got))
			}
		}
	}
	if err := client.Close(framing.CloseNormal, "done"); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// The RFC's own example (§5.7): "A fragmented unmasked text message", with a
// ping between the fragments, as §5.4 allows: "Control frames MAY be
// injected in the middle of a fragmented message." The pong must come back
// before the message is finished.
func TestFragmentsWithPingsBetween(t *testing.T) {
	c, s := tcpPair(t)
	var pings, pongs [][]byte
	server := framing.NewConn(s, nil, framing.RoleServer, &framing.Options{
		OnPing: func(p []byte) { pings = append(pings, bytes.Clone(p)) },
		OnPong: func(p []byte) { pongs = append(pongs, bytes.Clone(p)) },
	})
	raw := newPeer(t, c)
	res := readAsync(server)

	raw.write(clientFrame(framing.OpText, false, []byte("Hel")))
	raw.write(clientFrame(framing.OpPing, true, []byte("are you there?")))
	h, p := raw.mustNext()
	if h.Opcode != framing.OpPong || string(p) != "are you there?" || h.Masked || !h.Fin {
		t.Fatalf("reply to ping = %v %q, want an unmasked pong with the same payload", h, p)
	}
	raw.write(clientFrame(framing.OpPong, true, []byte("unsolicited"))) // ignored
	raw.write(clientFrame(framing.OpContinuation, false, []byte("lo, ")))
	raw.write(clientFrame(framing.OpPing, true, nil))
	if h, p = raw.mustNext(); h.Opcode != framing.OpPong || len(p) != 0 {
		t.Fatalf("reply to empty ping = %v %q", h, p)
	}
	raw.write(clientFrame(framing.OpContinuation, true, []byte("world")))

	r := <-res
	if r.err != nil || r.op != framing.OpText || string(r.p) != "Hello, world" {
		t.Fatalf("ReadMessage = %s %q %v", r.op, r.p, r.err)
	}
	if len(pings) != 2 || string(pings[0]) != "are you there?" || len(pongs) != 1 || string(pongs[0]) != "unsolicited" {
		t.Fatalf("OnPing saw %q, OnPong saw %q", pings, pongs)
	}

	// An empty final fragment is fine too.
	res = readAsync(server)
	raw.write(clientFrame(framing.OpBinary, false, []byte{1, 2}), clientFrame(framing.OpContinuation, true, nil))
	if r := <-res; r.err != nil || r.op != framing.OpBinary || !bytes.Equal(r.p, []byte{1, 2}) {
		t.Fatalf("ReadMessage = %s %v %v", r.op, r.p, r.err)
	}
}

// "€" is E2 82 AC: split across three fragments, it is still valid.
func TestUTF8AcrossFragments(t *testing.T) {
	c, s := tcpPair(t)
	server := framing.NewConn(s, nil, framing.RoleServer, nil)
	raw := newPeer(t, c)
	res := readAsync(server)
	raw.write(
		clientFrame(framing.OpText, false, []byte{'a', 0xE2}),
		clientFrame(framing.OpContinuation, false, []byte{0x82}),
		clientFrame(framing.OpContinuation, true, []byte{0xAC, 'b'}),
	)
	if r := <-res; r.err != nil || string(r.p) != "a€b" {
		t.Fatalf("ReadMessage = %q %v", r.p, r.err)
	}
}

// Fail fast (§8.1): the close frame comes back while the message is still
// unfinished, before the peer sends its next fragment.
func TestInvalidUTF8FailsFast(t *testing.T) {
	cases := []struct {
		name  string
		first [][]byte // what the peer sends before expecting the close
	}{
		{"bad byte in first fragment", [][]byte{clientFrame(framing.OpText, false, []byte{'o', 'k', 0xFF})}},
		{"bad continuation across fragments", [][]byte{
			clientFrame(framing.OpText, false, []byte{'a', 0xE2}),
			clientFrame(framing.OpContinuation, false, []byte{0x28}), // ( is not a continuation byte
		}},
		{"surrogate split across fragments", [][]byte{
			clientFrame(framing.OpText, false, []byte{0xED}),
			clientFrame(framing.OpContinuation, false, []byte{0xA0, 0x80}),
		}},
		{"message ends inside a sequence", [][]byte{
			clientFrame(framing.OpText, false, []byte{'a', 0xE2}),
			clientFrame(framing.OpContinuation, true, []byte{0x82}),
		}},
		{"bad byte early in one long frame", nil}, // filled in below
	}
	// A 1 MiB frame whose 10th byte is bad, of which only the first 100 KiB
	// are sent: the close must come without the rest.
	long := framing.AppendFrame(nil, framing.Header{Fin: true, Opcode: framing.OpText, Masked: true, MaskingKey: testKey},
		append(append(pattern(9), 0xFF), pattern(1<<20)...))
	cases[len(cases)-1].first = [][]byte{long[:100<<10]}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, s := tcpPair(t)
			server := framing.NewConn(s, nil, framing.RoleServer, nil)
			raw := newPeer(t, c)
			res := readAsync(server)
			raw.write(tc.first...)
			raw.expectClose(framing.CloseInvalidPayload)
			raw.expectEOF()
			raw.hangUp()
			wantCloseError(t, (<-res).err, framing.CloseInvalidPayload, false)
		})
	}
}

// ---- failing the connection: every rule, its code --------------------------------

func TestFailCodes(t *testing.T) {
	big := framing.Header{Fin: true, Opcode: framing.OpBinary, Masked: true, MaskingKey: testKey, PayloadLength: 1<<63 - 1}
	cases := []struct {
		name string
		role framing.Role // the role of our Conn
		max  int64
		send [][]byte
		code framing.CloseCode
	}{
		{"unmasked client frame", framing.RoleServer, 0, [][]byte{serverFrame(framing.OpText, true, []byte("hi"))}, framing.CloseProtocolError},
		{"masked server frame", framing.RoleClient, 0, [][]byte{clientFrame(framing.OpText, true, []byte("hi"))}, framing.CloseProtocolError},
		{"RSV1 without extension", framing.RoleServer, 0, [][]byte{
			framing.AppendFrame(nil, framing.Header{Fin: true, Rsv1: true, Opcode: framing.OpText, Masked: true, MaskingKey: testKey}, []byte("hi"))}, framing.CloseProtocolError},
		{"RSV3 without extension", framing.RoleServer, 0, [][]byte{
			framing.AppendFrame(nil, framing.Header{Fin: true, Rsv3: true, Opcode: framing.OpBinary, Masked: true, MaskingKey: testKey}, nil)}, framing.CloseProtocolError},
		{"reserved data opcode 0x3", framing.RoleServer, 0, [][]byte{clientFrame(3, true, nil)}, framing.CloseProtocolError},
		{"reserved control opcode 0xB", framing.RoleServer, 0, [][]byte{clientFrame(0xB, true, nil)}, framing.CloseProtocolError},
		{"fragmented ping", framing.RoleServer, 0, [][]byte{clientFrame(framing.OpPing, false, nil)}, framing.CloseProtocolError},
		{"ping of 126 bytes", framing.RoleServer, 0, [][]byte{clientFrame(framing.OpPing, true, pattern(126))}, framing.CloseProtocolError},
		{"continuation with no message", framing.RoleServer, 0, [][]byte{clientFrame(framing.OpContinuation, true, []byte("x"))}, framing.CloseProtocolError},
		{"text while a fragmented message is open", framing.RoleServer, 0, [][]byte{
			clientFrame(framing.OpText, false, []byte("a")), clientFrame(framing.OpText, true, []byte("b"))}, framing.CloseProtocolError},
		{"invalid UTF-8", framing.RoleServer, 0, [][]byte{clientFrame(framing.OpText, true, []byte{0xC0, 0x80})}, framing.CloseInvalidPayload},
		{"message too big", framing.RoleServer, 1024, [][]byte{clientFrame(framing.OpBinary, true, pattern(1025))}, framing.CloseMessageTooBig},
		{"too big across fragments", framing.RoleServer, 1024, [][]byte{
			clientFrame(framing.OpBinary, false, pattern(600)), clientFrame(framing.OpContinuation, true, pattern(600))}, framing.CloseMessageTooBig},
		{"declared length 2^63-1", framing.RoleServer, 0, [][]byte{big.AppendTo(nil)}, framing.CloseMessageTooBig},
		// 2^63 itself breaks §5.2 ("the most significant bit MUST be 0"): a
		// protocol error, as Annotate reports it, before any limit.
		{"declared length 2^63", framing.RoleServer, 0, [][]byte{
			framing.Header{Fin: true, Opcode: framing.OpBinary, Masked: true, MaskingKey: testKey, PayloadLength: 1 << 63}.AppendTo(nil)}, framing.CloseProtocolError},
		// A frame that breaks a rule of §5.2 is a protocol error (1002) even when its
		// length is also over the limit: 1009 is for messages that are legal but too big.
		{"reserved opcode with a huge length", framing.RoleServer, 0, [][]byte{
			framing.Header{Fin: true, Opcode: 3, Masked: true, MaskingKey: testKey, PayloadLength: 1 << 40}.AppendTo(nil)}, framing.CloseProtocolError},
		{"unmasked client frame of 2^63 bytes", framing.RoleServer, 0, [][]byte{
			framing.Header{Fin: true, Opcode: framing.OpBinary, PayloadLength: 1 << 63}.AppendTo(nil)}, framing.CloseProtocolError},
		{"close code 999", framing.RoleServer, 0, [][]byte{clientFrame(framing.OpClose, true, []byte{0x03, 0xE7})}, framing.CloseProtocolError},
		{"close code 1005 on the wire", framing.RoleServer, 0, [][]byte{clientFrame(framing.OpClose, true, []byte{0x03, 0xED})}, framing.CloseProtocolError},
		{"close code 1006 on the wire", framing.RoleServer, 0, [][]byte{clientFrame(framing.OpClose, true, []byte{0x03, 0xEE})}, framing.CloseProtocolError},
		{"close code 5000", framing.RoleServer, 0, [][]byte{clientFrame(framing.OpClose, true, []byte{0x13, 0x88})}, framing.CloseProtocolError},
		{"close payload of 1 byte", framing.RoleServer, 0, [][]byte{clientFrame(framing.OpClose, true, []byte{0x03})}, framing.CloseProtocolError},
		// ParseClosePayload gives 1007 for a reason that is not UTF-8 (§8.1, like any bad text).
		{"close reason not UTF-8", framing.RoleServer, 0, [][]byte{clientFrame(framing.OpClose, true, []byte{0x03, 0xE8, 0xFF})}, framing.CloseInvalidPayload},
		{"client: close code 1004", framing.RoleClient, 0, [][]byte{serverFrame(framing.OpClose, true, []byte{0x03, 0xEC})}, framing.CloseProtocolError},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, s := tcpPair(t)
			ours, theirs := s, c
			if tc.role == framing.RoleClient {
				ours, theirs = c, s
			}
			var events []framing.TraceEvent
			var mu sync.Mutex
			conn := framing.NewConn(ours, nil, tc.role, &framing.Options{MaxMessageSize: tc.max, Trace: func(e framing.TraceEvent) {
				mu.Lock()
				events = append(events, e)
				mu.Unlock()
			}})
			raw := newPeer(t, theirs)
			res := readAsync(conn)
			raw.write(tc.send...)
			reason := raw.expectClose(tc.code)
			if reason == "" {
				t.Errorf("close frame carries no reason")
			}
			// Our end stops writing after its close frame (FIN), then waits
			// (bounded) for the peer to close its side (see TestFailDrains).
			raw.expectEOF()
			raw.hangUp()
			ce := wantCloseError(t, (<-res).err, tc.code, false)
			if ce.Reason != reason {
				t.Errorf("CloseError.Reason %q, close frame says %q", ce.Reason, reason)
			}
			// Errors are sticky, writes are refused.
			if _, _, err := conn.ReadMessage(); err != ce {
				t.Errorf("second ReadMessage = %v, want the same error", err)
			}
			if err := conn.WriteMessage(framing.OpText, []byte("x")); !errors.Is(err, framing.ErrClosed) {
				t.Errorf("WriteMessage after failing = %v, want ErrClosed", err)
			}
			// The trace names the rule on the offending frame, then shows our close frame.
			mu.Lock()
			defer mu.Unlock()
			var sawErr bool
			for _, e := range events {
				var pe *framing.ProtocolError
				if e.Dir == framing.Read && errors.As(e.Err, &pe) && pe.Code == tc.code {
					sawErr = true
				}
			}
			last := events[len(events)-1]
			if !sawErr || last.Dir != framing.Write || last.Header.Opcode != framing.OpClose {
				t.Errorf("trace does not show the rejected frame and our close: %+v", events)
			}
		})
	}
}

// unwrappable hides the concrete type of a net.Conn but hands it out through
// NetConn, as package wire's byte-counting Conn does.
type unwrappable struct{ net.Conn }

func (u unwrappable) NetConn() net.Conn { return u.Conn }

// Failing a connection while the peer still has bytes in flight: closing a
// socket with unread data makes the kernel send RST, and the peer could lose
// our close frame. Our end must send the close frame, then FIN (not RST), read
// and discard what the peer still sends, and close only after the peer does.
func TestFailDrains(t *testing.T) {
	bad := serverFrame(framing.OpText, true, []byte("unmasked")) // 1002 from a server
	more := clientFrame(framing.OpBinary, true, pattern(1<<20))
	for _, tc := range []struct {
		name string
		wrap func(net.Conn) net.Conn
	}{
		{"tcp", func(c net.Conn) net.Conn { return c }},
		{"wrapped, NetConn", func(c net.Conn) net.Conn { return unwrappable{c} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, s := tcpPair(t)
			server := framing.NewConn(tc.wrap(s), nil, framing.RoleServer, nil)
			res := readAsync(server)
			wrote := make(chan error, 1)
			go func() { // the bad frame, then 1 MiB more, all at once
				_, err := c.Write(append(append([]byte{}, bad...), more...))
				wrote <- err
			}()
			raw := newPeer(t, c)
			raw.expectClose(framing.CloseProtocolError)
			if h, _, err := raw.next(); err != io.EOF {
				t.Fatalf("after the close frame: %s frame, %v; want a clean EOF (FIN, not RST)", h.Opcode, err)
			}
			if err := <-wrote; err != nil {
				t.Fatalf("peer's 1 MiB was not taken: %v", err)
			}
			select {
			case r := <-res:
				t.Fatalf("ReadMessage returned %v before the peer closed its side", r.err)
			default:
			}
			raw.hangUp()
			wantCloseError(t, (<-res).err, framing.CloseProtocolError, false)
		})
	}

	// A peer that keeps sending and never closes holds the failing Conn for a
	// bounded time only, and still gets the close frame.
	t.Run("endless peer", func(t *testing.T) {
		c, s := tcpPair(t)
		server := framing.NewConn(s, nil, framing.RoleServer, nil)
		res := readAsync(server)
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			c.Write(bad)
			chunk := clientFrame(framing.OpBinary, true, pattern(64<<10))
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := c.Write(chunk); err != nil {
					return
				}
			}
		}()
		start := time.Now()
		var r readResult
		select {
		case r = <-res:
		case <-time.After(5 * time.Second):
			t.Fatal("ReadMessage still draining after 5 s")
		}
		wantCloseError(t, r.err, framing.CloseProtocolError, false)
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("failing took %v", d)
		}
		newPeer(t, c).expectClose(framing.CloseProtocolError)
	})
}

// A declared length of 2^63 costs nothing: the limit is checked before any
// memory is set aside. And a frame that declares 30 MiB (under the limit) but
// sends little costs memory in proportion to what arrives, not what it says.
func TestDeclaredLengthCostsNothing(t *testing.T) {
	for _, tc := range []struct {
		name     string
		length   uint64
		sent     int
		maxAlloc uint64
	}{
		{"2^63", 1 << 63, 0, 64 << 10},
		{"2^63-1", 1<<63 - 1, 0, 64 << 10},
		{"30 MiB declared, 10 bytes sent", 30 << 20, 10, 2 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := framing.Header{Fin: true, Opcode: framing.OpBinary, Masked: true, MaskingKey: testKey, PayloadLength: tc.length}
			in := append(h.AppendTo(nil), make([]byte, tc.sent)...)
			conn := framing.NewConn(&fakeConn{r: bytes.NewReader(in)}, nil, framing.RoleServer, nil)
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			_, _, err := conn.ReadMessage()
			runtime.ReadMemStats(&after)
			var ce *framing.CloseError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v", err)
			}
			if got := after.TotalAlloc - before.TotalAlloc; got > tc.maxAlloc {
				t.Errorf("allocated %d bytes, want at most %d", got, tc.maxAlloc)
			}
		})
	}
}

// AppendMessage appends the message to dst, reuses dst's capacity, and keeps
// every rule of ReadMessage: fragments accumulate (§5.4) with control frames
// between them, the limit counts the message and not dst, a declared 2^63
// still costs nothing, and on error dst comes back as it was.
func TestAppendMessage(t *testing.T) {
	fragments := func(op framing.Opcode, msg []byte, size int) []byte {
		var in []byte
		for i := 0; i < len(msg); i += size {
			fop := op
			if i > 0 {
				fop = framing.OpContinuation
			}
			in = append(in, clientFrame(fop, i+size >= len(msg), msg[i:min(i+size, len(msg))])...)
			in = append(in, clientFrame(framing.OpPing, true, []byte("between"))...)
		}
		return in
	}

	t.Run("appends to dst", func(t *testing.T) {
		msg := pattern(64 << 10)
		in := append(clientFrame(framing.OpText, true, []byte("héllo")), fragments(framing.OpBinary, msg, 4<<10)...)
		conn := framing.NewConn(&fakeConn{r: bytes.NewReader(in)}, nil, framing.RoleServer, nil)
		op, got, err := conn.AppendMessage([]byte("prefix:"))
		if err != nil || op != framing.OpText || string(got) != "prefix:héllo" {
			t.Fatalf("AppendMessage = %s %q %v", op, got, err)
		}
		// 16 fragments of 4 KiB, a ping after each, after what dst holds.
		op, got, err = conn.AppendMessage(got)
		if err != nil || op != framing.OpBinary {
			t.Fatalf("AppendMessage = %s %d bytes %v", op, len(got), err)
		}
		if want := append([]byte("prefix:héllo"), msg...); !bytes.Equal(got, want) {
			t.Fatalf("fragments did not accumulate after dst: got %d bytes, want %d", len(got), len(want))
		}
	})

	t.Run("reuses capacity", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			in   []byte
		}{
			{"one frame of 64 KiB", clientFrame(framing.OpBinary, true, pattern(64<<10))},
			{"16 fragments of 4 KiB", fragments(framing.OpBinary, pattern(64<<10), 4<<10)},
			{"empty", clientFrame(framing.OpBinary, true, nil)},
		} {
			t.Run(tc.name, func(t *testing.T) {
				conn := framing.NewConn(&fakeConn{r: &loopReader{b: tc.in}}, nil, framing.RoleServer, nil)
				_, buf, err := conn.AppendMessage(nil)
				if err != nil {
					t.Fatal(err)
				}
				if buf == nil {
					t.Fatal("AppendMessage(nil) returned nil; an empty message is []byte{}")
				}
				first := buf
				n := testing.AllocsPerRun(50, func() {
					_, buf, err = conn.AppendMessage(buf[:0])
				})
				if err != nil {
					t.Fatal(err)
				}
				if n != 0 {
					t.Errorf("AppendMessage into a big enough dst allocates %v times per call, want 0", n)
				}
				if len(buf) > 0 && !sameArray(buf, first) {
					t.Errorf("AppendMessage did not reuse dst's array")
				}
			})
		}
	})

	t.Run("limit counts the message, not dst", func(t *testing.T) {
		opt := &framing.Options{MaxMessageSize: 100}
		dst := pattern(1000)[:500]
		in := append(clientFrame(framing.OpBinary, true, pattern(100)),
			fragments(framing.OpBinary, pattern(101), 60)...)
		conn := framing.NewConn(&fakeConn{r: bytes.NewReader(in)}, nil, framing.RoleServer, opt)
		_, got, err := conn.AppendMessage(dst)
		if err != nil || len(got) != 600 {
			t.Fatalf("100 bytes after 500 in dst, limit 100: %d bytes, %v", len(got), err)
		}
		// 60 + 41 bytes in two fragments: the second takes it past 100.
		_, got, err = conn.AppendMessage(dst)
		ce := wantCloseError(t, err, framing.CloseMessageTooBig, false)
		if !strings.Contains(ce.Reason, "at least 101 bytes") {
			t.Errorf("reason %q does not count the message alone", ce.Reason)
		}
		if len(got) != len(dst) || !sameArray(got, dst) {
			t.Errorf("on error got %d bytes, want dst as it was (%d)", len(got), len(dst))
		}
		if _, got, err2 := conn.AppendMessage(dst[:3]); err2 != err || len(got) != 3 {
			t.Errorf("second call: %d bytes, %v; want dst and the same error", len(got), err2)
		}
	})

	t.Run("declared 2^63-1 costs nothing", func(t *testing.T) {
		h := framing.Header{Fin: true, Opcode: framing.OpBinary, Masked: true, MaskingKey: testKey, PayloadLength: 1<<63 - 1}
		dst := make([]byte, 10, 20)
		conn := framing.NewConn(&fakeConn{r: bytes.NewReader(h.AppendTo(nil))}, nil, framing.RoleServer, nil)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		_, got, err := conn.AppendMessage(dst)
		runtime.ReadMemStats(&after)
		wantCloseError(t, err, framing.CloseMessageTooBig, false)
		if n := after.TotalAlloc - before.TotalAlloc; n > 64<<10 {
			t.Errorf("allocated %d bytes", n)
		}
		if len(got) != 10 {
			t.Errorf("got %d bytes, want dst's 10", len(got))
		}
	})

	t.Run("invalid UTF-8 across fragments", func(t *testing.T) {
		// "€" is E2 82 AC; here its last byte is cut off by a new character.
		in := append(clientFrame(framing.OpText, false, []byte("ok \xe2\x82")), clientFrame(framing.OpContinuation, true, []byte("x"))...)
		conn := framing.NewConn(&fakeConn{r: bytes.NewReader(in)}, nil, framing.RoleServer, nil)
		_, got, err := conn.AppendMessage([]byte("é")) // dst's bytes are not the message's
		wantCloseError(t, err, framing.CloseInvalidPayload, false)
		if string(got) != "é" {
			t.Errorf("got %q, want dst", got)
		}
	})
}

// sameArray reports whether a and b share their underlying array's end.
func sameArray(a, b []byte) bool {
	return cap(a) > 0 && cap(b) > 0 && &a[:cap(a)][cap(a)-1] == &b[:cap(b)][cap(b)-1]
}

// ---- the closing handshake ---------------------------------------------------------

func TestCloseInitiatedByPeer(t *testing.T) {
	for _, tc := range []struct {
		name     string
		payload  []byte
		code     framing.CloseCode
		reason   string
		echoBody []byte
	}{
		{"code and reason", append([]byte{0x03, 0xE8}, "bye"...), framing.CloseNormal, "bye", []byte{0x03, 0xE8}},
		{"private code", []byte{0x0F, 0xA0}, 4000, "", []byte{0x0F, 0xA0}},
		{"empty body", nil, framing.CloseNoStatus, "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, s := tcpPair(t)
			server := framing.NewConn(s, nil, framing.RoleServer, nil)
			raw := newPeer(t, c)
			res := readAsync(server)
			raw.write(clientFrame(framing.OpClose, true, tc.payload))
			h, body := raw.mustNext()
			if h.Opcode != framing.OpClose || !bytes.Equal(body, tc.echoBody) {
				t.Fatalf("reply = %s %x, want close %x", h.Opcode, body, tc.echoBody)
			}
			raw.expectEOF() // the server closes TCP first (§7.1.1)
			ce := wantCloseError(t, (<-res).err, tc.code, true)
			if ce.Reason != tc.reason {
				t.Errorf("reason %q, want %q", ce.Reason, tc.reason)
			}
			if err := server.Close(framing.CloseNormal, ""); err != nil {
				t.Errorf("Close after the handshake = %v, want nil", err)
			}
		})
	}
}

// A client that receives the server's close echoes it and then waits for
// the server to close TCP first.
func TestClientWaitsForServerFIN(t *testing.T) {
	c, s := tcpPair(t)
	client := framing.NewConn(c, nil, framing.RoleClient, nil)
	raw := newPeer(t, s)
	res := readAsync(client)
	raw.write(serverFrame(framing.OpClose, true, append([]byte{0x03, 0xE9}, "going away"...)))
	h, body := raw.mustNext()
	if h.Opcode != framing.OpClose || !h.Masked || !bytes.Equal(body, []byte{0x03, 0xE9}) {
		t.Fatalf("reply = %v %x", h, body)
	}
	select {
	case r := <-res:
		t.Fatalf("client returned %v before the server closed TCP", r.err)
	default:
	}
	s.Close()
	wantCloseError(t, (<-res).err, framing.CloseGoingAway, true)
}

func TestCloseInitiatedLocally(t *testing.T) {
	for _, initiator := range []string{"server", "client"} {
		for _, reader := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/concurrent reader %v", initiator, reader), func(t *testing.T) {
				client, server := connPair(t, nil, nil)
				a, b := server, client
				if initiator == "client" {
					a, b = client, server
				}
				// b reads until the close arrives, with a message in flight.
				bres := make(chan error, 1)
				go func() {
					for {
						if _, _, err := b.ReadMessage(); err != nil {
							bres <- err
							return
						}
					}
				}()
				var ares <-chan readResult
				if reader {
					ares = readAsync(a)
				}
				if err := b.WriteMessage(framing.OpText, []byte("last words")); err != nil {
					t.Fatal(err)
				}
				if reader {
					r := <-ares
					if string(r.p) != "last words" {
						t.Fatalf("got %q %v", r.p, r.err)
					}
					ares = readAsync(a)
				}
				if err := a.Close(framing.CloseGoingAway, "shutting down"); err != nil {
					t.Fatalf("Close = %v", err)
				}
				ce := wantCloseError(t, <-bres, framing.CloseGoingAway, true)
				if ce.Reason != "shutting down" {
					t.Errorf("reason %q", ce.Reason)
				}
				if reader {
					wantCloseError(t, (<-ares).err, framing.CloseGoingAway, true) // the echo
				}
				if err := a.WriteMessage(framing.OpText, []byte("x")); !errors.Is(err, framing.ErrClosed) {
					t.Errorf("write after Close = %v", err)
				}
				if err := a.Ping(nil); !errors.Is(err, framing.ErrClosed) {
					t.Errorf("ping after Close = %v", err)
				}
			})
		}
	}
}

func TestCloseArguments(t *testing.T) {
	client, _ := connPair(t, nil, nil)
	if err := client.Close(framing.CloseAbnormal, ""); err == nil {
		t.Error("Close(1006) accepted")
	}
	if err := client.Close(framing.CloseNormal, strings.Repeat("x", 124)); err == nil {
		t.Error("124-byte reason accepted")
	}
	if err := client.Close(framing.CloseNormal, "\xff"); err == nil {
		t.Error("invalid UTF-8 reason accepted")
	}
	if err := client.Ping(make([]byte, 126)); err == nil {
		t.Error("126-byte ping accepted")
	}
	if err := client.WriteMessage(framing.OpPing, nil); err == nil {
		t.Error("WriteMessage(OpPing) accepted")
	}
}

// A peer that reads our close and drops the connection without answering:
// Close reports that the handshake did not complete.
func TestCloseWithoutReply(t *testing.T) {
	c, s := tcpPair(t)
	client := framing.NewConn(c, nil, framing.RoleClient, nil)
	raw := newPeer(t, s)
	done := make(chan error, 1)
	go func() { done <- client.Close(framing.CloseNormal, "") }()
	raw.expectClose(framing.CloseNormal)
	s.Close() // no reply: TCP just ends
	if err := <-done; err == nil {
		t.Error("Close reported a completed handshake without the peer's close frame")
	}
}

// ---- concurrency ---------------------------------------------------------------

// Many writers at once, pings among them, a large message in the middle: every
// frame must arrive whole. Run with -race.
func TestConcurrentWriters(t *testing.T) {
	var pongs sync.WaitGroup
	const writers, perWriter, pingers = 8, 50, 4
	pongs.Add(pingers * perWriter)
	client, server := connPair(t, &framing.Options{OnPong: func([]byte) { pongs.Done() }}, nil)
	go func() { // echo server
		for {
			op, p, err := server.ReadMessage()
			if err != nil {
				return
			}
			if server.WriteMessage(op, p) != nil {
				return
			}
		}
	}()
	want := map[string]bool{}
	var wg sync.WaitGroup
	for w := range writers {
		for i := range perWriter {
			want[fmt.Sprintf("w%d-%d", w, i)] = true
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWriter {
				msg := fmt.Sprintf("w%d-%d", w, i)
				if w == 0 && i == perWriter/2 {
					msg += strings.Repeat(".", 3<<20) // big, masked in several chunks
				}
				if err := client.WriteMessage(framing.OpText, []byte(msg)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	for range pingers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range perWriter {
				if err := client.Ping([]byte("p")); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	for len(want) > 0 {
		_, p, err := client.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		key, _, _ := strings.Cut(string(p), ".")
		if !want[key] {
			t.Fatalf("unexpected or duplicate message %.40q", p)
		}
		delete(want, key)
	}
	wg.Wait()
	// Pongs arrive through our reads: those above, and, for pings sent after
	// the last echo, Close's own reading while it waits for the server's
	// close frame (which the server sends after answering every ping).
	if err := client.Close(framing.CloseNormal, ""); err != nil {
		t.Fatal(err)
	}
	answered := make(chan struct{})
	go func() { pongs.Wait(); close(answered) }()
	select {
	case <-answered:
	case <-time.After(10 * time.Second):
		t.Fatal("not every ping was answered by a pong")
	}
}

// ---- tracing ---------------------------------------------------------------------

// recConn records every byte written through it.
type recConn struct {
	net.Conn
	mu  sync.Mutex
	out bytes.Buffer
}

func (r *recConn) Write(b []byte) (int, error) {
	r.mu.Lock()
	r.out.Write(b)
	r.mu.Unlock()
	return r.Conn.Write(b)
}

func TestTraceMatchesWire(t *testing.T) {
	for _, role := range []framing.Role{framing.RoleServer, framing.RoleClient} {
		t.Run(role.String(), func(t *testing.T) {
			c, s := tcpPair(t)
			ours, theirs := s, c
			peerFrame := clientFrame
			if role == framing.RoleClient {
				ours, theirs = c, s
				peerFrame = serverFrame
			}
			rec := &recConn{Conn: ours}
			var events []framing.TraceEvent
			conn := framing.NewConn(rec, nil, role, &framing.Options{
				Trace: func(e framing.TraceEvent) { events = append(events, e) },
				Rand:  rand.NewChaCha8([32]byte{1}),
			})
			raw := newPeer(t, theirs)

			// What we send.
			big := pattern(100 << 10)
			conn.WriteMessage(framing.OpText, []byte("Hello"))
			conn.WriteFrame(framing.Header{Opcode: framing.OpBinary}, []byte{1, 2, 3})
			conn.WriteFrame(framing.Header{Fin: true, Opcode: framing.OpContinuation, LengthBytes: 8}, []byte{4})
			conn.Ping([]byte("ping"))
			conn.WriteMessage(framing.OpBinary, big)
			for range 5 {
				raw.mustNext()
			}
			// What we receive.
			in := [][]byte{
				peerFrame(framing.OpText, false, []byte("Hel")),
				peerFrame(framing.OpPing, true, []byte("x")),
				peerFrame(framing.OpContinuation, true, []byte("lo")),
			}
			raw.write(in...)
			if _, p, err := conn.ReadMessage(); err != nil || string(p) != "Hello" {
				t.Fatalf("ReadMessage = %q %v", p, err)
			}
			raw.mustNext() // the pong

			wire := rec.out.Bytes()
			var gotIn []byte
			var off, outTrunc, inCount int
			for _, e := range events {
				if e.Err != nil {
					t.Errorf("event has error %v", e.Err)
				}
				if e.Time.IsZero() {
					t.Errorf("event without time")
				}
				// Client frames are masked, server frames are not.
				sentByClient := (e.Dir == framing.Write) == (role == framing.RoleClient)
				if e.Header.Masked != sentByClient {
					t.Errorf("%s frame, role %s: masked = %v", e.Dir, role, e.Header.Masked)
				}
				wantLen := e.Header.Size() + int(e.Header.PayloadLength)
				if e.Truncated != (len(e.Raw) < wantLen) {
					t.Errorf("Truncated = %v with %d of %d bytes", e.Truncated, len(e.Raw), wantLen)
				}
				if e.Dir == framing.Read {
					inCount++
					gotIn = append(gotIn, e.Raw...)
					continue
				}
				if off+wantLen > len(wire) {
					t.Fatalf("trace shows more bytes than were written")
				}
				frame := wire[off : off+wantLen]
				off += wantLen
				if e.Truncated {
					outTrunc++
					if len(e.Raw) != e.Header.Size()+framing.TracePayloadLimit || !bytes.HasPrefix(frame, e.Raw) {
						t.Errorf("truncated trace (%d bytes) is not the first %d bytes of the frame", len(e.Raw), e.Header.Size()+framing.TracePayloadLimit)
					}
				} else if !bytes.Equal(e.Raw, frame) {
					t.Errorf("traced write differs from the wire:\ntrace %x\nwire  %x", head(e.Raw), head(frame))
				}
			}
			if off != len(wire) {
				t.Errorf("trace covers %d of %d bytes written", off, len(wire))
			}
			if !bytes.Equal(gotIn, bytes.Join(in, nil)) || inCount != 3 {
				t.Errorf("traced reads differ from the wire:\ntrace %x\nwire  %x", gotIn, bytes.Join(in, nil))
			}
			if outTrunc != 1 {
				t.Errorf("%d truncated events, want 1 (the 100 KiB frame)", outTrunc)
			}
			// Raw is a copy: scribbling on it changes nothing.
			events[0].Raw[0] = 0
		})
	}
}

func head(b []byte) []byte { return b[:min(len(b), 64)] }

// With Trace nil, writing a frame allocates nothing and reading a message
// allocates only the message.
func TestNoTraceNoAllocs(t *testing.T) {
	msg := pattern(1024)
	for _, role := range []framing.Role{framing.RoleServer, framing.RoleClient} {
		w := framing.NewConn(&fakeConn{}, nil, role, nil)
		if n := testing.AllocsPerRun(100, func() { w.WriteMessage(framing.OpBinary, msg) }); n != 0 {
			t.Errorf("%s: WriteMessage allocates %v times per call without a trace", role, n)
		}
		big := pattern(64 << 10)
		if n := testing.AllocsPerRun(100, func() { w.WriteMessage(framing.OpBinary, big) }); n != 0 {
			t.Errorf("%s: 64 KiB WriteMessage allocates %v times per call without a trace", role, n)
		}
	}
	frame := clientFrame(framing.OpBinary, true, msg)
	ping := clientFrame(framing.OpPing, true, []byte("p"))
	r := framing.NewConn(&fakeConn{r: &loopReader{b: append(bytes.Clone(ping), frame...)}}, nil, framing.RoleServer, nil)
	if n := testing.AllocsPerRun(100, func() { r.ReadMessage() }); n != 1 {
		t.Errorf("ReadMessage allocates %v times per call without a trace, want 1 (the message)", n)
	}
	traced := framing.NewConn(&fakeConn{r: &loopReader{b: frame}}, nil, framing.RoleServer, &framing.Options{Trace: func(framing.TraceEvent) {}})
	if n := testing.AllocsPerRun(100, func() { traced.ReadMessage() }); n < 2 {
		t.Errorf("traced ReadMessage allocates %v times; the test cannot see the trace's cost", n)
	}
}

// loopReader repeats b forever.
type loopReader struct {
	b   []byte
	off int
}

func (l *loopReader) Read(p []byte) (int, error) {
	n := copy(p, l.b[l.off:])
	l.off = (l.off + n) % len(l.b)
	return n, nil
}

// fakeConn reads from r (EOF if nil) and discards writes.
type fakeConn struct {
	r io.Reader
}

func (f *fakeConn) Read(p []byte) (int, error) {
	if f.r == nil {
		return 0, io.EOF
	}
	return f.r.Read(p)
}
func (f *fakeConn) Write(p []byte) (int, error)      { return len(p), nil }
func (f *fakeConn) Close() error                     { return nil }
func (f *fakeConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (f *fakeConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (f *fakeConn) SetDeadline(time.Time) error      { return nil }
func (f *fakeConn) SetReadDeadline(time.Time) error  { return nil }
func (f *fakeConn) SetWriteDeadline(time.Time) error { return nil }

// ---- deadlines and the buffered reader --------------------------------------------

func TestReadDeadline(t *testing.T) {
	client, _ := connPair(t, nil, nil)
	client.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
	_, _, err := client.ReadMessage()
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("err = %v, want a deadline error", err)
	}
}

// Frames that arrived with the handshake sit in the handshake's reader.
func TestEarlyFramesInBufferedReader(t *testing.T) {
	c, s := tcpPair(t)
	c.Write(append([]byte("HTTP-ish preamble\n"), clientFrame(framing.OpText, true, []byte("early"))...))
	br := bufio.NewReader(s)
	if _, err := br.ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	server := framing.NewConn(s, br, framing.RoleServer, nil)
	if _, p, err := server.ReadMessage(); err != nil || string(p) != "early" {
		t.Fatalf("ReadMessage = %q %v", p, err)
	}
}

// The RFC 6455 §5.7 frames, read by the right role.
func TestReadRFCExamples(t *testing.T) {
	for _, tc := range []struct {
		role framing.Role
		hex  string
		want string
	}{
		{framing.RoleClient, "810548656c6c6f", "Hello"},
		{framing.RoleServer, "818537fa213d7f9f4d5158", "Hello"},
		{framing.RoleClient, "010348656c" + "80026c6f", "Hello"},
		{framing.RoleClient, "890548656c6c6f" + "810548656c6c6f", "Hello"}, // ping first: answered
	} {
		b, _ := hex.DecodeString(tc.hex)
		conn := framing.NewConn(&fakeConn{r: bytes.NewReader(b)}, nil, tc.role, nil)
		if _, p, err := conn.ReadMessage(); err != nil || string(p) != tc.want {
			t.Errorf("%s: ReadMessage = %q, %v", tc.hex, p, err)
		}
		_, _, err := conn.ReadMessage()
		wantCloseError(t, err, framing.CloseAbnormal, true)
	}
}

// ---- interop with gorilla/websocket ----------------------------------------------

// acceptKey is the §4.2.2 Sec-WebSocket-Accept value, computed here so this
// test needs no other package of ours.
func acceptKey(key string) string {
	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(h[:])
}

// ourEchoServer is a minimal server on top of Conn, its handshake inline.
func ourEchoServer(t testing.TB, wrap bool) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get("Sec-WebSocket-Key")
		nc, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		fmt.Fprintf(nc, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n", acceptKey(key))
		var wc net.Conn = nc
		if wrap {
			wc = wrapped{nc}
		}
		conn := framing.NewConn(wc, brw.Reader, framing.RoleServer, nil)
		var buf []byte // reused for every message
		for {
			op, p, err := conn.AppendMessage(buf[:0])
			if err != nil {
				nc.Close()
				return
			}
			if err := conn.WriteMessage(op, p); err != nil {
				nc.Close()
				return
			}
			buf = p
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// ourDial is a minimal client handshake on top of Conn.
func ourDial(t testing.TB, addr string, opt *framing.Options) *framing.Conn {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	const key = "dGhlIHNhbXBsZSBub25jZQ=="
	fmt.Fprintf(nc, "GET / HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n", addr, key)
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 101 || resp.Header.Get("Sec-WebSocket-Accept") != acceptKey(key) {
		t.Fatalf("handshake: %s %v", resp.Status, resp.Header)
	}
	return framing.NewConn(nc, br, framing.RoleClient, opt)
}

var upgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}

func gorillaEchoServer(t testing.TB) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer conn.Close()
		var buf []byte // reused for every message, as ourEchoServer does
		for {
			op, r, err := conn.NextReader()
			if err != nil {
				return
			}
			if buf, err = appendAll(buf[:0], r); err != nil {
				return
			}
			if err := conn.WriteMessage(op, buf); err != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestInteropGorillaClientOurServer(t *testing.T) {
	srv := ourEchoServer(t, false)
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	pong := make(chan string, 1)
	ws.SetPongHandler(func(s string) error { pong <- s; return nil })
	for _, n := range []int{0, 125, 126, 65535, 65536, 1 << 20} {
		for _, op := range []int{websocket.TextMessage, websocket.BinaryMessage} {
			msg := pattern(n)
			if err := ws.WriteMessage(op, msg); err != nil {
				t.Fatal(err)
			}
			gotOp, got, err := ws.ReadMessage()
			if err != nil || gotOp != op || !bytes.Equal(got, msg) {
				t.Fatalf("%d bytes: echo %d %d bytes %v", n, gotOp, len(got), err)
			}
		}
	}
	// A fragmented message: gorilla's NextWriter sends a frame each time its
	// 4 KiB buffer fills, so 15000 bytes of "€" go out in several fragments,
	// characters split across them.
	w, _ := ws.NextWriter(websocket.TextMessage)
	euros := strings.Repeat("€", 5000)
	for i := 0; i < len(euros); i += 7 {
		w.Write([]byte(euros[i:min(i+7, len(euros))]))
	}
	w.Close()
	if _, got, err := ws.ReadMessage(); err != nil || string(got) != euros {
		t.Fatalf("fragmented echo: %d bytes, %v", len(got), err)
	}
	// Ping: our server answers with the same payload.
	ws.WriteControl(websocket.PingMessage, []byte("hi"), time.Now().Add(time.Second))
	ws.WriteMessage(websocket.TextMessage, []byte("after ping"))
	if _, got, err := ws.ReadMessage(); err != nil || string(got) != "after ping" {
		t.Fatalf("%q %v", got, err)
	}
	if got := <-pong; got != "hi" {
		t.Fatalf("pong %q", got)
	}
	// Close: our server echoes the code.
	ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(4001, "done"))
	_, _, err = ws.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != 4001 {
		t.Fatalf("after close: %v", err)
	}
}

func TestInteropOurClientGorillaServer(t *testing.T) {
	srv := gorillaEchoServer(t)
	var pongs []string
	conn := ourDial(t, strings.TrimPrefix(srv.URL, "http://"), &framing.Options{OnPong: func(p []byte) { pongs = append(pongs, string(p)) }})
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for _, n := range []int{0, 125, 126, 65535, 65536, 1 << 20} {
		for _, op := range []framing.Opcode{framing.OpText, framing.OpBinary} {
			msg := pattern(n)
			if err := conn.WriteMessage(op, msg); err != nil {
				t.Fatal(err)
			}
			gotOp, got, err := conn.ReadMessage()
			if err != nil || gotOp != op || !bytes.Equal(got, msg) {
				t.Fatalf("%d bytes: echo %s %d bytes %v", n, gotOp, len(got), err)
			}
		}
	}
	conn.WriteFrame(framing.Header{Opcode: framing.OpText}, []byte("frag"))
	conn.Ping([]byte("between"))
	conn.WriteFrame(framing.Header{Fin: true, Opcode: framing.OpContinuation}, []byte("mented"))
	if _, got, err := conn.ReadMessage(); err != nil || string(got) != "fragmented" {
		t.Fatalf("fragmented echo %q %v", got, err)
	}
	if len(pongs) != 1 || pongs[0] != "between" {
		t.Fatalf("pongs %q", pongs)
	}
	// gorilla echoes our close code and closes.
	if err := conn.Close(4002, "bye"); err != nil {
		t.Fatalf("Close: %v", err)
	}
	_, _, err := conn.ReadMessage()
	wantCloseError(t, err, 4002, true)
}

// ---- fuzzing -----------------------------------------------------------------------

// FuzzReadMessage feeds arbitrary bytes to a server's ReadMessage: it must
// never panic or hang, and whatever it returns must obey the protocol.
func FuzzReadMessage(f *testing.F) {
	seeds := [][]byte{
		{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58},
		clientFrame(framing.OpText, false, []byte("Hel")),
		append(clientFrame(framing.OpText, false, []byte("Hel")), clientFrame(framing.OpContinuation, true, []byte("lo"))...),
		append(clientFrame(framing.OpPing, true, []byte("p")), clientFrame(framing.OpBinary, true, pattern(300))...),
		clientFrame(framing.OpClose, true, []byte{0x03, 0xE8, 'o', 'k'}),
		clientFrame(framing.OpText, true, []byte{0xE2, 0x82}),
		framing.Header{Fin: true, Opcode: framing.OpBinary, Masked: true, PayloadLength: 1 << 63}.AppendTo(nil),
		framing.Header{Fin: true, Opcode: framing.OpBinary, Masked: true, PayloadLength: 70000}.AppendTo(nil),
		{0x81, 0x05, 'H', 'e', 'l', 'l', 'o'},
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var traced int
		conn := framing.NewConn(&fakeConn{r: bytes.NewReader(in)}, nil, framing.RoleServer, &framing.Options{
			MaxMessageSize: 1 << 16,
			Trace: func(e framing.TraceEvent) {
				if e.Dir == framing.Read {
					traced += len(e.Raw)
				}
			},
		})
		total := 0
		var buf []byte
		for i := 0; ; i++ {
			if i > len(in) {
				t.Fatalf("more messages than input bytes")
			}
			// Every other message is appended to a reused buffer that
			// starts with "dst:".
			var op framing.Opcode
			var p []byte
			var err error
			if i%2 == 0 {
				op, p, err = conn.ReadMessage()
			} else {
				buf = append(buf[:0], "dst:"...)
				op, buf, err = conn.AppendMessage(buf)
				if !bytes.HasPrefix(buf, []byte("dst:")) {
					t.Fatalf("AppendMessage lost dst: %q", head(buf))
				}
				p = buf[len("dst:"):]
				if err != nil && len(p) != 0 {
					t.Fatalf("AppendMessage failed but added %d bytes to dst", len(p))
				}
			}
			if err != nil {
				var ce *framing.CloseError
				if !errors.As(err, &ce) {
					t.Fatalf("error %v is not a *CloseError", err)
				}
				break
			}
			total += len(p)
			if op != framing.OpText && op != framing.OpBinary {
				t.Fatalf("ReadMessage returned opcode %s", op)
			}
			if op == framing.OpText && !utf8.Valid(p) {
				t.Fatalf("ReadMessage returned invalid UTF-8 text %q", p)
			}
			if len(p) > 1<<16 {
				t.Fatalf("message of %d bytes over the limit", len(p))
			}
		}
		if total > len(in) || traced > len(in) {
			t.Fatalf("returned %d bytes, traced %d, from %d bytes of input", total, traced, len(in))
		}
	})
}

// ---- benchmarks ----------------------------------------------------------------------

// BenchmarkEcho compares round trips (send a binary message, read the echo)
// over 64 loopback connections:
//
//   - ours: our client against our server (Conn on both ends);
//   - ours-wrapped: the same, the server's net.Conn wrapped so that it
//     cannot gather writes (as a byte-counting wrapper does);
//   - gorilla: gorilla's client against gorilla's server;
//   - ourserver: gorilla's client against our server, so that only the
//     server differs from "gorilla".
//
// Every side reads into a buffer it reuses (AppendMessage; gorilla's
// NextReader), the cheapest way each library offers.
//
//	go test -run '^$' -bench Echo ./framing/
func BenchmarkEcho(b *testing.B) {
	const conns = 64
	for _, size := range []int{1 << 10, 64 << 10} {
		msg := pattern(size)
		ours := func(b *testing.B, srv *httptest.Server) {
			addr := strings.TrimPrefix(srv.URL, "http://")
			cs := make([]*framing.Conn, conns)
			bufs := make([][]byte, conns)
			for i := range cs {
				cs[i] = ourDial(b, addr, nil)
			}
			runEcho(b, size, conns, func(i int) error {
				if err := cs[i].WriteMessage(framing.OpBinary, msg); err != nil {
					return err
				}
				_, p, err := cs[i].AppendMessage(bufs[i][:0])
				bufs[i] = p
				return err
			})
		}
		gorilla := func(b *testing.B, srv *httptest.Server) {
			url := "ws" + strings.TrimPrefix(srv.URL, "http")
			cs := make([]*websocket.Conn, conns)
			bufs := make([][]byte, conns)
			for i := range cs {
				ws, _, err := websocket.DefaultDialer.Dial(url, nil)
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { ws.Close() })
				cs[i] = ws
			}
			runEcho(b, size, conns, func(i int) error {
				if err := cs[i].WriteMessage(websocket.BinaryMessage, msg); err != nil {
					return err
				}
				_, r, err := cs[i].NextReader()
				if err != nil {
					return err
				}
				bufs[i], err = appendAll(bufs[i][:0], r)
				return err
			})
		}
		b.Run(fmt.Sprintf("ours/%dKiB", size>>10), func(b *testing.B) { ours(b, ourEchoServer(b, false)) })
		b.Run(fmt.Sprintf("ours-wrapped/%dKiB", size>>10), func(b *testing.B) { ours(b, ourEchoServer(b, true)) })
		b.Run(fmt.Sprintf("gorilla/%dKiB", size>>10), func(b *testing.B) { gorilla(b, gorillaEchoServer(b)) })
		b.Run(fmt.Sprintf("ourserver/%dKiB", size>>10), func(b *testing.B) { gorilla(b, ourEchoServer(b, false)) })
	}
}

// appendAll appends everything r yields to dst: io.ReadAll reusing a buffer.
func appendAll(dst []byte, r io.Reader) ([]byte, error) {
	for {
		if len(dst) == cap(dst) {
			dst = append(dst, 0)[:len(dst)]
		}
		n, err := r.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+n]
		if err == io.EOF {
			return dst, nil
		}
		if err != nil {
			return dst, err
		}
	}
}

func runEcho(b *testing.B, size, conns int, roundTrip func(i int) error) {
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	var wg sync.WaitGroup
	for i := range conns {
		n := b.N / conns
		if i < b.N%conns {
			n++
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range n {
				if err := roundTrip(i); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}
