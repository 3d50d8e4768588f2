package handshake

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

const rfcKey = "dGhlIHNhbXBsZSBub25jZQ=="

func TestReadResponseRFC(t *testing.T) {
	frame := "\x81\x05Hello"
	// Read through a one-byte reader: the head may arrive in pieces.
	br := bufio.NewReaderSize(iotest.OneByteReader(strings.NewReader(rfcResponseBytes+frame)), 16)
	resp, raw, err := ReadResponse(br, rfcKey, []string{"chat", "superchat"})
	if err != nil {
		t.Fatal(err)
	}
	if string(raw) != rfcResponseBytes {
		t.Errorf("raw = %q, want exactly the head", raw)
	}
	if resp.StatusCode != 101 || resp.Header.Get("Sec-WebSocket-Protocol") != "chat" {
		t.Errorf("resp = %+v", resp)
	}
	rest, _ := io.ReadAll(br)
	if string(rest) != frame {
		t.Errorf("left in the reader: %q, want the frame", rest)
	}
}

// The raw bytes are returned as received, not re-serialised.
func TestReadResponseRawExact(t *testing.T) {
	head := "HTTP/1.1 101 OK then\r\nupgrade:WebSocket\r\nCONNECTION: keep-alive,  upgrade\r\n" +
		"Sec-WebSocket-Accept:   s3pPLMBiTxaQ9kYGzzhZRbK+xOo=  \r\nX-Long: " + strings.Repeat("x", 5000) + "\r\n\r\n"
	_, raw, err := ReadResponse(bufio.NewReaderSize(strings.NewReader(head), 16), rfcKey, nil)
	if err != nil || string(raw) != head {
		t.Errorf("err %v; raw equal: %v", err, string(raw) == head)
	}
}

