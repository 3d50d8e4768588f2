// Package ruletest is the table of byte streams that the tests of every
// reader of frames share: framing.Conn, framing.Annotate and AnnotateNext,
// and the lab's tap. Each stream either keeps every rule of RFC 6455 or
// breaks exactly one first, and says which; each reader must reach that
// verdict, so the rules cannot drift apart between them.
//
// Only rules decided by the bytes alone are here. RuleMessageTooBig
// depends on a reader's limit, which Annotate does not have; framing's
// TestFailCodes covers it.
package ruletest

import (
	"encoding/hex"
	"strings"

	"github.com/learnws/learnws/framing"
)

// Stream is one row of the table.
type Stream struct {
	Name string
	// Receiver is the role of the endpoint that reads the bytes.
	Receiver framing.Role
	// Bytes are frames one after the other, as they cross the wire.
	Bytes []byte
	// Rule is the first rule the stream breaks, 0 if none.
	Rule framing.Rule
	// Field is the field at fault, as framing.ProtocolError.Field names it.
	Field string
	// Frame is the index of the frame that breaks Rule.
	Frame int
}

// key is the masking key of RFC 6455 §5.7's examples.
var key = [4]byte{0x37, 0xfa, 0x21, 0x3d}

// unhex decodes hex with spaces and "|" between frames.
func unhex(s string) []byte {
	b, err := hex.DecodeString(strings.NewReplacer(" ", "", "|", "").Replace(s))
	if err != nil {
		panic(err)
	}
	return b
}

// masked is a frame as a client sends it, masked with the §5.7 key.
func masked(h framing.Header, payload []byte) []byte {
	h.Masked, h.MaskingKey = true, key
	return framing.AppendFrame(nil, h, payload)
}

func cat(frames ...[]byte) []byte {
	var b []byte
	for _, f := range frames {
		b = append(b, f...)
	}
	return b
}

