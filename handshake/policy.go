package handshake

import (
	"fmt"
	"net/http"
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

// Respond runs the server's checks of RFC 6455 §4.2.1 on r, in the order of
// [ServerRules], and returns the 101 response to send. The first check that
// fails is returned as an [*Error] naming the rule, the status, the header
// and the reason:
//
//  1. method GET, else 405 with Allow: GET;
//  2. HTTP/1.1 or later, else 400;
//  3. a Host header, else 400;
//  4. Upgrade containing the token "websocket", else 400;
//  5. Connection containing the token "Upgrade", else 400;
//  6. one Sec-WebSocket-Key that decodes to 16 bytes, else 400;
//  7. Sec-WebSocket-Version 13: missing or repeated gives 400, another value
//     426, all with Sec-WebSocket-Version: 13;
//  8. the Origin policy, else 403.
//
// Then it chooses a subprotocol (see [Policy.Subprotocols]). Extensions the
// client offers are ignored: this server supports none, and "Extensions not
// listed by the client MUST NOT be listed" (§4.2.2) is kept by listing none.
func (p *Policy) Respond(r *http.Request) (*Response, error) {
	if p == nil {
		p = &Policy{}
	}
	for _, rule := range serverRules {
		if reason := rule.check(p, r); reason != "" {
			return nil, rule.refusal(reason)
		}
	}
	key, _ := firstValue(r.Header, "Sec-WebSocket-Key")
	return &Response{Accept: Accept(key), Subprotocol: p.chooseSubprotocol(r.Header)}, nil
}

// Version is the only protocol version RFC 6455 defines.
const Version = "13"

// serverRules is the server's table (see [Rule]). Each check returns what is
// wrong, or "" if the request keeps the rule.
var serverRules = []serverRule{
	{Rule: Rule{Name: "method", Section: "4.2.1", Status: http.StatusMethodNotAllowed},
		extra: func() http.Header { return http.Header{"Allow": {"GET"}} }, check: checkMethod},
	{Rule: Rule{Name: "http-version", Section: "4.2.1", Status: http.StatusBadRequest}, check: checkHTTPVersion},
	{Rule: Rule{Name: "host", Section: "4.2.1", Status: http.StatusBadRequest, Header: "Host"}, check: checkHost},
	{Rule: Rule{Name: "upgrade", Section: "4.2.1", Status: http.StatusBadRequest, Header: "Upgrade"}, check: checkUpgrade},
	{Rule: Rule{Name: "connection", Section: "4.2.1", Status: http.StatusBadRequest, Header: "Connection"}, check: checkConnection},
	{Rule: Rule{Name: "sec-websocket-key-once", Section: "11.3.1", Status: http.StatusBadRequest, Header: "Sec-WebSocket-Key", once: true},
		check: func(_ *Policy, r *http.Request) string {
			// §11.3.1: "The |Sec-WebSocket-Key| header field MUST NOT
			// appear more than once in an HTTP request."
			if n := len(r.Header.Values("Sec-WebSocket-Key")); n > 1 {
				return fmt.Sprintf("Sec-WebSocket-Key appears %d times; it must appear once", n)
			}
			return ""
		}},
	{Rule: Rule{Name: "sec-websocket-key", Section: "4.2.1", Status: http.StatusBadRequest, Header: "Sec-WebSocket-Key"}, check: checkKeyHeader},
	{Rule: Rule{Name: "sec-websocket-version-once", Section: "11.3.5", Status: http.StatusBadRequest, Header: "Sec-WebSocket-Version", once: true},
		extra: versionHeader, check: func(_ *Policy, r *http.Request) string {
			// §11.3.5: "The |Sec-WebSocket-Version| header field MUST NOT
			// appear more than once in an HTTP request."
			if n := len(r.Header.Values("Sec-WebSocket-Version")); n > 1 {
				return fmt.Sprintf("Sec-WebSocket-Version appears %d times; it must appear once, with the value 13", n)
			}
			return ""
		}},
	{Rule: Rule{Name: "sec-websocket-version", Section: "4.2.1", Status: http.StatusBadRequest, Header: "Sec-WebSocket-Version"},
		extra: versionHeader, check: func(_ *Policy, r *http.Request) string {
			// §4.2.1, item 6: "A |Sec-WebSocket-Version| header field, with a
			// value of 13." A request without one is not a WebSocket
			// handshake as §4.2.1 describes it: 400.
			if _, ok := firstValue(r.Header, "Sec-WebSocket-Version"); !ok {
				return "the request has no Sec-WebSocket-Version header; it must be 13"
			}
			return ""
		}},
	{Rule: Rule{Name: "sec-websocket-version-13", Section: "4.2.2", Status: http.StatusUpgradeRequired, Header: "Sec-WebSocket-Version"},
		extra: upgradeRequired, check: checkVersion13},
	{Rule: Rule{Name: "origin", Section: "4.2.2", Status: http.StatusForbidden, Header: "Origin"}, check: (*Policy).checkOrigin},
}

// checkMethod: §4.2.1, item 1: "An HTTP/1.1 or higher GET request".
func checkMethod(_ *Policy, r *http.Request) string {
	if r.Method != http.MethodGet {
		return fmt.Sprintf("method is %s; the opening handshake must be a GET request", r.Method)
	}
	return ""
}

// checkHTTPVersion: the same item, its version.
func checkHTTPVersion(_ *Policy, r *http.Request) string {
	if !r.ProtoAtLeast(1, 1) {
		return fmt.Sprintf("request is %s; the opening handshake needs HTTP/1.1 or later", r.Proto)
	}
	return ""
}

// checkHost: §4.2.1, item 2: "A |Host| header field containing the server's
// authority."
func checkHost(_ *Policy, r *http.Request) string {
	if r.Host == "" {
		return "the request has no Host header; it must name the server's authority"
	}
	return ""
}

// checkUpgrade: §4.2.1, item 3: "An |Upgrade| header field containing the
// value "websocket", treated as an ASCII case-insensitive value."
func checkUpgrade(_ *Policy, r *http.Request) string {
	return requireToken(r.Header, "Upgrade", "websocket", "the request has no Upgrade header; it must contain \"websocket\"")
}

// checkConnection: §4.2.1, item 4: "A |Connection| header field that
// includes the token "Upgrade", treated as an ASCII case-insensitive value."
func checkConnection(_ *Policy, r *http.Request) string {
	return requireToken(r.Header, "Connection", "Upgrade",
		"the request has no Connection header; it must contain the token \"Upgrade\" (proxies drop it unless told to pass it on: it is hop-by-hop)")
}

// requireToken says what is wrong when the list in header field name lacks
// token: missing if there is no such field, else what it holds.
func requireToken(h http.Header, name, token, missing string) string {
	switch {
	case hasToken(h, name, token):
		return ""
	case len(h.Values(name)) == 0:
		return missing
	}
	return fmt.Sprintf("%s is %q; it must contain the token %q", name, headerValue(h, name), token)
}

// checkKeyHeader: §4.2.1, item 5: "A |Sec-WebSocket-Key| header field with a
// base64-encoded … value that, when decoded, is 16 bytes in length" (see
// [CheckKey]).
func checkKeyHeader(_ *Policy, r *http.Request) string {
	key, ok := firstValue(r.Header, "Sec-WebSocket-Key")
	if !ok {
		return "the request has no Sec-WebSocket-Key header; it must carry 16 random bytes in base64"
	}
	if err := CheckKey(key); err != nil {
		return err.(*Error).Reason
	}
	return ""
}

// checkVersion13 is §4.2.2, /version/: if the version is not one the server
// understands, "the server MUST abort the WebSocket handshake … and instead
// send an appropriate HTTP error code (such as 426 Upgrade Required) and a
// |Sec-WebSocket-Version| header field indicating the version(s) the server
// is capable of understanding."
func checkVersion13(_ *Policy, r *http.Request) string {
	if v, ok := firstValue(r.Header, "Sec-WebSocket-Version"); ok && v != Version {
		return fmt.Sprintf("Sec-WebSocket-Version is %q; this server speaks only version 13", v)
	}
	return ""
}

// versionHeader is what every refusal about the version carries, so that
// the client learns what to send (§4.4).
func versionHeader() http.Header { return http.Header{"Sec-Websocket-Version": {Version}} }

// upgradeRequired is what a 426 carries: Sec-WebSocket-Version: 13, and
// Upgrade: websocket and Connection: Upgrade, because HTTP requires them:
// "The server MUST send an Upgrade header field in a 426 response to
// indicate the required protocol(s)" (RFC 9110 §15.5.22), and "A sender of
// Upgrade MUST also send an "Upgrade" connection option in the Connection
// header field" (RFC 9110 §7.8).
func upgradeRequired() http.Header {
	return http.Header{
		"Sec-Websocket-Version": {Version},
		"Upgrade":               {"websocket"},
		"Connection":            {"Upgrade"},
	}
}
