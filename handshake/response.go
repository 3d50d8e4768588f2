package handshake

import (
	"net/http"
	"sort"
	"strings"
)

// Response is the server's half of the opening handshake: a 101 Switching
// Protocols with the Accept value and, if one was chosen, the subprotocol.
type Response struct {
	Accept      string      // Sec-WebSocket-Accept: Accept(key)
	Subprotocol string      // Sec-WebSocket-Protocol, sent only when not ""
	Header      http.Header // further header fields to send (e.g. Set-Cookie); usually nil
}

// AppendTo appends the response as it goes on the wire, for example (the
// RFC 6455 §1.3 response):
//
//	HTTP/1.1 101 Switching Protocols\r\n
//	Upgrade: websocket\r\n
//	Connection: Upgrade\r\n
//	Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n
//	Sec-WebSocket-Protocol: chat\r\n
//	\r\n
//
// RFC 6455 §4.2.2, step 5: "If the server chooses to accept the incoming
// connection, it MUST reply with a valid HTTP response indicating the
// following": the 101 status line, "An |Upgrade| header field with value
// "websocket"", "A |Connection| header field with value "Upgrade"", and "A
// |Sec-WebSocket-Accept| header field".
//
// Fields of r.Header follow, sorted by name; fields this function writes
// itself, and values containing CR or LF (which would start a new line),
// are left out.
func (r *Response) AppendTo(dst []byte) []byte {
	dst = append(dst, "HTTP/1.1 101 Switching Protocols\r\n"...)
	dst = append(dst, "Upgrade: websocket\r\n"...)
	dst = append(dst, "Connection: Upgrade\r\n"...)
	dst = appendField(dst, "Sec-WebSocket-Accept", r.Accept)
	if r.Subprotocol != "" {
		dst = appendField(dst, "Sec-WebSocket-Protocol", r.Subprotocol)
	}
	dst = appendHeader(dst, r.Header, "Upgrade", "Connection", "Sec-WebSocket-Accept", "Sec-WebSocket-Protocol")
	return append(dst, "\r\n"...)
}

func appendField(dst []byte, name, value string) []byte {
	dst = append(dst, name...)
	dst = append(dst, ": "...)
	dst = append(dst, value...)
	return append(dst, "\r\n"...)
}

// appendHeader appends the fields of h sorted by name, leaving out the names
// in skip and any value that contains CR or LF.
func appendHeader(dst []byte, h http.Header, skip ...string) []byte {
	names := make([]string, 0, len(h))
outer:
	for name := range h {
		for _, s := range skip {
			if asciiEqualFold(name, s) {
				continue outer
			}
		}
		if isToken(name) {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		for _, v := range h[name] {
			if !strings.ContainsAny(v, "\r\n") {
				dst = appendField(dst, rfcName(name), v)
			}
		}
	}
	return dst
}

// rfcName spells the WebSocket header fields the way RFC 6455 does.
// net/http's canonical form, "Sec-Websocket-Key", means the same (header
// names are case-insensitive) but reads worse beside the RFC.
func rfcName(name string) string {
	for _, n := range [...]string{"Sec-WebSocket-Key", "Sec-WebSocket-Accept", "Sec-WebSocket-Version", "Sec-WebSocket-Protocol", "Sec-WebSocket-Extensions"} {
		if asciiEqualFold(name, n) {
			return n
		}
	}
	return name
}
