package framing

import (
	"errors"
	"testing"
)

// TestCheck has one case per rule Header.Check enforces.
func TestCheck(t *testing.T) {
	key := [4]byte{1, 2, 3, 4}
	// A good client frame, seen by a server.
	good := Header{Fin: true, Opcode: OpText, Masked: true, MaskingKey: key, PayloadLength: 5}
	cases := []struct {
		name     string
		edit     func(h *Header)
		receiver Role
		fields   []string // the fields at fault, in order
		rules    []Rule   // the rules broken, in the same order
	}{
		{"good client frame", func(h *Header) {}, RoleServer, nil, nil},
		{"good server frame", func(h *Header) { h.Masked, h.MaskingKey = false, [4]byte{} }, RoleClient, nil, nil},
		{"RSV1 without extension", func(h *Header) { h.Rsv1 = true }, RoleServer, []string{"rsv1"}, []Rule{RuleReservedBit}},
		{"RSV2 without extension", func(h *Header) { h.Rsv2 = true }, RoleServer, []string{"rsv2"}, []Rule{RuleReservedBit}},
		{"RSV3 without extension", func(h *Header) { h.Rsv3 = true }, RoleServer, []string{"rsv3"}, []Rule{RuleReservedBit}},
		{"reserved data opcode", func(h *Header) { h.Opcode = 0x3 }, RoleServer, []string{"opcode"}, []Rule{RuleReservedOpcode}},
		{"reserved control opcode", func(h *Header) { h.Opcode = 0xB }, RoleServer, []string{"opcode"}, []Rule{RuleReservedOpcode}},
		{"control frame of 125 bytes", func(h *Header) { h.Opcode, h.PayloadLength = OpPing, 125 }, RoleServer, nil, nil},
		{"control frame of 126 bytes", func(h *Header) { h.Opcode, h.PayloadLength, h.LengthBytes = OpPing, 126, 2 }, RoleServer, []string{"payload_length_ext_16"}, []Rule{RuleControlTooLong}},
		{"fragmented control frame", func(h *Header) { h.Opcode, h.Fin = OpClose, false }, RoleServer, []string{"fin"}, []Rule{RuleControlFragmented}},
		{"fragmented data frame is fine", func(h *Header) { h.Fin = false }, RoleServer, nil, nil},
		{"unmasked frame to a server", func(h *Header) { h.Masked = false }, RoleServer, []string{"mask"}, []Rule{RuleClientFrameUnmasked}},
		{"masked frame to a client", func(h *Header) {}, RoleClient, []string{"mask"}, []Rule{RuleServerFrameMasked}},
		{"64-bit length with MSB set", func(h *Header) { h.Opcode, h.PayloadLength, h.LengthBytes = OpBinary, 1<<63, 8 }, RoleServer, []string{"payload_length_ext_64"}, []Rule{RuleLengthMSB}},
		{"everything at once", func(h *Header) {
			*h = Header{Rsv1: true, Rsv2: true, Rsv3: true, Opcode: 0xF, PayloadLength: 1<<63 | 1, LengthBytes: 8}
		}, RoleServer, []string{"rsv1", "rsv2", "rsv3", "opcode", "fin", "payload_length_ext_64", "mask", "payload_length_ext_64"},
			[]Rule{RuleReservedBit, RuleReservedBit, RuleReservedBit, RuleReservedOpcode, RuleControlFragmented, RuleControlTooLong, RuleClientFrameUnmasked, RuleLengthMSB}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := good
			c.edit(&h)
			errs := h.Check(c.receiver, nil)
			var fields []string
			for i, e := range errs {
				fields = append(fields, e.Field)
				if i < len(c.rules) && e.Rule != c.rules[i] {
					t.Errorf("fault %d is %v; want %v", i, e.Rule, c.rules[i])
				}
				if e.Code != CloseProtocolError {
					t.Errorf("%q has code %v; want 1002", e.Reason, e.Code)
				}
				var pe *ProtocolError
				if !errors.As(error(e), &pe) || e.Error() != "framing: "+e.Reason {
					t.Errorf("Error() = %q", e.Error())
				}
			}
			if len(fields) != len(c.fields) {
				t.Fatalf("Check = %v; want faults in %v", errs, c.fields)
			}
			for i := range fields {
				if fields[i] != c.fields[i] {
					t.Fatalf("Check = %v; want faults in %v", errs, c.fields)
				}
			}
		})
	}
}
