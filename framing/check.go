package framing

import "fmt"

// ProtocolError is one rule of RFC 6455 that a frame breaks, with the
// status code the receiver puts in its close frame when it must "_Fail the
// WebSocket Connection_" (§7.1.7): usually 1002 (protocol error), 1007 for
// invalid UTF-8, 1009 for a message too big.
type ProtocolError struct {
	Code   CloseCode
	Reason string
	// Field is the name of the wire field at fault, as in [Field.Name]
	// ("rsv1", "opcode", "mask", ...), or "" if no single field is.
	Field string
}

// Error returns "framing: " followed by the reason.
func (e *ProtocolError) Error() string { return "framing: " + e.Reason }

// MaxControlPayload is the largest payload a control frame may carry
// (§5.5).
const MaxControlPayload = 125

// Check lists every rule of RFC 6455 §5 that h breaks, for an endpoint
// playing the role receiver that has negotiated no extension. It returns nil
// for a good header. Each broken rule is one *ProtocolError, in this order:
//
//   - RSV1, RSV2, RSV3 (§5.2): "MUST be 0 unless an extension is negotiated
//     that defines meanings for non-zero values. If a nonzero value is
//     received and none of the negotiated extensions defines the meaning of
//     such a nonzero value, the receiving endpoint MUST _Fail the WebSocket
//     Connection_."
//   - Opcode (§5.2): "If an unknown opcode is received, the receiving
//     endpoint MUST _Fail the WebSocket Connection_."
//   - Control frames (§5.5): "All control frames MUST have a payload length
//     of 125 bytes or less and MUST NOT be fragmented."
//   - Masking (§5.1): "The server MUST close the connection upon receiving a
//     frame that is not masked." and "A client MUST close a connection if it
//     detects a masked frame."
//   - Length (§5.2): in the 64-bit form "the most significant bit MUST be 0".
//
// A non-minimal length encoding breaks a MUST for the sender, but receivers
// accept it; it is not listed here (see [Header.MinimalLength]).
func (h Header) Check(receiver Role) []*ProtocolError {
	var errs []*ProtocolError
	add := func(field, format string, args ...any) {
		errs = append(errs, &ProtocolError{Code: CloseProtocolError, Field: field, Reason: fmt.Sprintf(format, args...)})
	}
	if h.Rsv1 {
		add("rsv1", "RSV1 is set but no extension defines it")
	}
	if h.Rsv2 {
		add("rsv2", "RSV2 is set but no extension defines it")
	}
	if h.Rsv3 {
		add("rsv3", "RSV3 is set but no extension defines it")
	}
	if h.Opcode.IsReserved() {
		add("opcode", "opcode 0x%X is reserved", byte(h.Opcode))
	}
	if h.Opcode.IsControl() {
		if !h.Fin {
			add("fin", "control frame (%s) has FIN=0; control frames must not be fragmented", h.Opcode)
		}
		if h.PayloadLength > MaxControlPayload {
			add(lengthField(h), "control frame (%s) declares %d payload bytes; the limit is 125", h.Opcode, h.PayloadLength)
		}
	}
	switch {
	case receiver == RoleServer && !h.Masked:
		add("mask", "frame from a client is not masked; a client must mask every frame")
	case receiver == RoleClient && h.Masked:
		add("mask", "frame from a server is masked; a server must not mask frames")
	}
	if h.PayloadLength>>63 != 0 {
		add(lengthField(h), "64-bit payload length has its most significant bit set")
	}
	return errs
}

// lengthField names the field that holds h's payload length.
func lengthField(h Header) string {
	switch h.LengthBytes {
	case 2:
		return "payload_length_ext_16"
	case 8:
		return "payload_length_ext_64"
	}
	return "payload_length"
}
