package handshake

import (
	"crypto/sha1"
	"encoding/base64"
)

// GUID is the fixed string that RFC 6455 §1.3 appends to the client's key
// before hashing: "a Globally Unique Identifier (GUID, [RFC4122]) in string
// form". It is the same for every WebSocket server in the world; it exists
// only so that a server that does not understand WebSocket cannot produce the
// right answer by accident.
const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// Accept returns the Sec-WebSocket-Accept value for a Sec-WebSocket-Key: the
// base64 encoding of the SHA-1 hash of key + GUID.
//
// RFC 6455 §4.2.2, step 5.4: "The value of this header field is constructed
// by concatenating /key/ … with the string "258EAFA5-E914-47DA-95CA-C5AB0DC85B11",
// taking the SHA-1 hash of this concatenated value to obtain a 20-byte value
// and base64-encoding … this 20-byte hash."
//
// The key is used as the string the client sent, not as the 16 bytes it
// decodes to: "It is not necessary for the server to base64-decode the
// |Sec-WebSocket-Key| value" (§4.2.2), and the client compares against "the
// |Sec-WebSocket-Key| (as a string, not base64-decoded)" (§4.1).
func Accept(key string) string {
	sum := sha1.Sum([]byte(key + GUID))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// Derivation holds every intermediate value of the Accept computation, so
// that a page or a command can show each step.
type Derivation struct {
	Key          string   // the Sec-WebSocket-Key as sent
	KeyBytes     []byte   // the nonce the key decodes to; nil if the key is not valid base64
	GUID         string   // always GUID
	Concatenated string   // Key + GUID: the string that is hashed
	SHA1         [20]byte // SHA-1 of Concatenated
	Accept       string   // base64 of SHA1: the Sec-WebSocket-Accept value
}

// Derive computes the Accept value for key step by step. It works for any
// string, even one that is not a valid key, so that a page can show how a
// bad key is still hashed; use [CheckKey] to judge the key itself.
func Derive(key string) Derivation {
	d := Derivation{Key: key, GUID: GUID, Concatenated: key + GUID}
	if b, err := decodeKey(key); err == nil {
		d.KeyBytes = b
	}
	d.SHA1 = sha1.Sum([]byte(d.Concatenated))
	d.Accept = base64.StdEncoding.EncodeToString(d.SHA1[:])
	return d
}
