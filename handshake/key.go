package handshake

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// NonceSize is the length of the client's nonce before base64: RFC 6455
// §4.1, item 7: "The value of this header field MUST be a nonce consisting of
// a randomly selected 16-byte value that has been base64-encoded".
const NonceSize = 16

// NewKey returns a fresh Sec-WebSocket-Key: 16 bytes read from rand, base64
// encoded (24 characters ending in "=="). A nil rand means crypto/rand.
//
// RFC 6455 §4.1, item 7: "The nonce MUST be selected randomly for each
// connection." Tests and lessons pass a fixed reader to get a known key.
func NewKey(rand io.Reader) (string, error) {
	if rand == nil {
		rand = cryptoRand
	}
	var nonce [NonceSize]byte
	if _, err := io.ReadFull(rand, nonce[:]); err != nil {
		return "", fmt.Errorf("handshake: reading 16 random bytes for Sec-WebSocket-Key: %w", err)
	}
	return base64.StdEncoding.EncodeToString(nonce[:]), nil
}

var cryptoRand io.Reader = rand.Reader

// CheckKey reports whether key is a valid Sec-WebSocket-Key: standard base64
// (RFC 4648 §4) that decodes to exactly 16 bytes. The error is an [*Error]
// with status 400, for example
//
//	handshake: Sec-WebSocket-Key decodes to 12 bytes; it must be 16
//
// RFC 6455 §4.2.1, item 5: "A |Sec-WebSocket-Key| header field with a
// base64-encoded … value that, when decoded, is 16 bytes in length."
//
// Like most servers, CheckKey does not insist that the unused low bits of the
// last character be zero: the RFC's own example key in §4.1,
// "AQIDBAUGBwgJCgsMDQ4PEC==", has them set, and it still decodes to the 16
// bytes 0x01 … 0x10.
func CheckKey(key string) error {
	b, err := decodeKey(key)
	if err != nil {
		return err
	}
	if len(b) != NonceSize {
		return keyError("Sec-WebSocket-Key decodes to %d bytes; it must be %d", len(b), NonceSize)
	}
	return nil
}

// decodeKey decodes key as standard base64. Go's decoder silently skips CR
// and LF, so every character is checked against the alphabet first; this
// also lets the error point at the offending character.
func decodeKey(key string) ([]byte, *Error) {
	if key == "" {
		return nil, keyError("Sec-WebSocket-Key is empty; it must be 16 random bytes in base64 (24 characters)")
	}
	pad := len(key) - len(strings.TrimRight(key, "="))
	for i := 0; i < len(key)-pad; i++ {
		c := key[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '+', c == '/':
			continue
		case c == '-' || c == '_':
			return nil, keyError("Sec-WebSocket-Key has %q at position %d: that is the URL-safe base64 alphabet; the key must use the standard one, with + and /", c, i)
		default:
			return nil, keyError("Sec-WebSocket-Key has %q at position %d, which is not a base64 character (A-Z, a-z, 0-9, +, /)", c, i)
		}
	}
	if len(key)%4 != 0 {
		return nil, keyError("Sec-WebSocket-Key is %d characters long; base64 comes in groups of 4, and a 16-byte nonce is 24 characters ending in ==", len(key))
	}
	b, err := base64.StdEncoding.DecodeString(key)
	if err != nil {
		return nil, keyError("Sec-WebSocket-Key %q is not valid base64 (%v)", key, err)
	}
	return b, nil
}

func keyError(format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Header: "Sec-WebSocket-Key", Section: "4.2.1", Rule: "sec-websocket-key", Reason: fmt.Sprintf(format, args...)}
}
