package handshake

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
)

// Mistake is a wrong way to compute Sec-WebSocket-Accept, with the value it
// produces for a given key.
type Mistake struct {
	Name        string // stable identifier, e.g. "decoded-key"
	Description string // what the server did wrong and what it should do
	Accept      string // the wrong value this mistake produces
}

// CommonMistakes returns, for key, the Accept values that the usual wrong
// implementations produce, each different from the correct Accept(key). For
// the RFC's key "dGhlIHNhbXBsZSBub25jZQ==" the first one, hashing the decoded
// bytes, gives "BXhwxM0SZasKmCD9S4BfpPmCnEw=" instead of
// "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=".
func CommonMistakes(key string) []Mistake {
	b64 := func(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
	sha := func(s string) []byte { sum := sha1.Sum([]byte(s)); return sum[:] }
	right := sha(key + GUID)
	var ms []Mistake
	add := func(name, desc, accept string) {
		if accept == Accept(key) {
			return // for this key the mistake happens to give the right answer
		}
		for _, m := range ms {
			if m.Accept == accept {
				return
			}
		}
		ms = append(ms, Mistake{name, desc, accept})
	}
	if nonce, err := decodeKey(key); err == nil {
		add("decoded-key", "it hashes the key's base64-decoded bytes; the key must be hashed as the string that was sent (RFC 6455 §4.1: \"as a string, not base64-decoded\")",
			b64(sha(string(nonce)+GUID)))
	}
	hexDigest := hex.EncodeToString(right)
	add("base64-of-hex", "it base64-encodes the hex text of the SHA-1 hash; base64 must encode the 20 hash bytes themselves", b64([]byte(hexDigest)))
	add("hex-digest", "it sends the SHA-1 hash in hex; the value must be the base64 of the 20 hash bytes", hexDigest)
	add("hex-digest-upper", "it sends the SHA-1 hash in upper-case hex; the value must be the base64 of the 20 hash bytes", strings.ToUpper(hexDigest))
	add("no-guid", "it hashes the key alone; the GUID "+GUID+" must be appended before hashing", b64(sha(key)))
	add("guid-first", "it hashes the GUID followed by the key; the key comes first", b64(sha(GUID+key)))
	add("lowercase-guid", "it appends the GUID in lower case; the GUID is hashed exactly as the RFC writes it, in upper case", b64(sha(key+strings.ToLower(GUID))))
	add("trailing-space", "it hashes the key with a space after it; leading and trailing whitespace of the header value is not part of the key", b64(sha(key+" "+GUID)))
	add("leading-space", "it hashes the key with the space after the colon; leading and trailing whitespace of the header value is not part of the key", b64(sha(" "+key+GUID)))
	add("trailing-cr", "it hashes the key with the CR of the line ending; the key ends before CR LF", b64(sha(key+"\r"+GUID)))
	if t := strings.Trim(key, " \t"); t != key {
		add("trimmed-key", "it hashes the key without the whitespace around it, but the key was sent with that whitespace", Accept(t))
	}
	s256 := sha256.Sum256([]byte(key + GUID))
	add("sha256", "it uses SHA-256; the handshake uses SHA-1", b64(s256[:]))
	add("url-base64", "it uses the URL-safe base64 alphabet (- and _); the handshake uses the standard one (+ and /)", base64.URLEncoding.EncodeToString(right))
	add("no-padding", "it leaves out the = padding; the value must be padded base64", base64.RawStdEncoding.EncodeToString(right))
	add("echoed-key", "it sends the key back unchanged; it must send base64(SHA-1(key + GUID))", key)
	return ms
}

// ExplainAccept returns "" if seen is the right Sec-WebSocket-Accept for key
// (ignoring leading and trailing whitespace, as RFC 6455 §4.1 allows), and
// otherwise a sentence saying what is wrong: which of [CommonMistakes] it is,
// or, if none, that the server probably hashed another key.
//
//	Sec-WebSocket-Accept is "BXhwxM0SZasKmCD9S4BfpPmCnEw="; for key "dGhlIHNhbXBsZSBub25jZQ==" it must be "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=": it hashes the key's base64-decoded bytes; …
func ExplainAccept(key, seen string) string {
	want := Accept(key)
	got := strings.Trim(seen, " \t")
	if got == want {
		return ""
	}
	prefix := fmt.Sprintf("Sec-WebSocket-Accept is %q; for key %q it must be %q", seen, key, want)
	if got == "" {
		return prefix + ": the value is empty"
	}
	for _, m := range CommonMistakes(key) {
		if got == m.Accept {
			return prefix + ": " + m.Description
		}
	}
	return prefix + ": it matches no common mistake, so the server probably hashed a different key (a proxy that rewrites Sec-WebSocket-Key, or an answer to another request)"
}
