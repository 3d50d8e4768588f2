package handshake

import (
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

// rfcRequestBytes is the client handshake of RFC 6455 §1.3 on the wire.
const rfcRequestBytes = "GET /chat HTTP/1.1\r\n" +
	"Host: server.example.com\r\n" +
	"Upgrade: websocket\r\n" +
	"Connection: Upgrade\r\n" +
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
	"Origin: http://example.com\r\n" +
	"Sec-WebSocket-Protocol: chat, superchat\r\n" +
	"Sec-WebSocket-Version: 13\r\n" +
	"\r\n"

func TestNewRequestRFC(t *testing.T) {
	u, _ := url.Parse("ws://server.example.com/chat")
	got := NewRequest(u, "dGhlIHNhbXBsZSBub25jZQ==", []string{"chat", "superchat"}, "http://example.com")
	if string(got) != rfcRequestBytes {
		t.Errorf("NewRequest:\n%q\nwant\n%q", got, rfcRequestBytes)
	}
}

func TestNewRequestResourceName(t *testing.T) {
	tests := []struct{ url, line, host string }{
		{"ws://example.com", "GET / HTTP/1.1", "example.com"},
		{"ws://example.com/", "GET / HTTP/1.1", "example.com"},
		{"ws://example.com:8080/a/b?x=1&y=2", "GET /a/b?x=1&y=2 HTTP/1.1", "example.com:8080"},
		{"wss://[::1]:443/p%20q", "GET /p%20q HTTP/1.1", "[::1]:443"},
	}
	for _, tt := range tests {
		u, err := url.Parse(tt.url)
		if err != nil {
			t.Fatal(err)
		}
		raw := string(NewRequest(u, "dGhlIHNhbXBsZSBub25jZQ==", nil, ""))
		if !strings.HasPrefix(raw, tt.line+"\r\nHost: "+tt.host+"\r\n") {
			t.Errorf("%s: request starts %q", tt.url, raw[:strings.Index(raw, "Upgrade")])
		}
		if strings.Contains(raw, "Origin") || strings.Contains(raw, "Sec-WebSocket-Protocol") {
			t.Errorf("%s: Origin or Sec-WebSocket-Protocol sent though not asked for:\n%s", tt.url, raw)
		}
	}
}

func TestParseRequestRFC(t *testing.T) {
	req, err := ParseRequest([]byte(rfcRequestBytes + "\x81\x85"))
	if err != nil {
		t.Fatal(err)
	}
	if req.Method != "GET" || req.Target != "/chat" || req.Proto != "HTTP/1.1" {
		t.Errorf("request line = %q %q %q", req.Method, req.Target, req.Proto)
	}
	if got := req.Header.Get("Sec-WebSocket-Key"); got != "dGhlIHNhbXBsZSBub25jZQ==" {
		t.Errorf("key = %q", got)
	}
	if string(req.Rest) != "\x81\x85" {
		t.Errorf("Rest = %q, want the early frame bytes", req.Rest)
	}
	kinds := []string{}
	for _, l := range req.Lines {
		kinds = append(kinds, l.Kind)
	}
	want := []string{KindRequestLine, "host", "upgrade", "connection", "sec-websocket-key", "origin",
		"sec-websocket-protocol", "sec-websocket-version", KindEnd, KindData}
	if !reflect.DeepEqual(kinds, want) {
		t.Errorf("kinds = %q\nwant   %q", kinds, want)
	}
	// The same bytes, judged by the server's policy, give the RFC's answer.
	hr, err := req.HTTPRequest()
	if err != nil {
		t.Fatal(err)
	}
	if hr.Host != "server.example.com" || hr.Header.Get("Host") != "" || hr.URL.Path != "/chat" {
		t.Errorf("HTTPRequest: Host %q, Header Host %q, path %q", hr.Host, hr.Header.Get("Host"), hr.URL.Path)
	}
	resp, err := rfcPolicy.Respond(hr)
	if err != nil || resp.Accept != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" || resp.Subprotocol != "chat" {
		t.Errorf("Respond(parsed RFC request) = %+v, %v", resp, err)
	}
}

func TestParseRequestErrors(t *testing.T) {
	tests := []struct{ name, raw, reason string }{
		{"empty", "", "ends after 0 bytes"},
		{"no blank line", "GET / HTTP/1.1\r\nHost: a\r\n", "before the blank line"},
		{"cut in the middle of a line", "GET / HTTP/1.1\r\nHo", "before the blank line"},
		{"two-part request line", "GET /\r\n\r\n", `request line "GET /" is not`},
		{"bad version", "GET / HTTQ/1.1\r\n\r\n", `"HTTQ/1.1" is not an HTTP version`},
		{"no colon", "GET / HTTP/1.1\r\nHost a\r\n\r\n", `line "Host a" has no colon`},
		{"space before colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", "whitespace before the colon"},
		{"folded line", "GET / HTTP/1.1\r\nHost: a\r\n  b\r\n\r\n", "folded header line"},
		{"bad name", "GET / HTTP/1.1\r\nHo(st: a\r\n\r\n", "not an HTTP token"},
	}
	for _, tt := range tests {
		req, err := ParseRequest([]byte(tt.raw))
		if err == nil || !strings.Contains(err.Error(), tt.reason) || !strings.HasPrefix(err.Error(), "handshake: ") {
			t.Errorf("%s: err = %v, want it to contain %q", tt.name, err, tt.reason)
		}
		if req == nil {
			t.Errorf("%s: no partial Request returned", tt.name)
			continue
		}
		checkCoverage(t, tt.name, []byte(tt.raw), req.Lines)
	}
}

func TestHTTPRequestErrors(t *testing.T) {
	if _, err := (&Request{Method: "GET", Target: "/", Proto: "HTTP/x"}).HTTPRequest(); err == nil {
		t.Error("bad proto accepted")
	}
	if _, err := (&Request{Method: "GET", Target: "chat", Proto: "HTTP/1.1"}).HTTPRequest(); err == nil {
		t.Error("relative target accepted")
	}
	hr, err := (&Request{Method: "GET", Target: "/", Proto: "HTTP/1.0"}).HTTPRequest()
	if err != nil || hr.ProtoAtLeast(1, 1) || hr.Header == nil {
		t.Errorf("HTTP/1.0 request: %+v, %v", hr, err)
	}
	var e *Error
	if _, err := (&Policy{}).Respond(hr); err == nil || !asError(err, &e) || e.Status != http.StatusBadRequest {
		t.Errorf("Respond(HTTP/1.0) = %v", err)
	}
}
