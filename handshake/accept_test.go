package handshake

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"testing"
)

// acceptVectors are keys and the Accept values published for them
// (/work/shared/REFERENCES.md lists where each appears).
var acceptVectors = []struct {
	name, key, accept string
}{
	{"RFC 6455 §1.3", "dGhlIHNhbXBsZSBub25jZQ==", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="},
	{"michaldziuba03/websockets README", "x3JJHMbDL1EzLkh9GBhXDw==", "HSmrc0sMlYUkAGmm5OPpG2HaGWk="},
	{"javascript.info", "Iv8io/9s+lYFgZWcXczP8Q==", "hsBlbuDTkk24srzEOTBUlZAlC2g="},
	{"PortSwigger Academy", "wDqumtseNBJdhkihL6PW7w==", "0FFP+2nmNIf/h+4BP36k9uzrYGk="},
	{"arduinoWebSockets#604, the correct value", "RCYYiihv1c5j+qglR6C5oA==", "5WQdLwdYf0ahB70uBxPU8tJ9lxE="},
}

func TestAcceptVectors(t *testing.T) {
	for _, v := range acceptVectors {
		if got := Accept(v.key); got != v.accept {
			t.Errorf("%s: Accept(%q) = %q, want %q", v.name, v.key, got, v.accept)
		}
		if err := CheckKey(v.key); err != nil {
			t.Errorf("%s: CheckKey(%q) = %v, want nil", v.name, v.key, err)
		}
	}
}

// The server in arduinoWebSockets issue 604 sent a different value: a client
// must refuse it.
func TestAcceptMismatchArduino604(t *testing.T) {
	const key, seen = "RCYYiihv1c5j+qglR6C5oA==", "QEFMhxzLTip8aJkbmocIGNEeOB8="
	if Accept(key) == seen {
		t.Fatalf("Accept(%q) = the value the faulty server sent", key)
	}
	if ExplainAccept(key, seen) == "" {
		t.Fatalf("ExplainAccept accepts %q for %q", seen, key)
	}
}

// TestDeriveRFC follows the NOTE of RFC 6455 §4.2.2 step by step.
func TestDeriveRFC(t *testing.T) {
	d := Derive("dGhlIHNhbXBsZSBub25jZQ==")
	if string(d.KeyBytes) != "the sample nonce" {
		t.Errorf("KeyBytes = %q, want %q", d.KeyBytes, "the sample nonce")
	}
	if d.GUID != GUID || d.Concatenated != "dGhlIHNhbXBsZSBub25jZQ==258EAFA5-E914-47DA-95CA-C5AB0DC85B11" {
		t.Errorf("GUID %q, Concatenated %q", d.GUID, d.Concatenated)
	}
	// "giving the value 0xb3 0x7a 0x4f 0x2c 0xc0 0x62 0x4f 0x16 0x90 0xf6
	// 0x46 0x06 0xcf 0x38 0x59 0x45 0xb2 0xbe 0xc4 0xea"
	want, _ := hex.DecodeString("b37a4f2cc0624f1690f64606cf385945b2bec4ea")
	if !bytes.Equal(d.SHA1[:], want) {
		t.Errorf("SHA1 = %x, want %x", d.SHA1, want)
	}
	if d.Accept != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" || d.Accept != base64.StdEncoding.EncodeToString(want) {
		t.Errorf("Accept = %q", d.Accept)
	}
}

func TestDeriveBadKeys(t *testing.T) {
	for _, key := range []string{"", "not base64!", "dGhl IHNh", "AAAA"} {
		d := Derive(key)
		if d.Accept != Accept(key) || d.Concatenated != key+GUID {
			t.Errorf("Derive(%q) = %+v, inconsistent with Accept", key, d)
		}
	}
	if d := Derive("not base64!"); d.KeyBytes != nil {
		t.Errorf("KeyBytes for invalid base64 = %q, want nil", d.KeyBytes)
	}
	if d := Derive("AAAA"); len(d.KeyBytes) != 3 {
		t.Errorf("KeyBytes for AAAA = %x, want 3 zero bytes", d.KeyBytes)
	}
}
