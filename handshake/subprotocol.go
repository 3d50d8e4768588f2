package handshake

import "net/http"

// chooseSubprotocol returns the first of p.Subprotocols, in the server's
// order of preference, that the client offered in Sec-WebSocket-Protocol, or
// "" if there is none.
//
// The client may list several subprotocols on one line ("chat, superchat")
// or repeat the header; both mean the same list (RFC 6455 §4.1, item 10:
// "one or more comma-separated subprotocol the client wishes to speak").
// Subprotocol names are compared exactly, case included: they are tokens
// the application defines, and RFC 6455 gives no case-insensitive rule for
// them.
//
// §4.2.2, /subprotocol/: "The value chosen MUST be derived from the client's
// handshake, specifically by selecting one of the values from the
// |Sec-WebSocket-Protocol| field that the server is willing to use". And
// when there is none, the server "MUST NOT send back a
// |Sec-WebSocket-Protocol| header field in its response": the empty string
// "is not a legal value for this field".
func (p *Policy) chooseSubprotocol(h http.Header) string {
	offered := headerList(h, "Sec-WebSocket-Protocol")
	for _, want := range p.Subprotocols {
		for _, o := range offered {
			if o == want {
				return want
			}
		}
	}
	return ""
}
