package handshake

import (
	"fmt"
	"net/http"
	"strings"
)

// Policy is what a server accepts. The zero Policy accepts no subprotocol and
// only same-host origins (see [OriginPolicy]).
type Policy struct {
	// Subprotocols the server speaks, most preferred first. The server
	// chooses the first of these that the client offered.
	Subprotocols []string

	// Origins is an allow-list of origins accepted besides the server's own
	// host. An entry with "://" ("https://example.com") must equal the
	// whole Origin; an entry without ("example.com:8080") must equal the
	// Origin's host and port. Comparison ignores ASCII case.
	Origins []string

	// AnyOrigin accepts every Origin. Only for services that carry no
	// credentials, such as a public echo endpoint.
	AnyOrigin bool

	// CheckOrigin, if set, replaces every other Origin rule: it alone
	// decides, and it is called even when the request has no Origin.
	CheckOrigin func(*http.Request) bool
}

// Respond runs the server's checks of RFC 6455 §4.2.1 on r, in the order the
// RFC lists them, and returns the 101 response to send. The first check that
// fails is returned as an [*Error] naming the status, the header and the
// reason:
//
//  1. method GET, else 405 with Allow: GET;
//  2. HTTP/1.1 or later, else 400;
//  3. a Host header, else 400;
//  4. Upgrade containing the token "websocket", else 400;
//  5. Connection containing the token "Upgrade", else 400;
//  6. one Sec-WebSocket-Key that decodes to 16 bytes, else 400;
//  7. Sec-WebSocket-Version 13: missing gives 400, another value 426, both
//     with Sec-WebSocket-Version: 13;
//  8. the Origin policy, else 403.
//
// Then it chooses a subprotocol (see [Policy.Subprotocols]). Extensions the
// client offers are ignored: this server supports none, and "Extensions not
// listed by the client MUST NOT be listed" (§4.2.2) is kept by listing none.
func (p *Policy) Respond(r *http.Request) (*Response, error) {
	if p == nil {
		p = &Policy{}
	}
	// §4.2.1, item 1: "An HTTP/1.1 or higher GET request".
	if r.Method != http.MethodGet {
		return nil, &Error{
			Status: http.StatusMethodNotAllowed, Section: "4.2.1",
			Reason: fmt.Sprintf("method is %s; the opening handshake must be a GET request", r.Method),
			Extra:  http.Header{"Allow": {"GET"}},
		}
	}
	if !r.ProtoAtLeast(1, 1) {
		return nil, badRequest("", "4.2.1", "request is %s; the opening handshake needs HTTP/1.1 or later", r.Proto)
	}
	// §4.2.1, item 2: "A |Host| header field containing the server's authority."
	if r.Host == "" {
		return nil, badRequest("Host", "4.2.1", "the request has no Host header; it must name the server's authority")
	}
	// §4.2.1, item 3: "An |Upgrade| header field containing the value
	// "websocket", treated as an ASCII case-insensitive value."
	if !hasToken(r.Header, "Upgrade", "websocket") {
		if len(r.Header.Values("Upgrade")) == 0 {
			return nil, badRequest("Upgrade", "4.2.1", "the request has no Upgrade header; it must contain \"websocket\"")
		}
		return nil, badRequest("Upgrade", "4.2.1", "Upgrade is %q; it must contain the token \"websocket\"", headerValue(r.Header, "Upgrade"))
	}
	// §4.2.1, item 4: "A |Connection| header field that includes the token
	// "Upgrade", treated as an ASCII case-insensitive value."
	if !hasToken(r.Header, "Connection", "Upgrade") {
		if len(r.Header.Values("Connection")) == 0 {
			return nil, badRequest("Connection", "4.2.1", "the request has no Connection header; it must contain the token \"Upgrade\" (proxies drop it unless told to pass it on: it is hop-by-hop)")
		}
		return nil, badRequest("Connection", "4.2.1", "Connection is %q; it must contain the token \"Upgrade\"", headerValue(r.Header, "Connection"))
	}
	// §4.2.1, item 5, and §11.3.1: "The |Sec-WebSocket-Key| header field
	// MUST NOT appear more than once in an HTTP request."
	keys := r.Header.Values("Sec-WebSocket-Key")
	switch {
	case len(keys) == 0:
		return nil, badRequest("Sec-WebSocket-Key", "4.2.1", "the request has no Sec-WebSocket-Key header; it must carry 16 random bytes in base64")
	case len(keys) > 1:
		return nil, badRequest("Sec-WebSocket-Key", "11.3.1", "Sec-WebSocket-Key appears %d times; it must appear once", len(keys))
	}
	key := strings.Trim(keys[0], " \t")
	if err := CheckKey(key); err != nil {
		return nil, err
	}
	if err := checkVersion(r.Header); err != nil {
		return nil, err
	}
	// §4.2.2, /origin/: "If the server does not wish to accept this
	// connection, it MUST return an appropriate HTTP error code (e.g., 403
	// Forbidden) and abort the WebSocket handshake".
	if err := p.checkOrigin(r); err != nil {
		return nil, err
	}
	return &Response{Accept: Accept(key), Subprotocol: p.chooseSubprotocol(r.Header)}, nil
}

// Version is the only protocol version RFC 6455 defines.
const Version = "13"

// checkVersion enforces §4.2.1, item 6: "A |Sec-WebSocket-Version| header
// field, with a value of 13."
//
// A missing header means the request is not a WebSocket handshake as §4.2.1
// describes it, so the answer is 400 Bad Request. A different version is the
// case §4.2.2 (/version/) names: "the server MUST abort the WebSocket
// handshake … and instead send an appropriate HTTP error code (such as 426
// Upgrade Required) and a |Sec-WebSocket-Version| header field indicating the
// version(s) the server is capable of understanding." Both answers carry
// Sec-WebSocket-Version: 13, so the client learns what to send (§4.4).
//
// The 426 also carries Upgrade: websocket and Connection: Upgrade, because
// HTTP requires it: "The server MUST send an Upgrade header field in a 426
// response to indicate the required protocol(s)" (RFC 9110 §15.5.22), and "A
// sender of Upgrade MUST also send an "Upgrade" connection option in the
// Connection header field" (RFC 9110 §7.8).
func checkVersion(h http.Header) *Error {
	extra := func() http.Header { return http.Header{"Sec-Websocket-Version": {Version}} }
	vs := h.Values("Sec-WebSocket-Version")
	switch {
	case len(vs) == 0:
		e := badRequest("Sec-WebSocket-Version", "4.2.1", "the request has no Sec-WebSocket-Version header; it must be 13")
		e.Extra = extra()
		return e
	case len(vs) > 1:
		// §11.3.5: "The |Sec-WebSocket-Version| header field MUST NOT
		// appear more than once in an HTTP request."
		e := badRequest("Sec-WebSocket-Version", "11.3.5", "Sec-WebSocket-Version appears %d times; it must appear once, with the value 13", len(vs))
		e.Extra = extra()
		return e
	}
	if v := strings.Trim(vs[0], " \t"); v != Version {
		return &Error{
			Status: http.StatusUpgradeRequired, Header: "Sec-WebSocket-Version", Section: "4.2.2",
			Reason: fmt.Sprintf("Sec-WebSocket-Version is %q; this server speaks only version 13", v),
			Extra: http.Header{
				"Sec-Websocket-Version": {Version},
				"Upgrade":               {"websocket"},
				"Connection":            {"Upgrade"},
			},
		}
	}
	return nil
}

func badRequest(header, section, format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Header: header, Section: section, Reason: fmt.Sprintf(format, args...)}
}
