package handshake

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/iotest"
)

func TestCheckKey(t *testing.T) {
	tests := []struct {
		key    string
		reason string // substring of the error; "" = valid
	}{
		{"dGhlIHNhbXBsZSBub25jZQ==", ""},
		// The RFC's own example in §4.1 has non-zero unused bits (the
		// canonical encoding ends in "EA=="); it still decodes to 16 bytes.
		{"AQIDBAUGBwgJCgsMDQ4PEC==", ""},
		{"AQIDBAUGBwgJCgsMDQ4PEA==", ""},
		{"", "is empty"},
		{"dGhlIHNhbXBsZSBub25j", "decodes to 15 bytes; it must be 16"},
		{"dGhlIHNhbXBsZSBub24=", "decodes to 14 bytes; it must be 16"},
		{"AAAAAAAAAAAAAAAA", "decodes to 12 bytes; it must be 16"},
		{"AAAAAAAAAAAAAAAAAAAAAAAAAAAA", "decodes to 21 bytes; it must be 16"},
		{"dGhlIHNhbXBsZSBub25jZQ", "is 22 characters long"},
		{"dGhlIHNhbXBsZSBub25jZQ=", "is 23 characters long"},
		{"dGhlIHNhbXBsZSBub25jZQ===", "is 25 characters long"},
		{"dGhlIHNhbXBsZSBub25j====", "not valid base64"},
		{"dGhl-HNhbXBsZSBub25jZQ==", "URL-safe"},
		{"dGhl_HNhbXBsZSBub25jZQ==", "URL-safe"},
		{"dGhl IHNhbXBsZSBub25jZQ==", `' ' at position 4`},
		{"dGhlIHNhbXBs\r\nZSBub25jZQ==", `'\r' at position 12`},
		{"dGhlIHNh=XBsZSBub25jZQ==", `'=' at position 8`},
		{"the sample nonce", `' ' at position 3`},
	}
	for _, tt := range tests {
		err := CheckKey(tt.key)
		if tt.reason == "" {
			if err != nil {
				t.Errorf("CheckKey(%q) = %v, want nil", tt.key, err)
			}
			continue
		}
		var herr *Error
		if !errors.As(err, &herr) {
			t.Errorf("CheckKey(%q) = %v, want *Error containing %q", tt.key, err, tt.reason)
			continue
		}
		if !strings.Contains(err.Error(), tt.reason) || !strings.HasPrefix(err.Error(), "handshake: ") ||
			herr.Status != http.StatusBadRequest || herr.Header != "Sec-WebSocket-Key" {
			t.Errorf("CheckKey(%q) = %v (%+v), want 400 on Sec-WebSocket-Key containing %q", tt.key, err, herr, tt.reason)
		}
	}
}

func TestCheckKeyMessage(t *testing.T) {
	err := CheckKey("AAAAAAAAAAAAAAAA")
	if want := "handshake: Sec-WebSocket-Key decodes to 12 bytes; it must be 16"; err == nil || err.Error() != want {
		t.Errorf("got %v, want %q", err, want)
	}
}

func TestNewKey(t *testing.T) {
	// "the sample nonce" is the 16 bytes behind the RFC's example key.
	key, err := NewKey(strings.NewReader("the sample nonce and more"))
	if err != nil || key != "dGhlIHNhbXBsZSBub25jZQ==" {
		t.Errorf("NewKey = %q, %v; want the RFC's key", key, err)
	}
	// A reader that hands out one byte at a time still gives 16 bytes.
	key, err = NewKey(iotest.OneByteReader(bytes.NewReader(bytes.Repeat([]byte{1}, 16))))
	if err != nil || key != "AQEBAQEBAQEBAQEBAQEBAQ==" {
		t.Errorf("NewKey(one byte reader) = %q, %v", key, err)
	}
	if _, err := NewKey(strings.NewReader("short")); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("NewKey(short reader) error = %v, want io.ErrUnexpectedEOF", err)
	}
	a, err1 := NewKey(nil)
	b, err2 := NewKey(nil)
	if err1 != nil || err2 != nil || a == b || CheckKey(a) != nil || CheckKey(b) != nil {
		t.Errorf("NewKey(nil) twice = %q, %q (%v, %v): want two different valid keys", a, b, err1, err2)
	}
}
