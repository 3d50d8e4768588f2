package framing

import (
	"fmt"
	"strings"
)

// Opcode is the 4-bit frame type in the low bits of a frame's first byte
// (RFC 6455 §5.2):
//
//	%x0 denotes a continuation frame
//	%x1 denotes a text frame
//	%x2 denotes a binary frame
//	%x3-7 are reserved for further non-control frames
//	%x8 denotes a connection close
//	%x9 denotes a ping
//	%xA denotes a pong
//	%xB-F are reserved for further control frames
//
// "If an unknown opcode is received, the receiving endpoint MUST _Fail the
// WebSocket Connection_." [Header.Check] reports reserved opcodes.
type Opcode byte

// The opcodes RFC 6455 defines.
const (
	OpContinuation Opcode = 0x0
	OpText         Opcode = 0x1
	OpBinary       Opcode = 0x2
	OpClose        Opcode = 0x8
	OpPing         Opcode = 0x9
	OpPong         Opcode = 0xA
)

// IsControl reports whether o is a control opcode. RFC 6455 §5.5: "Control
// frames are identified by opcodes where the most significant bit of the
// opcode is 1." That is 0x8 to 0xF, reserved ones included.
func (o Opcode) IsControl() bool { return o&0x8 != 0 }

// IsData reports whether o is a data opcode that starts a message (text or
// binary). Continuation frames carry data too but start nothing.
func (o Opcode) IsData() bool { return o == OpText || o == OpBinary }

// IsReserved reports whether o is one of the opcodes RFC 6455 §5.2 reserves
// for future use: 0x3–0x7 (non-control) and 0xB–0xF (control). Values above
// 0xF do not fit in 4 bits and count as reserved too.
func (o Opcode) IsReserved() bool {
	switch o {
	case OpContinuation, OpText, OpBinary, OpClose, OpPing, OpPong:
		return false
	}
	return true
}

var opcodeNames = [...]string{
	OpContinuation: "continuation",
	OpText:         "text",
	OpBinary:       "binary",
	OpClose:        "close",
	OpPing:         "ping",
	OpPong:         "pong",
}

// String returns the opcode's name: "continuation", "text", "binary",
// "close", "ping", "pong", or "reserved (0x3)" for a reserved value.
func (o Opcode) String() string {
	if !o.IsReserved() {
		return opcodeNames[o]
	}
	return fmt.Sprintf("reserved (0x%X)", byte(o))
}

// ParseOpcode returns the opcode named name (as [Opcode.String] spells it,
// case-insensitive). It does not accept reserved opcodes.
func ParseOpcode(name string) (Opcode, error) {
	for o, n := range opcodeNames {
		if n != "" && strings.EqualFold(n, name) {
			return Opcode(o), nil
		}
	}
	return 0, fmt.Errorf("framing: unknown opcode name %q (want text, binary, ping, pong, close or continuation)", name)
}