func TestReadResponseErrors(t *testing.T) {
	tests := []struct{ name, raw, want string }{
		{"empty", "", "unexpected EOF"},
		{"cut", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n", "unexpected EOF"},
		{"not HTTP", "SSH-2.0-OpenSSH_9.6\r\n\r\n", "not valid HTTP"},
		{"too long", "HTTP/1.1 101 Switching Protocols\r\nX: " + strings.Repeat("x", 20000), "longer than 16384 bytes"},
		{"refused with a body", "HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\nContent-Length: 60\r\n\r\n" +
			"handshake: Sec-WebSocket-Version is \"8\"; this server speaks\n",
			`the server answered "HTTP/1.1 426 Upgrade Required", not 101 Switching Protocols (it speaks Sec-WebSocket-Version "13"); the server says "handshake: Sec-WebSocket-Version is \"8\"; this server speaks"`},
	}
	for _, tt := range tests {
		resp, raw, err := ReadResponse(bufio.NewReader(strings.NewReader(tt.raw)), rfcKey, nil)
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "handshake: ") {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
		if tt.name == "refused with a body" {
			body, _ := io.ReadAll(resp.Body)
			if string(raw) != tt.raw || !strings.HasPrefix(string(body), "handshake:") {
				t.Errorf("%s: raw %q body %q", tt.name, raw, body)
			}
		}
	}
}

// TestCheckResponse has one row per way a client refuses the server's answer.
func TestCheckResponse(t *testing.T) {
	good := func() *http.Response {
		return &http.Response{StatusCode: 101, Status: "101 Switching Protocols", Proto: "HTTP/1.1", Header: http.Header{
			"Upgrade":              {"websocket"},
			"Connection":           {"Upgrade"},
			"Sec-Websocket-Accept": {"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="},
		}}
	}
	chat := []string{"chat", "superchat"}
	tests := []struct {
		name    string
		change  func(*http.Response)
		offered []string
		header  string
		reason  string // "" = accepted
	}{
		{"RFC response", func(r *http.Response) {}, nil, "", ""},
		{"case-insensitive values", func(r *http.Response) {
			r.Header.Set("Upgrade", "WebSocket")
			r.Header.Set("Connection", "keep-alive, UPGRADE")
		}, nil, "", ""},
		{"accept with whitespace", func(r *http.Response) { r.Header.Set("Sec-WebSocket-Accept", " s3pPLMBiTxaQ9kYGzzhZRbK+xOo= ") }, nil, "", ""},
		{"subprotocol chosen from offer", func(r *http.Response) { r.Header.Set("Sec-WebSocket-Protocol", "chat") }, chat, "", ""},
		{"no subprotocol though offered", func(r *http.Response) {}, chat, "", ""},
		{"status 200", func(r *http.Response) { r.StatusCode, r.Status = 200, "200 OK" }, nil, "",
			`the server answered "HTTP/1.1 200 OK", not 101 Switching Protocols`},
		{"status 403", func(r *http.Response) { r.StatusCode, r.Status = 403, "403 Forbidden" }, nil, "", `"HTTP/1.1 403 Forbidden"`},
		{"no Upgrade", func(r *http.Response) { r.Header.Del("Upgrade") }, nil, "Upgrade", "the response has no Upgrade header"},
		{"Upgrade h2c", func(r *http.Response) { r.Header.Set("Upgrade", "h2c") }, nil, "Upgrade", `Upgrade is "h2c"; it must be "websocket"`},
		{"no Connection", func(r *http.Response) { r.Header.Del("Connection") }, nil, "Connection", "the response has no Connection header"},
		{"Connection close", func(r *http.Response) { r.Header.Set("Connection", "close") }, nil, "Connection", `Connection is "close"`},
		{"no Accept", func(r *http.Response) { r.Header.Del("Sec-WebSocket-Accept") }, nil, "Sec-WebSocket-Accept",
			`no Sec-WebSocket-Accept header; for key "dGhlIHNhbXBsZSBub25jZQ==" it must be "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="`},
		{"two Accepts", func(r *http.Response) { r.Header.Add("Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") }, nil, "Sec-WebSocket-Accept", "appears 2 times"},
		{"Accept of decoded key", func(r *http.Response) { r.Header.Set("Sec-WebSocket-Accept", "BXhwxM0SZasKmCD9S4BfpPmCnEw=") }, nil,
			"Sec-WebSocket-Accept", "base64-decoded bytes"},
		{"Accept for another key", func(r *http.Response) { r.Header.Set("Sec-WebSocket-Accept", "HSmrc0sMlYUkAGmm5OPpG2HaGWk=") }, nil,
			"Sec-WebSocket-Accept", "matches no common mistake"},
		{"extension not offered", func(r *http.Response) { r.Header.Set("Sec-WebSocket-Extensions", "permessage-deflate") }, nil,
			"Sec-WebSocket-Extensions", `the server accepted extensions "permessage-deflate", but this client offered none`},
		{"subprotocol not offered", func(r *http.Response) { r.Header.Set("Sec-WebSocket-Protocol", "mqtt") }, chat,
			"Sec-WebSocket-Protocol", `the server chose subprotocol "mqtt", which is not one this client offered (chat, superchat)`},
		{"subprotocol when none offered", func(r *http.Response) { r.Header.Set("Sec-WebSocket-Protocol", "chat") }, nil,
			"Sec-WebSocket-Protocol", `the server chose subprotocol "chat", but this client offered none`},
		{"empty subprotocol", func(r *http.Response) { r.Header.Set("Sec-WebSocket-Protocol", "") }, chat,
			"Sec-WebSocket-Protocol", "is empty"},
		{"two subprotocols", func(r *http.Response) { r.Header["Sec-Websocket-Protocol"] = []string{"chat", "superchat"} }, chat,
			"Sec-WebSocket-Protocol", "appears 2 times"},
		{"subprotocol list", func(r *http.Response) { r.Header.Set("Sec-WebSocket-Protocol", "chat, superchat") }, chat,
			"Sec-WebSocket-Protocol", `"chat, superchat", which is not one`},
		{"subprotocol differs in case", func(r *http.Response) { r.Header.Set("Sec-WebSocket-Protocol", "Chat") }, chat,
			"Sec-WebSocket-Protocol", "not one this client offered"},
	}
	rules := map[string]Rule{}
	for _, r := range ClientRules() {
		rules[r.Name] = r
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		r := good()
		tt.change(r)
		err := CheckResponse(r, rfcKey, tt.offered)
		all := ResponseProblems(r, rfcKey, tt.offered)
		if tt.reason == "" {
			if err != nil || all != nil {
				t.Errorf("%s: %v, %v", tt.name, err, all)
			}
			continue
		}
		var herr *Error
		if !errors.As(err, &herr) || herr.Status != 0 || herr.Header != tt.header || !strings.Contains(herr.Reason, tt.reason) {
			t.Errorf("%s: err = %v (%+v); want header %q, reason containing %q", tt.name, err, herr, tt.header, tt.reason)
			continue
		}
		if rule, ok := rules[herr.Rule]; !ok || rule.Section != herr.Section || rule.Header != herr.Header {
			t.Errorf("%s: error %+v does not match its rule %+v", tt.name, herr, rule)
		}
		seen[herr.Rule] = true
		if len(all) == 0 || all[0].Reason != herr.Reason {
			t.Errorf("%s: ResponseProblems()[0] = %v; CheckResponse = %v", tt.name, all, herr)
		}
	}
	for _, r := range ClientRules() {
		if !seen[r.Name] {
			t.Errorf("no row fails a response for rule %q", r.Name)
		}
	}
	// Every problem of a bad 101, in the order of the table; a refusal has
	// only its status.
	r := good()
	r.Header.Del("Connection")
	r.Header.Set("Sec-WebSocket-Accept", "BXhwxM0SZasKmCD9S4BfpPmCnEw=")
	r.Header.Set("Sec-WebSocket-Protocol", "mqtt")
	var names []string
	for _, e := range ResponseProblems(r, rfcKey, chat) {
		names = append(names, e.Rule)
	}
	if got := strings.Join(names, " "); got != "connection sec-websocket-accept sec-websocket-protocol" {
		t.Errorf("ResponseProblems: %s", got)
	}
	r.StatusCode, r.Status = 403, "403 Forbidden"
	if all := ResponseProblems(r, rfcKey, chat); len(all) != 1 || all[0].Rule != "status-101" {
		t.Errorf("refusal: %v", all)
	}
}

func TestDialURLErrors(t *testing.T) {
	for _, tt := range []struct{ url, want string }{
		{"http://example.com/", `URL scheme is "http"`},
		{"ws:///chat", "has no host"},
		{"ws://example.com/chat#frag", "has a fragment"},
		{"ws://exa mple.com/", "is not a URL"},
	} {
		cc, err := Dial(context.Background(), tt.url, nil)
		if cc != nil || err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Dial(%q) = %v, %v; want error %q", tt.url, cc, err, tt.want)
		}
	}
}

