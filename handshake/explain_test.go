package handshake

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"
)

// TestCommonMistakesRFCKey checks every mistake CommonMistakes claims for
// the RFC's key twice: against a literal value (so the lesson can quote it)
// and against the mistake computed here, independently of explain.go.
func TestCommonMistakesRFCKey(t *testing.T) {
	const key = "dGhlIHNhbXBsZSBub25jZQ=="
	b64 := base64.StdEncoding.EncodeToString
	sha := func(s string) []byte { h := sha1.New(); h.Write([]byte(s)); return h.Sum(nil) }
	s256 := sha256.Sum256([]byte(key + GUID))
	right := sha(key + GUID)
	tests := []struct {
		name, literal, computed, explains string
	}{
		{"decoded-key", "BXhwxM0SZasKmCD9S4BfpPmCnEw=", b64(sha("the sample nonce" + GUID)), "base64-decoded bytes"},
		{"base64-of-hex", "YjM3YTRmMmNjMDYyNGYxNjkwZjY0NjA2Y2YzODU5NDViMmJlYzRlYQ==", b64([]byte("b37a4f2cc0624f1690f64606cf385945b2bec4ea")), "hex text"},
		{"hex-digest", "b37a4f2cc0624f1690f64606cf385945b2bec4ea", hex.EncodeToString(right), "in hex"},
		{"hex-digest-upper", "B37A4F2CC0624F1690F64606CF385945B2BEC4EA", strings.ToUpper(hex.EncodeToString(right)), "upper-case hex"},
		{"no-guid", "hHLtf2V1k8aDQZfNjw3Ia1hCwt0=", b64(sha(key)), "key alone"},
		{"guid-first", "2OZf2Seed9yzIpkj+zvC9KS9Mjw=", b64(sha(GUID + key)), "GUID followed by the key"},
		{"lowercase-guid", "WJfwerbIozKsJXHxxI0JTO1SQgU=", b64(sha(key + "258eafa5-e914-47da-95ca-c5ab0dc85b11")), "lower case"},
		{"trailing-space", "xytUlkF2rVz2XzwONMCug9nn1qA=", b64(sha(key + " " + GUID)), "space after it"},
		{"leading-space", "", b64(sha(" " + key + GUID)), "space after the colon"},
		{"trailing-cr", "", b64(sha(key + "\r" + GUID)), "CR"},
		{"sha256", "", b64(s256[:]), "SHA-256"},
		{"url-base64", "s3pPLMBiTxaQ9kYGzzhZRbK-xOo=", base64.URLEncoding.EncodeToString(right), "URL-safe"},
		{"no-padding", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo", base64.RawStdEncoding.EncodeToString(right), "padding"},
		{"echoed-key", key, key, "back unchanged"},
	}
	byName := map[string]Mistake{}
	for _, m := range CommonMistakes(key) {
		byName[m.Name] = m
	}
	if len(byName) != len(tests) {
		t.Errorf("CommonMistakes gives %d mistakes, this test verifies %d", len(byName), len(tests))
	}
	for _, tt := range tests {
		m, ok := byName[tt.name]
		if !ok {
			t.Errorf("%s: missing from CommonMistakes", tt.name)
			continue
		}
		if m.Accept != tt.computed || (tt.literal != "" && m.Accept != tt.literal) {
			t.Errorf("%s: CommonMistakes says %q; computed here %q, literal %q", tt.name, m.Accept, tt.computed, tt.literal)
		}
		why := ExplainAccept(key, m.Accept)
		if !strings.Contains(why, tt.explains) || !strings.Contains(why, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") {
			t.Errorf("%s: ExplainAccept = %q, want it to mention %q and the right value", tt.name, why, tt.explains)
		}
	}
}

func TestExplainAccept(t *testing.T) {
	const key = "dGhlIHNhbXBsZSBub25jZQ=="
	tests := []struct{ key, seen, want string }{
		{key, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", ""},
		{key, "  s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\t", ""}, // §4.1: "ignoring any leading and trailing whitespace"
		{key, "", "the value is empty"},
		{key, "BXhwxM0SZasKmCD9S4BfpPmCnEw=", "hashes the key's base64-decoded bytes"},
		{key, "S3PPLMBITXAQ9KYGZZHZRBK+XOO=", "matches no common mistake"},
		{"RCYYiihv1c5j+qglR6C5oA==", "QEFMhxzLTip8aJkbmocIGNEeOB8=", "matches no common mistake"},
		{"RCYYiihv1c5j+qglR6C5oA==", "5WQdLwdYf0ahB70uBxPU8tJ9lxE=", ""},
		{" " + key, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", "without the whitespace around it"},
	}
	for _, tt := range tests {
		got := ExplainAccept(tt.key, tt.seen)
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("ExplainAccept(%q, %q) = %q, want %q", tt.key, tt.seen, got, tt.want)
		}
	}
}

// A mistake that gives the right answer for some key is not listed: a key
// without + or / in its Accept has no URL-safe variant.
func TestCommonMistakesNeverRight(t *testing.T) {
	for _, v := range acceptVectors {
		for _, m := range CommonMistakes(v.key) {
			if m.Accept == v.accept {
				t.Errorf("%s: mistake %s gives the right value", v.key, m.Name)
			}
		}
	}
	for _, m := range CommonMistakes("x3JJHMbDL1EzLkh9GBhXDw==") { // Accept HSmrc0sMlYUkAGmm5OPpG2HaGWk=
		if m.Name == "url-base64" {
			t.Errorf("url-base64 listed for an Accept without + or /")
		}
	}
}
