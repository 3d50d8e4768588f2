package framing

import (
	"bytes"
	"errors"
	"testing"
)

func TestParseClosePayload(t *testing.T) {
	for _, c := range []struct {
		name    string
		payload []byte
		code    CloseCode
		reason  string
		errCode CloseCode // 0: no error
	}{
		{"empty", nil, CloseNoStatus, "", 0},
		{"one byte", []byte{0x03}, CloseNoStatus, "", CloseProtocolError},
		{"1000", []byte{0x03, 0xe8}, CloseNormal, "", 0},
		{"1001 with reason", append([]byte{0x03, 0xe9}, "bye"...), CloseGoingAway, "bye", 0},
		{"1000 Chinese reason", append([]byte{0x03, 0xe8}, "再见"...), CloseNormal, "再见", 0},
		{"999", []byte{0x03, 0xe7}, 999, "", CloseProtocolError},
		{"1004 reserved", []byte{0x03, 0xec}, 1004, "", CloseProtocolError},
		{"1005 never sent", []byte{0x03, 0xed}, CloseNoStatus, "", CloseProtocolError},
		{"1006 never sent", []byte{0x03, 0xee}, CloseAbnormal, "", CloseProtocolError},
		{"1012 IANA", []byte{0x03, 0xf4}, CloseServiceRestart, "", 0},
		{"1014 IANA", []byte{0x03, 0xf6}, CloseBadGateway, "", 0},
		{"1015 never sent", []byte{0x03, 0xf7}, CloseTLSHandshake, "", CloseProtocolError},
		{"1016 unassigned", []byte{0x03, 0xf8}, 1016, "", CloseProtocolError},
		{"2999", []byte{0x0b, 0xb7}, 2999, "", CloseProtocolError},
		{"3000", []byte{0x0b, 0xb8}, 3000, "", 0},
		{"4999", []byte{0x13, 0x87}, 4999, "", 0},
		{"5000", []byte{0x13, 0x88}, 5000, "", CloseProtocolError},
		{"invalid UTF-8 reason", []byte{0x03, 0xe8, 0xff}, CloseNormal, "\xff", CloseInvalidPayload},
	} {
		code, reason, err := ParseClosePayload(c.payload)
		if code != c.code || reason != c.reason {
			t.Errorf("%s: got %v %q; want %v %q", c.name, code, reason, c.code, c.reason)
		}
		var pe *ProtocolError
		switch {
		case c.errCode == 0 && err != nil:
			t.Errorf("%s: unexpected error %v", c.name, err)
		case c.errCode != 0 && (!errors.As(err, &pe) || pe.Code != c.errCode):
			t.Errorf("%s: error %v; want code %d", c.name, err, c.errCode)
		}
		if err == nil {
			if got := AppendClosePayload(nil, code, reason); !bytes.Equal(got, c.payload) {
				t.Errorf("%s: AppendClosePayload = % x; want % x", c.name, got, c.payload)
			}
		}
	}
}

func TestCloseCodeString(t *testing.T) {
	for code, want := range map[CloseCode]string{
		1000: "1000 Normal Closure",
		1002: "1002 Protocol Error",
		1005: "1005 No Status Rcvd",
		1013: "1013 Try Again Later",
		999:  "999 not used",
		2000: "2000 unassigned (reserved for the protocol)",
		3001: "3001 registered (libraries, frameworks)",
		4000: "4000 private use",
		5000: "5000 out of range",
	} {
		if got := code.String(); got != want {
			t.Errorf("%d: %q; want %q", uint16(code), got, want)
		}
	}
}
