package framing

import (
	"encoding/binary"
	"fmt"
	"unicode/utf8"
)

// CloseCode is the status code at the start of a close frame's payload
// (RFC 6455 §5.5.1, §7.4): a 2-byte unsigned integer in network byte order
// saying why the endpoint is closing.
type CloseCode uint16

// Status codes defined by RFC 6455 §7.4.1, plus 1012–1014, which IANA
// registered later (WebSocket Close Code Number Registry).
const (
	CloseNormal             CloseCode = 1000 // the purpose of the connection is fulfilled
	CloseGoingAway          CloseCode = 1001 // server going down, or browser navigating away
	CloseProtocolError      CloseCode = 1002 // the peer broke the protocol
	CloseUnsupportedData    CloseCode = 1003 // a data type this endpoint cannot accept
	CloseNoStatus           CloseCode = 1005 // never sent: "no status code was actually present"
	CloseAbnormal           CloseCode = 1006 // never sent: the connection closed without a close frame
	CloseInvalidPayload     CloseCode = 1007 // data inconsistent with the message type (e.g. bad UTF-8)
	ClosePolicyViolation    CloseCode = 1008 // a message violates the endpoint's policy
	CloseMessageTooBig      CloseCode = 1009 // a message too big to process
	CloseMandatoryExtension CloseCode = 1010 // client: the server did not negotiate an extension it needs
	CloseInternalError      CloseCode = 1011 // server: an unexpected condition
	CloseServiceRestart     CloseCode = 1012 // IANA: the service is restarting
	CloseTryAgainLater      CloseCode = 1013 // IANA: temporary condition, try again later
	CloseBadGateway         CloseCode = 1014 // IANA: a gateway got an invalid response upstream
	CloseTLSHandshake       CloseCode = 1015 // never sent: the TLS handshake failed
)

// closeNames are the names in the IANA registry (the ones Wireshark shows).
var closeNames = map[CloseCode]string{
	1000: "Normal Closure",
	1001: "Going Away",
	1002: "Protocol Error",
	1003: "Unsupported Data",
	1004: "Reserved",
	1005: "No Status Rcvd",
	1006: "Abnormal Closure",
	1007: "Invalid Frame Payload Data",
	1008: "Policy Violation",
	1009: "Message Too Big",
	1010: "Mandatory Extension",
	1011: "Internal Error",
	1012: "Service Restart",
	1013: "Try Again Later",
	1014: "Bad Gateway",
	1015: "TLS Handshake",
}

// String returns the code and its name, for example "1000 Normal Closure",
// "3000 registered (libraries, frameworks)", "4000 private use" or
// "999 not used".
func (c CloseCode) String() string {
	if n, ok := closeNames[c]; ok {
		return fmt.Sprintf("%d %s", uint16(c), n)
	}
	var n string
	switch {
	case c < 1000:
		n = "not used" // §7.4.2: "Status codes in the range 0-999 are not used."
	case c < 3000:
		n = "unassigned (reserved for the protocol)"
	case c < 4000:
		n = "registered (libraries, frameworks)"
	case c < 5000:
		n = "private use"
	default:
		n = "out of range"
	}
	return fmt.Sprintf("%d %s", uint16(c), n)
}

// ValidOnWire reports whether c may appear in a close frame.
//
//   - 1000–1003 and 1007–1011 are defined by RFC 6455 §7.4.1.
//   - 1012–1014 were registered with IANA after the RFC; we accept them
//     (browsers and servers send 1012 and 1013), as gorilla/websocket does.
//   - 1004 is reserved, and 1005, 1006 and 1015 "MUST NOT be set as a status
//     code in a Close control frame by an endpoint" (§7.4.1): they only
//     describe, locally, what happened.
//   - 3000–3999 are registered by libraries and frameworks, 4000–4999 are for
//     private use (§7.4.2).
//   - Everything else (0–999, 1016–2999, 5000+) is invalid.
func (c CloseCode) ValidOnWire() bool {
	switch {
	case c >= 1000 && c <= 1003, c >= 1007 && c <= 1014:
		return true
	case c >= 3000 && c <= 4999:
		return true
	}
	return false
}

// ParseClosePayload splits the payload of a close frame (RFC 6455 §5.5.1)
// into its status code and reason.
//
// An empty payload gives [CloseNoStatus] and no error. A 1-byte payload
// ([RuleCloseOneByte]) or a code that is not [CloseCode.ValidOnWire]
// ([RuleCloseCodeNotAllowed]) is a *ProtocolError with code 1002; a reason
// that is not valid UTF-8 ([RuleCloseReasonUTF8]) is a *ProtocolError with
// code 1007 (§8.1). The code and reason are returned even when err is not
// nil, so they can be shown.
func ParseClosePayload(p []byte) (code CloseCode, reason string, err error) {
	if len(p) == 0 {
		return CloseNoStatus, "", nil
	}
	// §5.5.1: "If there is a body, the first two bytes of the body MUST be a
	// 2-byte unsigned integer (in network byte order) representing a status
	// code with value /code/ defined in Section 7.4."
	if len(p) == 1 {
		return CloseNoStatus, "", violation(RuleCloseOneByte, "payload")
	}
	code = CloseCode(binary.BigEndian.Uint16(p))
	reason = string(p[2:])
	// §7.4.1: 1005, 1006 and 1015 "MUST NOT be set as a status code in a
	// Close control frame by an endpoint"; the other codes outside
	// ValidOnWire are reserved or unassigned (§7.4.2).
	if !code.ValidOnWire() {
		return code, reason, violation(RuleCloseCodeNotAllowed, "close.status_code", code.String())
	}
	// §5.5.1: "Following the 2-byte integer, the body MAY contain UTF-8-encoded
	// data with value /reason/"; §8.1: an endpoint that finds a byte stream is
	// not valid UTF-8 "MUST _Fail the WebSocket Connection_".
	if !utf8.ValidString(reason) {
		return code, reason, violation(RuleCloseReasonUTF8, "close.reason")
	}
	return code, reason, nil
}

// AppendClosePayload appends the body of a close frame: code as 2 bytes in
// network byte order, then reason. For [CloseNoStatus] with an empty reason
// it appends nothing (the empty body that means "no status code").
//
// It does not check code or reason, so a lesson can build an illegal close
// frame on purpose; use [CloseCode.ValidOnWire] and keep the whole payload
// within 125 bytes (§5.5: control frames), so reason within 123 bytes.
func AppendClosePayload(dst []byte, code CloseCode, reason string) []byte {
	if code == CloseNoStatus && reason == "" {
		return dst
	}
	dst = binary.BigEndian.AppendUint16(dst, uint16(code))
	return append(dst, reason...)
}