// A server that accepts the TCP connection but never answers: the context's
// deadline ends the handshake.
func TestDialContextDeadline(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			defer c.Close()
			io.Copy(io.Discard, c)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	cc, err := Dial(ctx, "ws://"+ln.Addr().String()+"/", nil)
	if err == nil || time.Since(start) > 5*time.Second {
		t.Fatalf("Dial = %v, %v after %v; want a timeout", cc, err, time.Since(start))
	}
	if cc == nil || cc.Conn != nil || !strings.HasPrefix(string(cc.RequestBytes), "GET / HTTP/1.1\r\n") {
		t.Errorf("ClientConn after failure = %+v, want the request bytes and no Conn", cc)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want it to wrap context.DeadlineExceeded", err)
	}
}

func parseURL(s string) (*url.URL, error) { return url.Parse(s) }

// TestDialRefusesBadOffer: Dial checks what it would send before connecting: the
// subprotocols must be unique tokens (§4.1 item 10) and no value may carry CR LF,
// which would inject a header line of its own.
func TestDialRefusesBadOffer(t *testing.T) {
	for _, tc := range []struct {
		name string
		opt  DialOptions
		want string
	}{
		{"CR LF in a subprotocol", DialOptions{Protocols: []string{"chat\r\nX-Injected: 1"}}, "is not a token"},
		{"empty subprotocol", DialOptions{Protocols: []string{"chat", ""}}, "is not a token"},
		{"space in a subprotocol", DialOptions{Protocols: []string{"a b"}}, "is not a token"},
		{"separator in a subprotocol", DialOptions{Protocols: []string{"a,b"}}, "is not a token"},
		{"subprotocol offered twice", DialOptions{Protocols: []string{"chat", "chat"}}, "offered twice"},
		{"CR LF in Origin", DialOptions{Origin: "http://a\r\nCookie: s=1"}, "byte 0x0d at 8"},
		{"non-ASCII Origin", DialOptions{Origin: "http://bücher.example"}, "byte 0xc3"},
	} {
		// Port 1 on loopback: nothing listens, so getting past the checks would
		// give a connection error instead of the message expected here.
		_, err := Dial(context.Background(), "ws://127.0.0.1:1/", &tc.opt)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Dial error %v, want it to say %q", tc.name, err, tc.want)
		}
	}
}
