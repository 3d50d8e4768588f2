package handshake

import (
	"bufio"
	"errors"
	"net/http"
	"strings"
	"testing"
)

func asError(err error, e **Error) bool { return errors.As(err, e) }

// checkCoverage verifies the invariant of Line: in order, no gaps, no
// overlaps, every byte covered.
func checkCoverage(t *testing.T, name string, raw []byte, lines []Line) {
	t.Helper()
	off := 0
	for i, l := range lines {
		if l.Offset != off || l.Length <= 0 {
			t.Errorf("%s: line %d at %d+%d, want offset %d and a positive length", name, i, l.Offset, l.Length, off)
			return
		}
		off += l.Length
	}
	if off != len(raw) {
		t.Errorf("%s: lines cover %d of %d bytes", name, off, len(raw))
	}
}

func TestAnnotateRequestRFC(t *testing.T) {
	raw := []byte(rfcRequestBytes)
	lines := AnnotateRequest(raw)
	checkCoverage(t, "RFC request", raw, lines)
	for _, l := range lines {
		if l.Note == "" || l.Problem != "" {
			t.Errorf("line %q: note %q, problem %q", raw[l.Offset:l.Offset+l.Length], l.Note, l.Problem)
		}
	}
	key := lines[4]
	if key.Name != "Sec-WebSocket-Key" || key.Value != "dGhlIHNhbXBsZSBub25jZQ==" || key.Offset != 87 || key.Length != 45 ||
		!strings.Contains(key.Note, "decodes to 16 bytes") {
		t.Errorf("key line = %+v", key)
	}
	if string(raw[key.Offset:key.Offset+key.Length]) != "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" {
		t.Errorf("key line bytes = %q", raw[key.Offset:key.Offset+key.Length])
	}
}

func TestAnnotateRequestProblems(t *testing.T) {
	raw := "POST /chat HTTP/1.1\n" + // bare LF
		"Host: s\r\n" +
		"Upgrade: h2c\r\n" +
		"Connection: keep-alive\r\n" +
		"Sec-WebSocket-Key: AAAAAAAAAAAAAAAA\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
		"Sec-WebSocket-Version: 8\r\n" +
		"X-Custom: 1\r\n" +
		"\r\n"
	lines := AnnotateRequest([]byte(raw))
	checkCoverage(t, "bad request", []byte(raw), lines)
	want := []struct{ kind, problem string }{
		{KindRequestLine, "method is POST"},
		{"host", ""},
		{"upgrade", `Upgrade is "h2c"`},
		{"connection", `Connection is "keep-alive"`},
		{"sec-websocket-key", "decodes to 12 bytes; it must be 16"},
		{"sec-websocket-key", "appears 2 times"},
		{"sec-websocket-version", `Sec-WebSocket-Version is "8"`},
		{KindHeader, ""},
		{KindEnd, ""},
	}
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d: %+v", len(lines), len(want), lines)
	}
	for i, w := range want {
		l := lines[i]
		if l.Kind != w.kind || (w.problem == "") != (l.Problem == "") || !strings.Contains(l.Problem, w.problem) {
			t.Errorf("line %d: kind %q problem %q; want %q, %q", i, l.Kind, l.Problem, w.kind, w.problem)
		}
	}
	bare := AnnotateRequest([]byte("GET / HTTP/1.1\nHost: a\n\n"))
	if !strings.Contains(bare[0].Problem, "LF alone") || !strings.Contains(bare[1].Problem, "LF alone") {
		t.Errorf("bare LF not flagged: %+v", bare)
	}
	// Missing header fields are the blank line's problems, every one of them,
	// as Policy.Respond would name them one after the other.
	missing := AnnotateRequest([]byte("GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\n\r\n"))
	end := missing[len(missing)-1]
	for _, want := range []string{"no Upgrade header", "no Sec-WebSocket-Key header", "no Sec-WebSocket-Version header"} {
		if end.Kind != KindEnd || !strings.Contains(end.Problem, want) {
			t.Errorf("blank line: %q; want %q in it", end.Problem, want)
		}
	}
	// A token list split over two lines is one list, as for Respond: no
	// problem on either line.
	split := AnnotateRequest([]byte(strings.Replace(rfcRequestBytes, "Upgrade: websocket\r\n", "Upgrade: h2c\r\nUpgrade: websocket\r\n", 1)))
	for _, l := range split {
		if l.Problem != "" {
			t.Errorf("line %q: %s", l.Value, l.Problem)
		}
	}
}

const rfcResponseBytes = "HTTP/1.1 101 Switching Protocols\r\n" +
	"Upgrade: websocket\r\n" +
	"Connection: Upgrade\r\n" +
	"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" +
	"Sec-WebSocket-Protocol: chat\r\n" +
	"\r\n"

