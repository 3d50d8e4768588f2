package lab

import (
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

// ParseHex's formats and error messages are tested in internal/pastedhex.

func TestDecodeRFCFrames(t *testing.T) {
	for in, check := range map[string]func(*DecodeJSON) bool{
		"810548656c6c6f": func(d *DecodeJSON) bool {
			return len(d.Frames) == 1 && *d.Frames[0].Text == "Hello" && !d.Frames[0].Masked
		},
		"818537fa213d7f9f4d5158": func(d *DecodeJSON) bool { return *d.Frames[0].Text == "Hello" && d.Frames[0].MaskingKey == "37fa213d" },
		"010348656c80026c6f":     func(d *DecodeJSON) bool { return len(d.Frames) == 2 && *d.Frames[1].Text == "lo" && d.Error == "" },
		"8a8537fa213d7f9f4d5158": func(d *DecodeJSON) bool { return d.Frames[0].OpcodeName == "pong" },
		"8802" + "03e8":          func(d *DecodeJSON) bool { return *d.Frames[0].CloseCode == 1000 },
		"817e01":                 func(d *DecodeJSON) bool { return len(d.Frames) == 0 && d.Partial != nil && d.Error != "" },
		"8305":                   func(d *DecodeJSON) bool { return d.Partial != nil || len(d.Frames) == 0 },
		"830548656c6c6f":         func(d *DecodeJSON) bool { return len(d.Frames[0].Problems) > 0 && d.Error != "" },
		"827e0100" + zeros(256):  func(d *DecodeJSON) bool { return d.Frames[0].LengthBytes == 2 && d.Frames[0].PayloadLength == 256 },
	} {
		b, _ := hex.DecodeString(in)
		d := Decode(b)
		if !check(d) {
			t.Errorf("%s: %+v", in[:min(len(in), 30)], d)
		}
		// Every byte is covered by a field of a frame, or is in Rest.
		covered := make([]bool, len(b))
		for _, f := range append(d.Frames, derefFrames(d.Partial)...) {
			for _, fl := range f.Fields {
				for i := fl.Offset; i < fl.Offset+fl.Length; i++ {
					covered[i] = true
				}
			}
		}
		for i, c := range covered {
			if !c && d.Partial == nil && d.Rest == "" {
				t.Errorf("%s: byte %d unexplained", in[:min(len(in), 30)], i)
			}
		}
	}
}

func derefFrames(f *FrameJSON) []FrameJSON {
	if f == nil {
		return nil
	}
	return []FrameJSON{*f}
}

func zeros(n int) string { return strings.Repeat("00", n) }

func TestBuild(t *testing.T) {
	code := 1000
	for _, c := range []struct {
		in   BuildRequest
		want string
	}{
		{BuildRequest{Fin: true, Opcode: 1, Mask: true, MaskingKey: "37fa213d", Payload: "Hello"}, "818537fa213d7f9f4d5158"},
		{BuildRequest{Fin: true, Opcode: 1, Payload: "Hello"}, "810548656c6c6f"},
		{BuildRequest{Fin: true, Opcode: 1, Payload: "Hello", LengthForm: 2}, "817e000548656c6c6f"},
		{BuildRequest{Fin: true, Opcode: 1, Payload: "Hello", LengthForm: 8}, "817f000000000000000548656c6c6f"},
		{BuildRequest{Fin: true, Opcode: 8, CloseCode: &code, Payload: "bye"}, "880503e8627965"},
		{BuildRequest{Opcode: 2, Payload: "ff 00", PayloadHex: true}, "0202ff00"},
	} {
		b, err := Build(c.in)
		if err != nil || hex.EncodeToString(b) != c.want {
			t.Errorf("%+v: %x %v, want %s", c.in, b, err, c.want)
		}
	}
	if _, err := Build(BuildRequest{Opcode: 16}); err == nil {
		t.Error("opcode 16 accepted")
	}
}

func TestCheckHandshake(t *testing.T) {
	req := "GET /ws HTTP/1.1\nHost: 192.168.4.1:81\nUpgrade: websocket\nConnection: Upgrade\nSec-WebSocket-Key: RCYYiihv1c5j+qglR6C5oA==\nSec-WebSocket-Version: 13\n"
	res := "HTTP/1.1 101 Switching Protocols\nUpgrade: websocket\nConnection: Upgrade\nSec-WebSocket-Accept: QEFMhxzLTip8aJkbmocIGNEeOB8=\n"
	c := Check(CheckRequest{Request: req, Response: res})
	f := finding(c, "accept")
	if f == nil || f.Key != "check.accept_bad" || f.Args[1] != "5WQdLwdYf0ahB70uBxPU8tJ9lxE=" {
		t.Fatalf("accept finding %+v", f)
	}
	// The RFC's example: right Accept, legal subprotocol.
	rfcReq := "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://example.com\r\nSec-WebSocket-Protocol: chat, superchat\r\nSec-WebSocket-Version: 13\r\n\r\n"
	rfcRes := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\n\r\n"
	c = Check(CheckRequest{Request: rfcReq, Response: rfcRes})
	if f := finding(c, "accept"); f.Key != "check.accept_ok" {
		t.Errorf("rfc accept: %+v", f)
	}
	if f := finding(c, "subprotocol"); f.Key != "check.proto_ok" {
		t.Errorf("rfc subprotocol: %+v", f)
	}
	// Decoded-key mistake, foreign subprotocol, and a cross-site Origin with cookies.
	bad := strings.Replace(rfcRes, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", "BXhwxM0SZasKmCD9S4BfpPmCnEw=", 1)
	bad = strings.Replace(bad, "Protocol: chat", "Protocol: mqtt", 1)
	evil := strings.Replace(rfcReq, "Origin: http://example.com", "Origin: https://attacker.example\r\nCookie: s=1", 1)
	c = Check(CheckRequest{Request: evil, Response: bad})
	if f := finding(c, "accept"); f.Args[2] != "decoded-key" {
		t.Errorf("decoded-key mistake: %+v", f)
	}
	if f := finding(c, "subprotocol"); f.Key != "check.proto_foreign" {
		t.Errorf("foreign subprotocol: %+v", f)
	}
	if f := finding(c, "origin"); f.Key != "check.origin_cswsh" {
		t.Errorf("origin: %+v", f)
	}
}

func finding(c *CheckJSON, topic string) *Finding {
	for i := range c.Findings {
		if c.Findings[i].Topic == topic {
			return &c.Findings[i]
		}
	}
	return nil
}

// FuzzDecodePasted: whatever is pasted, the decoder answers with every byte
// read (on a hex error, the bytes before it, as ServeDecode does) and never
// panics. ParseHex's own promises are fuzzed in internal/pastedhex.
func FuzzDecodePasted(f *testing.F) {
	for _, s := range []string{"81 85 37 fa", "00000000: 8185 37fa  ..7.", "0x81,0x85", `\x81`, "0000  81 85  |..|\n00000002", "/* c */ 0x81", "zz", "8"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := ParseHex(s)
		var he *HexError
		if err != nil && !errors.As(err, &he) {
			t.Fatalf("%q: %v is not a *HexError", s, err)
		}
		if d := Decode(b); d.Hex != hex.EncodeToString(b) {
			t.Fatal("decode lost bytes")
		}
	})
}

// The checker judges Origin by the server's own rule (handshake.Policy's
// same-host default), default ports included: Host example.com:443 and
// Origin https://example.com are the same site, so a server that accepts
// them is not open to cross-site WebSocket hijacking.
func TestCheckOriginDefaultPort(t *testing.T) {
	res := "HTTP/1.1 101 Switching Protocols\nUpgrade: websocket\nConnection: Upgrade\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\n"
	for _, c := range []struct{ host, origin, key string }{
		{"example.com:443", "https://example.com", "check.origin_same"},
		{"example.com", "https://example.com:443", "check.origin_same"},
		{"example.com:80", "http://example.com", "check.origin_same"},
		{"example.com:443", "http://example.com", "check.origin_cswsh"}, // 443 is not http's default
		{"example.com:8443", "https://example.com", "check.origin_cswsh"},
		{"example.com", "null", "check.origin_cswsh"},
	} {
		req := "GET /ws HTTP/1.1\nHost: " + c.host + "\nUpgrade: websocket\nConnection: Upgrade\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\nSec-WebSocket-Version: 13\nOrigin: " + c.origin + "\nCookie: session=1\n"
		f := finding(Check(CheckRequest{Request: req, Response: res}), "origin")
		if f == nil || f.Key != c.key {
			t.Errorf("Host %s, Origin %s: %+v; want %s", c.host, c.origin, f, c.key)
		}
	}
}

// The checker's subprotocol findings follow the client's rules
// (handshake.ClientRules) for the offer the request made.
func TestCheckSubprotocol(t *testing.T) {
	for _, c := range []struct{ offer, answer, key string }{
		{"", "", "check.proto_none"},
		{"chat, superchat", "", "check.proto_declined"},
		{"chat, superchat", "Sec-WebSocket-Protocol: superchat\n", "check.proto_ok"},
		{"", "Sec-WebSocket-Protocol: chat\n", "check.proto_unoffered"},
		{"chat, superchat", "Sec-WebSocket-Protocol: chat, superchat\n", "check.proto_many"},
		{"chat, superchat", "Sec-WebSocket-Protocol: chat\nSec-WebSocket-Protocol: superchat\n", "check.proto_many"},
		{"chat, superchat", "Sec-WebSocket-Protocol: mqtt\n", "check.proto_foreign"},
		{"chat", "Sec-WebSocket-Protocol: Chat\n", "check.proto_foreign"}, // subprotocols are compared exactly
	} {
		req := "GET /chat HTTP/1.1\nHost: server.example.com\nUpgrade: websocket\nConnection: Upgrade\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\nSec-WebSocket-Version: 13\n"
		if c.offer != "" {
			req += "Sec-WebSocket-Protocol: " + c.offer + "\n"
		}
		res := "HTTP/1.1 101 Switching Protocols\nUpgrade: websocket\nConnection: Upgrade\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\n" + c.answer
		f := finding(Check(CheckRequest{Request: req, Response: res}), "subprotocol")
		if f == nil || f.Key != c.key {
			t.Errorf("offer %q, answer %q: %+v; want %s", c.offer, c.answer, f, c.key)
		}
	}
	// Two Accept lines: the client must fail the connection (§11.3.3).
	res := "HTTP/1.1 101 Switching Protocols\nUpgrade: websocket\nConnection: Upgrade\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\n"
	req := "GET /chat HTTP/1.1\nHost: s\nUpgrade: websocket\nConnection: Upgrade\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\nSec-WebSocket-Version: 13\n"
	if f := finding(Check(CheckRequest{Request: req, Response: res}), "accept"); f == nil || f.Key != "check.accept_bad" || !strings.Contains(f.Text, "appears 2 times") {
		t.Errorf("two Accepts: %+v", f)
	}
}
