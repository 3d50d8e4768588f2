package handshake

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// upgraded is what the test server's handler saw.
type upgraded struct {
	resp  *Response
	early []byte // bytes already buffered in the reader when Upgrade returned
	err   error
}

// newServer starts a real HTTP server (a ResponseRecorder cannot be
// hijacked) whose handler upgrades with p and then echoes raw bytes back.
func newServer(t *testing.T, p *Policy, configure func(*http.Server)) (*httptest.Server, chan upgraded) {
	t.Helper()
	seen := make(chan upgraded, 10)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, br, resp, err := Upgrade(w, r, p)
		if err != nil {
			seen <- upgraded{err: err}
			return
		}
		defer conn.Close()
		early := make([]byte, br.Buffered())
		br.Read(early)
		seen <- upgraded{resp: resp, early: early}
		conn.Write(early)
		io.Copy(conn, br)
	}))
	if configure != nil {
		configure(srv.Config)
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, seen
}

func wsURL(srv *httptest.Server, path string) string {
	return "ws" + strings.TrimPrefix(srv.URL, "http") + path
}

func receive(t *testing.T, ch chan upgraded) upgraded {
	t.Helper()
	select {
	case u := <-ch:
		return u
	case <-time.After(5 * time.Second):
		t.Fatal("the handler did not run")
		return upgraded{}
	}
}

