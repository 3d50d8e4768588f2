package lab

import (
	"bytes"
	"strconv"
)

// hiddenFields are the request header fields whose values the lab never shows,
// lower-case. They carry credentials: the owner's cookies for this host (HttpOnly
// ones too, which the owner's own page cannot even read, and cookies of any other
// local app on the same host name), passwords and tokens. A lab session's events go
// to every spectator and to /api/lab/events/ID, so the lab shows that such a field
// is present and how long its value is, never the value.
var hiddenFields = []string{"cookie", "authorization", "proxy-authorization"}

func isHidden(name []byte) bool {
	for _, h := range hiddenFields {
		if len(name) == len(h) && bytes.EqualFold(name, []byte(h)) {
			return true
		}
	}
	return false
}

// hiddenValue is what the lab shows in place of a hidden value of n bytes.
func hiddenValue(n int) string { return "<hidden: " + strconv.Itoa(n) + " bytes>" }

// redactRequest returns a copy of a raw request head in which the value of every
// hidden field is replaced with hiddenValue, and hidden maps the offset of each
// hidden line in the copy to its value's length. A folded continuation line (one
// that starts with a space or a tab) belongs to the field above it, so it goes with
// it. Everything else is kept byte for byte, line endings included.
func redactRequest(raw []byte) (out []byte, hidden map[int]int) {
	var lines [][]byte // each with its line ending, up to the blank line that ends the head
	rest := raw
	for len(rest) > 0 {
		n := bytes.IndexByte(rest, '\n') + 1
		if n == 0 {
			n = len(rest)
		}
		lines = append(lines, rest[:n])
		rest = rest[n:]
		// As handshake.AnnotateRequest reads a head: the first line is the
		// request line, whatever it holds; a later empty line ends the head.
		if len(lines) > 1 && len(bytes.TrimRight(lines[len(lines)-1], "\r\n")) == 0 {
			break
		}
	}
	folded := func(line []byte) bool { return len(line) > 0 && (line[0] == ' ' || line[0] == '\t') }
	out = make([]byte, 0, len(raw))
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		body := bytes.TrimRight(line, "\r\n")
		colon := bytes.IndexByte(body, ':')
		if i == 0 || colon < 0 || !isHidden(body[:colon]) {
			out = append(out, line...)
			continue
		}
		value := bytes.TrimLeft(body[colon+1:], " \t")
		lead := body[:len(body)-len(value)] // the name, the colon and the spaces after it
		n := len(bytes.TrimRight(value, " \t"))
		for i+1 < len(lines) && folded(lines[i+1]) {
			i++
			n += len(bytes.TrimRight(lines[i], "\r\n"))
		}
		if hidden == nil {
			hidden = make(map[int]int)
		}
		hidden[len(out)] = n
		out = append(out, lead...)
		out = append(out, hiddenValue(n)...)
		out = append(out, line[len(body):]...)
	}
	return append(out, rest...), hidden
}

// labHandshakeJSON is handshakeJSON for what the lab publishes: a request has its
// hidden fields redacted before anything (raw text, hex, line annotations) is made
// from it, and those lines carry the hidden value's length.
func labHandshakeJSON(raw []byte, exact, request bool) *HandshakeJSON {
	if !request {
		return handshakeJSON(raw, exact, false)
	}
	red, hidden := redactRequest(raw)
	h := handshakeJSON(red, exact, true)
	for i := range h.Lines {
		if n, ok := hidden[h.Lines[i].Offset]; ok {
			h.Lines[i].Hidden = n
		}
	}
	return h
}