// Streams returns the table: a few good streams first, then one row (or
// more) for each rule decided by the bytes, in the order of framing.Rules.
func Streams() []Stream {
	text := func(fin bool, p string) []byte {
		return masked(framing.Header{Fin: fin, Opcode: framing.OpText}, []byte(p))
	}
	cont := func(fin bool, p string) []byte {
		return masked(framing.Header{Fin: fin, Opcode: framing.OpContinuation}, []byte(p))
	}
	closeFrame := func(p string) []byte {
		return masked(framing.Header{Fin: true, Opcode: framing.OpClose}, []byte(p))
	}
	server, client := framing.RoleServer, framing.RoleClient
	return []Stream{
		// Good streams.
		{Name: "§5.7 masked Hello", Receiver: server, Bytes: unhex("81 85 37 fa 21 3d 7f 9f 4d 51 58")},
		{Name: "§5.7 unmasked Hello to a client", Receiver: client, Bytes: unhex("81 05 48 65 6c 6c 6f")},
		{Name: "§5.7 fragmented Hel+lo with a ping between", Receiver: client,
			Bytes: unhex("01 03 48 65 6c | 89 05 48 65 6c 6c 6f | 80 02 6c 6f")},
		{Name: "é cut in two by a fragment boundary", Receiver: server, Bytes: cat(text(false, "\xc3"), cont(true, "\xa9"))},
		{Name: "§5.7 masked pong, then a close 1000", Receiver: server,
			Bytes: cat(unhex("8a 85 37 fa 21 3d 7f 9f 4d 51 58"), closeFrame("\x03\xe8bye"))},
		{Name: "binary is not UTF-8 and needs not be", Receiver: server, Bytes: masked(framing.Header{Fin: true, Opcode: framing.OpBinary}, []byte{0xff, 0xfe})},

		// §5.2 reserved bits.
		{Name: "RSV1 set", Receiver: server, Bytes: unhex("c1 85 37 fa 21 3d 7f 9f 4d 51 58"), Rule: framing.RuleReservedBit, Field: "rsv1"},
		{Name: "RSV2 set", Receiver: server, Bytes: unhex("a1 85 37 fa 21 3d 7f 9f 4d 51 58"), Rule: framing.RuleReservedBit, Field: "rsv2"},
		{Name: "RSV3 set on the second frame", Receiver: server, Bytes: cat(text(true, "ok"), unhex("91 85 37 fa 21 3d 7f 9f 4d 51 58")),
			Rule: framing.RuleReservedBit, Field: "rsv3", Frame: 1},
		// §5.2 reserved opcodes.
		{Name: "opcode 0x3", Receiver: server, Bytes: unhex("83 85 37 fa 21 3d 7f 9f 4d 51 58"), Rule: framing.RuleReservedOpcode, Field: "opcode"},
		{Name: "opcode 0xB", Receiver: server, Bytes: unhex("8b 80 37 fa 21 3d"), Rule: framing.RuleReservedOpcode, Field: "opcode"},
		// §5.5 control frames.
		{Name: "ping without FIN", Receiver: server, Bytes: unhex("09 85 37 fa 21 3d 7f 9f 4d 51 58"), Rule: framing.RuleControlFragmented, Field: "fin"},
		{Name: "ping of 126 bytes", Receiver: server, Bytes: masked(framing.Header{Fin: true, Opcode: framing.OpPing}, make([]byte, 126)),
			Rule: framing.RuleControlTooLong, Field: "payload_length_ext_16"},
		// §5.1 masking.
		{Name: "§5.7 unmasked Hello to a server", Receiver: server, Bytes: unhex("81 05 48 65 6c 6c 6f"), Rule: framing.RuleClientFrameUnmasked, Field: "mask"},
		{Name: "§5.7 masked Hello to a client", Receiver: client, Bytes: unhex("81 85 37 fa 21 3d 7f 9f 4d 51 58"), Rule: framing.RuleServerFrameMasked, Field: "mask"},
		// §5.2 the 64-bit length.
		{Name: "64-bit length 2^63", Receiver: server, Bytes: unhex("82 ff 80 00 00 00 00 00 00 00 37 fa 21 3d"),
			Rule: framing.RuleLengthMSB, Field: "payload_length_ext_64"},
		// §5.4 fragmentation.
		{Name: "§5.7 last fragment alone", Receiver: client, Bytes: unhex("80 02 6c 6f"), Rule: framing.RuleContinuationWithoutMessage, Field: "opcode"},
		{Name: "continuation after a whole message", Receiver: server, Bytes: cat(text(true, "Hel"), cont(true, "lo")),
			Rule: framing.RuleContinuationWithoutMessage, Field: "opcode", Frame: 1},
		{Name: "text inside a fragmented text message", Receiver: server, Bytes: cat(text(false, "Hel"), text(true, "lo")),
			Rule: framing.RuleMessageInterleaved, Field: "opcode", Frame: 1},
		{Name: "binary inside a fragmented text message, after a ping", Receiver: server,
			Bytes: cat(text(false, "Hel"), masked(framing.Header{Fin: true, Opcode: framing.OpPing}, nil), masked(framing.Header{Fin: true, Opcode: framing.OpBinary}, nil)),
			Rule:  framing.RuleMessageInterleaved, Field: "opcode", Frame: 2},
		// §8.1 UTF-8.
		{Name: "0xFF in text", Receiver: server, Bytes: text(true, "Hi\xff"), Rule: framing.RuleInvalidUTF8, Field: "masked_payload"},
		{Name: "bad continuation byte in the next fragment", Receiver: server, Bytes: cat(text(false, "\xc3"), cont(true, "(")),
			Rule: framing.RuleInvalidUTF8, Field: "masked_payload", Frame: 1},
		{Name: "above U+10FFFF: fails at once, FIN or not", Receiver: client, Bytes: unhex("01 02 f4 90"),
			Rule: framing.RuleInvalidUTF8, Field: "payload"},
		{Name: "text ends inside 中", Receiver: server, Bytes: text(true, "\xe4\xb8"), Rule: framing.RuleUTF8Incomplete, Field: "masked_payload"},
		{Name: "fragmented text ends inside 中", Receiver: server, Bytes: cat(text(false, "\xe4"), cont(true, "\xb8")),
			Rule: framing.RuleUTF8Incomplete, Field: "masked_payload", Frame: 1},
		// §5.5.1 and §7.4 close frames.
		{Name: "close payload of 1 byte", Receiver: server, Bytes: closeFrame("\x03"), Rule: framing.RuleCloseOneByte, Field: "masked_payload"},
		{Name: "close code 1005 on the wire", Receiver: server, Bytes: closeFrame("\x03\xed"), Rule: framing.RuleCloseCodeNotAllowed, Field: "close.status_code"},
		{Name: "close code 999", Receiver: client, Bytes: unhex("88 02 03 e7"), Rule: framing.RuleCloseCodeNotAllowed, Field: "close.status_code"},
		{Name: "close reason not UTF-8", Receiver: server, Bytes: closeFrame("\x03\xe8\xff"), Rule: framing.RuleCloseReasonUTF8, Field: "close.reason"},
	}
}