func TestUpgradeAndDial(t *testing.T) {
	srv, seen := newServer(t, &Policy{Subprotocols: []string{"superchat", "chat"}}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cc, err := Dial(ctx, wsURL(srv, "/chat"), &DialOptions{
		Protocols: []string{"chat", "superchat"},
		Origin:    srv.URL, // same host
		Rand:      strings.NewReader("the sample nonce"),
		Header:    http.Header{"Cookie": {"a=b"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Conn.Close()
	u := receive(t, seen)
	if u.err != nil {
		t.Fatal(u.err)
	}
	if cc.Key != rfcKey || cc.Subprotocol != "superchat" || u.resp.Subprotocol != "superchat" {
		t.Errorf("key %q, client subprotocol %q, server %q", cc.Key, cc.Subprotocol, u.resp.Subprotocol)
	}
	want := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: superchat\r\n\r\n"
	if string(cc.ResponseBytes) != want {
		t.Errorf("response bytes:\n%q\nwant\n%q", cc.ResponseBytes, want)
	}
	if !strings.Contains(string(cc.RequestBytes), "\r\nCookie: a=b\r\n") {
		t.Errorf("request bytes lack the extra header:\n%s", cc.RequestBytes)
	}
	// The connection now carries raw bytes both ways.
	cc.Conn.Write([]byte("\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58"))
	got := make([]byte, 11)
	if _, err := io.ReadFull(cc.Reader, got); err != nil || string(got) != "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58" {
		t.Errorf("echo = %q, %v", got, err)
	}
}

// TestUpgradeEarlyBytes: a client that sends its first frame in the same
// write as its request. The frame must be in the reader Upgrade returns.
func TestUpgradeEarlyBytes(t *testing.T) {
	srv, seen := newServer(t, nil, nil)
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	u, _ := parseURL(wsURL(srv, "/"))
	frame := "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58"
	conn.Write(append(NewRequest(u, rfcKey, nil, ""), frame...))
	br := bufio.NewReader(conn)
	if _, _, err := ReadResponse(br, rfcKey, nil); err != nil {
		t.Fatal(err)
	}
	up := receive(t, seen)
	if up.err != nil || string(up.early) != frame {
		t.Errorf("early bytes in the server's reader = %q (err %v), want the frame", up.early, up.err)
	}
	got := make([]byte, len(frame))
	io.ReadFull(br, got)
	if string(got) != frame {
		t.Errorf("echo = %q", got)
	}
}

// TestUpgradeClearsDeadline: http.Server's ReadTimeout must not cut off a
// WebSocket that is quiet for longer than it.
func TestUpgradeClearsDeadline(t *testing.T) {
	srv, seen := newServer(t, nil, func(s *http.Server) { s.ReadTimeout = 50 * time.Millisecond })
	cc, err := Dial(context.Background(), wsURL(srv, "/"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Conn.Close()
	receive(t, seen)
	time.Sleep(150 * time.Millisecond) // longer than ReadTimeout, on purpose
	cc.Conn.Write([]byte("ping"))
	got := make([]byte, 4)
	cc.Conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(cc.Reader, got); err != nil || string(got) != "ping" {
		t.Errorf("after a quiet spell: %q, %v", got, err)
	}
}

// TestUpgradeRefusals: the refusal as a real client receives it.
func TestUpgradeRefusals(t *testing.T) {
	srv, seen := newServer(t, nil, nil)
	tests := []struct {
		name    string
		raw     string
		status  int
		headers []string // exact header lines the response must contain
		body    string
	}{
		{"plain GET", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 400, nil,
			"handshake: the request has no Upgrade header; it must contain \"websocket\"\n"},
		{"POST", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", 405, []string{"Allow: GET"},
			"handshake: method is POST; the opening handshake must be a GET request\n"},
		{"version 8", "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + rfcKey +
			"\r\nSec-WebSocket-Version: 8\r\n\r\n", 426,
			[]string{"Sec-WebSocket-Version: 13", "Upgrade: websocket", "Connection: Upgrade"},
			"handshake: Sec-WebSocket-Version is \"8\"; this server speaks only version 13\n"},
		{"short key", "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: AAAAAAAAAAAAAAAA\r\nSec-WebSocket-Version: 13\r\n\r\n",
			400, nil, "handshake: Sec-WebSocket-Key decodes to 12 bytes; it must be 16\n"},
		{"other origin", "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + rfcKey +
			"\r\nSec-WebSocket-Version: 13\r\nOrigin: http://evil.example\r\n\r\n", 403, nil,
			"handshake: Origin \"http://evil.example\" is another site: its host \"evil.example\" is not this server's host \"x\"\n"},
	}
	for _, tt := range tests {
		conn, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		conn.Write([]byte(tt.raw))
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		resp, raw, err := ReadResponse(bufio.NewReader(conn), rfcKey, nil)
		conn.Close()
		if resp == nil || resp.StatusCode != tt.status {
			t.Errorf("%s: %v %q", tt.name, err, raw)
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		if string(body) != tt.body || resp.Header.Get("Content-Type") != "text/plain; charset=utf-8" {
			t.Errorf("%s: body %q (%s), want %q", tt.name, body, resp.Header.Get("Content-Type"), tt.body)
		}
		for _, h := range tt.headers {
			if !strings.Contains(string(raw), "\r\n"+h+"\r\n") {
				t.Errorf("%s: no %q in\n%s", tt.name, h, raw)
			}
		}
		if u := receive(t, seen); u.err == nil || u.err.Error() != strings.TrimSuffix(tt.body, "\n") {
			t.Errorf("%s: Upgrade returned %v", tt.name, u.err)
		}
	}
}

// TestDialRefused: Dial keeps the exchange when the server refuses.
func TestDialRefused(t *testing.T) {
	srv, _ := newServer(t, nil, nil)
	cc, err := Dial(context.Background(), wsURL(srv, "/"), &DialOptions{Origin: "http://evil.example"})
	var herr *Error
	if !errors.As(err, &herr) || !strings.Contains(err.Error(), `not 101 Switching Protocols; the server says "handshake: Origin \"http://evil.example\" is another site`) {
		t.Fatalf("Dial = %v", err)
	}
	if cc == nil || cc.Conn != nil || cc.Response.StatusCode != 403 || !strings.HasPrefix(string(cc.ResponseBytes), "HTTP/1.1 403 Forbidden\r\n") {
		t.Errorf("ClientConn = %+v", cc)
	}
}

// TestDialBadServer: a hand-written server that hashes the decoded key.
func TestDialBadServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		br := bufio.NewReader(c)
		for {
			line, err := br.ReadString('\n')
			if err != nil || line == "\r\n" {
				break
			}
		}
		c.Write([]byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
			"Sec-WebSocket-Accept: BXhwxM0SZasKmCD9S4BfpPmCnEw=\r\n\r\n"))
		io.Copy(io.Discard, br)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cc, err := Dial(ctx, "ws://"+ln.Addr().String(), &DialOptions{Rand: strings.NewReader("the sample nonce")})
	if err == nil || !strings.Contains(err.Error(), "base64-decoded bytes") {
		t.Fatalf("Dial = %v", err)
	}
	if cc == nil || !strings.Contains(string(cc.ResponseBytes), "BXhwxM0SZasKmCD9S4BfpPmCnEw=") {
		t.Errorf("ClientConn = %+v", cc)
	}
}

func TestUpgradeCannotHijack(t *testing.T) {
	// A ResponseRecorder cannot be hijacked: Upgrade says so and answers 500.
	w := httptest.NewRecorder()
	_, _, _, err := Upgrade(w, rfcRequest(), rfcPolicy)
	if err == nil || !strings.Contains(err.Error(), "taking over the connection") || w.Code != 500 {
		t.Errorf("Upgrade on a recorder = %v, status %d", err, w.Code)
	}
	// The refusal path needs no hijacking and works on a recorder.
	w = httptest.NewRecorder()
	r := rfcRequest()
	r.Header.Set("Sec-WebSocket-Version", "7")
	Upgrade(w, r, rfcPolicy)
	if w.Code != 426 || w.Header()["Sec-WebSocket-Version"][0] != "13" {
		t.Errorf("refusal: %d %v", w.Code, w.Header())
	}
}

// TestDialTLS: wss:// runs the same handshake inside TLS.
func TestDialTLS(t *testing.T) {
	seen := make(chan error, 1)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, _, err := Upgrade(w, r, nil)
		seen <- err
		if err == nil {
			conn.Close()
		}
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused certificate below is expected
	srv.StartTLS()
	defer srv.Close()
	cfg := srv.Client().Transport.(*http.Transport).TLSClientConfig
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cc, err := Dial(ctx, "wss"+strings.TrimPrefix(srv.URL, "https")+"/secure", &DialOptions{TLSConfig: cfg})
	if err != nil {
		t.Fatal(err)
	}
	cc.Conn.Close()
	if err := <-seen; err != nil {
		t.Fatal(err)
	}
	// Without the test certificate, verification fails.
	if _, err := Dial(ctx, "wss"+strings.TrimPrefix(srv.URL, "https")+"/", nil); err == nil || !strings.Contains(err.Error(), "TLS") {
		t.Errorf("Dial with an unknown certificate = %v", err)
	}
}
