package framing

import (
	"fmt"
	"strconv"
)

// MaxControlPayload is the largest payload a control frame may carry
// (§5.5).
const MaxControlPayload = 125

// Check lists every rule of RFC 6455 §5 that h breaks, for an endpoint
// playing the role receiver, at the point of the conversation that s holds
// (nil means a connection's first frame). It returns nil for a good header.
// Each broken rule is one *ProtocolError, in this order: reserved bits
// ([RuleReservedBit]), a reserved opcode, a fragmented or too long control
// frame, the masking rule of receiver's role, a 64-bit length with its most
// significant bit set, and the fragmentation rules (§5.4) that s decides.
//
// Check does not change s: [MessageState.StartFrame] does, once the caller
// has decided what to do about the problems. The rules about the payload
// (UTF-8, close frames, size limits) need its bytes or a limit, and are
// applied by [MessageState.Payload], [ParseClosePayload] and [Conn].
//
// A non-minimal length encoding breaks a MUST for the sender, but receivers
// accept it; it is not listed here (see [Header.MinimalLength]).
func (h Header) Check(receiver Role, s *MessageState) []*ProtocolError {
	if s == nil {
		s = &MessageState{}
	}
	var errs []*ProtocolError
	add := func(r Rule, field string, args ...string) {
		errs = append(errs, violation(r, field, args...))
	}
	for i, set := range [3]bool{h.Rsv1, h.Rsv2, h.Rsv3} {
		bit := byte(0x40) >> i
		// §5.2: RSV1, RSV2, RSV3 "MUST be 0 unless an extension is
		// negotiated that defines meanings for non-zero values. If a nonzero
		// value is received and none of the negotiated extensions defines
		// the meaning of such a nonzero value, the receiving endpoint MUST
		// _Fail the WebSocket Connection_."
		if set && s.rsvDefined&bit == 0 {
			add(RuleReservedBit, fmt.Sprintf("rsv%d", i+1), fmt.Sprintf("RSV%d", i+1))
		}
	}
	// §5.2: "If an unknown opcode is received, the receiving endpoint MUST
	// _Fail the WebSocket Connection_."
	if h.Opcode.IsReserved() {
		add(RuleReservedOpcode, "opcode", fmt.Sprintf("0x%X", byte(h.Opcode)))
	}
	if h.Opcode.IsControl() {
		// §5.5: "All control frames MUST have a payload length of 125 bytes
		// or less and MUST NOT be fragmented."
		if !h.Fin {
			add(RuleControlFragmented, "fin", h.Opcode.String())
		}
		if h.PayloadLength > MaxControlPayload {
			add(RuleControlTooLong, lengthField(h), h.Opcode.String(), strconv.FormatUint(h.PayloadLength, 10))
		}
	}
	switch {
	// §5.1: "The server MUST close the connection upon receiving a frame
	// that is not masked."
	case receiver == RoleServer && !h.Masked:
		add(RuleClientFrameUnmasked, "mask")
	// §5.1: "A client MUST close a connection if it detects a masked
	// frame."
	case receiver == RoleClient && h.Masked:
		add(RuleServerFrameMasked, "mask")
	}
	// §5.2, the 64-bit payload length: "the most significant bit MUST be 0".
	if h.PayloadLength>>63 != 0 {
		add(RuleLengthMSB, lengthField(h))
	}
	// §5.4: "A fragmented message consists of a single frame with the FIN
	// bit clear and an opcode other than 0, followed by zero or more frames
	// with the FIN bit clear and the opcode set to 0, and terminated by a
	// single frame with the FIN bit set and an opcode of 0." So a
	// continuation needs a message under way, …
	op, under := s.Message()
	if h.Opcode == OpContinuation && !under {
		add(RuleContinuationWithoutMessage, "opcode")
	}
	// … and "The fragments of one message MUST NOT be interleaved between
	// the fragments of another message unless an extension has been
	// negotiated that can interpret the interleaving."
	if h.Opcode.IsData() && under {
		add(RuleMessageInterleaved, "opcode", h.Opcode.String(), op.String())
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
