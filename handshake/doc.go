// Package handshake implements the WebSocket opening handshake of RFC 6455,
// section 4, from scratch, with nothing but the standard library.
//
// The opening handshake is one HTTP request and one HTTP response. The
// client asks to switch protocols (RFC 6455 §1.3):
//
//	GET /chat HTTP/1.1
//	Host: server.example.com
//	Upgrade: websocket
//	Connection: Upgrade
//	Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==
//	Origin: http://example.com
//	Sec-WebSocket-Protocol: chat, superchat
//	Sec-WebSocket-Version: 13
//
// and the server agrees:
//
//	HTTP/1.1 101 Switching Protocols
//	Upgrade: websocket
//	Connection: Upgrade
//	Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=
//	Sec-WebSocket-Protocol: chat
//
// After the blank line that ends the response, both sides speak WebSocket
// frames on the same TCP connection (see package framing).
//
// The package is organised one concept per file:
//
//   - accept.go: the GUID, [Accept] and its step-by-step [Derive].
//   - key.go: the client's nonce: [NewKey] and [CheckKey].
//   - tokens.go: comma-separated token lists (Upgrade, Connection, …).
//   - error.go: [Error], a refused handshake with its HTTP status.
//   - policy.go: the server's checks, in the order of RFC §4.2.1: [Policy.Respond].
//   - origin.go: the Origin policy (same host, allow-list, any).
//   - subprotocol.go: choosing one subprotocol from the client's list.
//   - response.go: the 101 response: [Response.AppendTo].
//   - upgrade.go: [Upgrade], taking over the connection from net/http.
//   - request.go: the client's request: [NewRequest] and [ParseRequest].
//   - client.go: [ReadResponse], [CheckResponse] and [Dial].
//   - annotate.go: every line of a handshake with its offset and role.
//   - explain.go: [ExplainAccept], naming the usual wrong Accept values.
//
// Errors are lower-case, start with "handshake: ", and say what was expected
// and what was found.
package handshake
