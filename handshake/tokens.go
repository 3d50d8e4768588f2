package handshake

import (
	"net/http"
	"strings"
)

// Upgrade, Connection, Sec-WebSocket-Protocol and Sec-WebSocket-Extensions
// carry comma-separated lists, and a list may also be split over several
// header lines: "Connection: keep-alive, Upgrade" (Firefox sends exactly
// that) means the same as two lines "Connection: keep-alive" and
// "Connection: Upgrade" (RFC 7230 §3.2.2). So a check must look at every
// element, never compare the whole value.

// headerList returns every element of every line of the header field name,
// trimmed of spaces and tabs, empty elements dropped, in order.
func headerList(h http.Header, name string) []string {
	var list []string
	for _, v := range h.Values(name) {
		for _, e := range strings.Split(v, ",") {
			if e = strings.Trim(e, " \t"); e != "" {
				list = append(list, e)
			}
		}
	}
	return list
}

// hasToken reports whether the list in header field name contains token,
// compared as ASCII case-insensitive (RFC 6455 §2.1: "ASCII case-insensitive"
// matches A-Z with a-z and nothing else).
func hasToken(h http.Header, name, token string) bool {
	for _, e := range headerList(h, name) {
		if asciiEqualFold(e, token) {
			return true
		}
	}
	return false
}

// headerValue joins every line of the header field name with ", ", the way a
// reader of the raw request would see it.
func headerValue(h http.Header, name string) string {
	return strings.Join(h.Values(name), ", ")
}

// isToken reports whether s is an HTTP token (RFC 7230 §3.2.6): one or more
// visible ASCII characters other than the separators.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`()<>@,;:\"/[]?={}`, c) >= 0 {
			return false
		}
	}
	return true
}

// asciiEqualFold compares a and b ignoring the case of A-Z only.
// strings.EqualFold is not the same thing: it folds Unicode, so it would take
// "webſocket" (with U+017F, LATIN SMALL LETTER LONG S) for "websocket".
func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if lower(a[i]) != lower(b[i]) {
			return false
		}
	}
	return true
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
