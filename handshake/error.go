package handshake

import "net/http"

// Error is a handshake that must be refused, and how.
//
// On the server it is returned by [Policy.Respond] and [Upgrade]: Status is
// the HTTP status to answer with and Extra the header fields that answer must
// carry. RFC 6455 §4.2.1: if the client's handshake does not match the
// description, "the server MUST stop processing the client's handshake and
// return an HTTP response with an appropriate error code (such as 400 Bad
// Request)".
//
// On the client it is returned by [CheckResponse] with Status 0: there is
// nothing to answer; the client MUST "_Fail the WebSocket Connection_" (§4.1).
type Error struct {
	Status  int         // HTTP status the server answers with: 400, 403, 405 or 426; 0 on the client side
	Header  string      // the header field that failed ("Sec-WebSocket-Key"), or "" for the request line or status line
	Reason  string      // what was expected and what was found, lower-case, without the "handshake: " prefix
	Section string      // the RFC 6455 section of the rule, e.g. "4.2.1"
	Rule    string      // the Name of the rule broken (see [ServerRules], [ClientRules]); "" for HTTP syntax
	Extra   http.Header // header fields the refusal must carry, e.g. Sec-WebSocket-Version: 13 with 426
}

// Error returns "handshake: " followed by the reason.
func (e *Error) Error() string { return "handshake: " + e.Reason }
