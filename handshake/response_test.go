package handshake

import (
	"net/http"
	"testing"
)

func TestResponseAppendToRFC(t *testing.T) {
	// RFC 6455 §1.3, the server's handshake.
	want := "HTTP/1.1 101 Switching Protocols\r\n" +
		"Upgrade: websocket\r\n" +
		"Connection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" +
		"Sec-WebSocket-Protocol: chat\r\n" +
		"\r\n"
	r := &Response{Accept: "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", Subprotocol: "chat"}
	if got := string(r.AppendTo(nil)); got != want {
		t.Errorf("AppendTo:\n%q\nwant\n%q", got, want)
	}
	if got := string(r.AppendTo([]byte("x"))); got != "x"+want {
		t.Errorf("AppendTo does not append: %q", got)
	}
}

func TestResponseAppendToHeader(t *testing.T) {
	r := &Response{Accept: "A=", Header: http.Header{
		"Set-Cookie":               {"a=1", "b=2"},
		"X-Bad":                    {"x\r\nInjected: yes"},
		"Sec-Websocket-Protocol":   {"sneaky"}, // written from Subprotocol only
		"Sec-Websocket-Extensions": {"permessage-deflate"},
	}}
	want := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: A=\r\n" +
		"Sec-WebSocket-Extensions: permessage-deflate\r\n" +
		"Set-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\n"
	if got := string(r.AppendTo(nil)); got != want {
		t.Errorf("AppendTo:\n%q\nwant\n%q", got, want)
	}
}