func TestAnnotateResponse(t *testing.T) {
	raw := []byte(rfcResponseBytes + "\x81\x05Hello")
	lines := AnnotateResponse(raw)
	checkCoverage(t, "RFC response", raw, lines)
	kinds := []string{KindStatusLine, "upgrade", "connection", "sec-websocket-accept", "sec-websocket-protocol", KindEnd, KindData}
	if len(lines) != len(kinds) {
		t.Fatalf("lines = %+v", lines)
	}
	for i, k := range kinds {
		if lines[i].Kind != k || lines[i].Problem != "" || lines[i].Note == "" {
			t.Errorf("line %d = %+v, want kind %q, a note, no problem", i, lines[i], k)
		}
	}
	if !strings.Contains(lines[4].Note, "chose") {
		t.Errorf("response Sec-WebSocket-Protocol note is the request's: %q", lines[4].Note)
	}

	// A refusal is an HTTP answer: its status is the one problem (§4.1).
	refusal := "HTTP/1.1 400 Bad Request\r\nSec-WebSocket-Accept: b37a4f2cc0624f1690f64606cf385945b2bec4ea\r\n\r\nhandshake: nope\n"
	lines = AnnotateResponse([]byte(refusal))
	checkCoverage(t, "refusal", []byte(refusal), lines)
	for i, want := range []string{`answered "HTTP/1.1 400 Bad Request", not 101`, "", "", ""} {
		if !strings.Contains(lines[i].Problem, want) || (want == "") != (lines[i].Problem == "") {
			t.Errorf("refusal line %d problem %q, want %q", i, lines[i].Problem, want)
		}
	}
	// A 101 that breaks the client's rules: each problem on its line, a
	// missing header's on the blank line, a repeat's on the repeat.
	bad := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket, h2c\r\n" +
		"Sec-WebSocket-Accept: b37a4f2cc0624f1690f64606cf385945b2bec4ea\r\nSec-WebSocket-Protocol: \r\n" +
		"Sec-WebSocket-Protocol: chat\r\n\r\n"
	lines = AnnotateResponse([]byte(bad))
	checkCoverage(t, "bad response", []byte(bad), lines)
	for i, want := range []string{"", `Upgrade is "websocket, h2c"; it must be "websocket"`, "not the base64 of 20 bytes", "is empty",
		"appears 2 times", "no Connection header"} {
		if !strings.Contains(lines[i].Problem, want) || (want == "") != (lines[i].Problem == "") {
			t.Errorf("line %d problem %q, want %q", i, lines[i].Problem, want)
		}
	}
	for _, raw := range []string{"", "HTTP/1.1\r\n\r\n", "HTTP/1.1 abc OK\r\n\r\n", "\r", "garbage"} {
		checkCoverage(t, raw, []byte(raw), AnnotateResponse([]byte(raw)))
	}
}

// Every HTTP version below 1.1 is a problem on the request line, as it is for
// Policy.Respond (§4.2.1 item 1: "An HTTP/1.1 or higher GET request"); a
// version that is not one at all is flagged too.
func TestAnnotateRequestVersion(t *testing.T) {
	for _, tc := range []struct {
		version string
		problem string // "" = no problem
	}{
		{"HTTP/1.1", ""},
		{"HTTP/1.2", ""},
		{"HTTP/2.0", ""},
		{"HTTP/1.0", "needs HTTP/1.1 or later"},
		{"HTTP/0.9", "needs HTTP/1.1 or later"},
		{"HTTP/0.8", "needs HTTP/1.1 or later"},
		{"HTTP/0.0", "needs HTTP/1.1 or later"},
		{"HTTP/x", "is not an HTTP version"},
		{"HTTP/1", "is not an HTTP version"},
		{"HTTP/1.x", "is not an HTTP version"},
		{"http/1.1", "is not an HTTP version"},
	} {
		t.Run(tc.version, func(t *testing.T) {
			raw := "GET /chat " + tc.version + "\r\nHost: s\r\n\r\n"
			lines := AnnotateRequest([]byte(raw))
			checkCoverage(t, tc.version, []byte(raw), lines)
			l := lines[0]
			if l.Kind != KindRequestLine {
				t.Fatalf("first line kind %q, want %q", l.Kind, KindRequestLine)
			}
			if (tc.problem == "") != (l.Problem == "") || !strings.Contains(l.Problem, tc.problem) {
				t.Errorf("problem %q, want one containing %q", l.Problem, tc.problem)
			}
			// The same request through Policy.Respond: refused exactly when flagged.
			req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
			if err != nil {
				if tc.problem == "" {
					t.Fatalf("net/http cannot read it: %v", err)
				}
				return // net/http refuses it before any policy runs
			}
			_, rerr := (&Policy{}).Respond(req)
			var e *Error
			refusedForVersion := asError(rerr, &e) && strings.Contains(e.Reason, "HTTP/1.1 or later")
			if refusedForVersion != (tc.problem != "") {
				t.Errorf("Policy.Respond = %v; annotation problem %q", rerr, l.Problem)
			}
		})
	}
}
