package handshake

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// Line is one line of a raw handshake: where it lies in the bytes and what it
// is for. Lines returned together cover every input byte exactly once, in
// order; Length includes the line ending.
type Line struct {
	Offset, Length int
	Name           string // the header field name as written, or "" for the first line, the blank line and trailing data
	Value          string // the header value trimmed of spaces; the whole line for the first line
	Note           string // what this line does in the handshake, in one or two sentences
	Kind           string // stable key for the note, for translations and styling (see below)
	Problem        string // what is wrong with this line, or "" (a reason like Error.Reason)
}

// Kinds of Line. Known header fields use their lower-case name as Kind
// ("sec-websocket-key"); any other header field is KindHeader.
const (
	KindRequestLine = "request-line" // GET /chat HTTP/1.1
	KindStatusLine  = "status-line"  // HTTP/1.1 101 Switching Protocols
	KindHeader      = "header"       // a header field the handshake does not use
	KindEnd         = "end"          // the blank line that ends the head
	KindData        = "data"         // bytes after the head: WebSocket frames
	KindMalformed   = "malformed"    // a line that is not HTTP
)

// AnnotateRequest explains every line of a client's opening handshake, for a
// page that shows each line's role beside the bytes. It never fails: lines it
// cannot read are marked with Kind "malformed" and a Problem.
func AnnotateRequest(raw []byte) []Line { return parseHead(raw, false).lines }

// AnnotateResponse explains every line of a server's opening handshake
// response, as [AnnotateRequest] does for the request. It cannot check
// Sec-WebSocket-Accept without the key; see [ExplainAccept] for that.
func AnnotateResponse(raw []byte) []Line { return parseHead(raw, true).lines }

// head is a request or response head split into lines.
type head struct {
	lines  []Line
	first  []string    // request: method, target, proto; response: proto, code, reason
	fields [][2]string // header fields in order: name as written, value
	rest   []byte      // after the blank line
	err    error       // the first problem that makes the head unreadable
}

// parseHead splits raw into lines and explains each one. Lines end at LF;
// the CR before it is part of the line ending (RFC 7230 §3: "HTTP-message =
// start-line *( header-field CRLF ) CRLF [ message-body ]").
func parseHead(raw []byte, response bool) *head {
	h := &head{}
	status := http.StatusBadRequest
	if response {
		status = 0
	}
	fail := func(l *Line, format string, args ...any) {
		l.Problem = fmt.Sprintf(format, args...)
		if h.err == nil {
			h.err = &Error{Status: status, Header: l.Name, Section: "4.1", Reason: l.Problem}
		}
	}
	seen := map[string]int{} // lower-case name → count so far
	off, complete := 0, false
	for off < len(raw) {
		n := bytes.IndexByte(raw[off:], '\n') + 1
		terminated := n > 0
		if !terminated {
			n = len(raw) - off
		}
		text := string(raw[off : off+n])
		text = strings.TrimSuffix(strings.TrimSuffix(text, "\n"), "\r")
		l := Line{Offset: off, Length: n}
		switch {
		case off == 0:
			h.first = parseFirstLine(&l, text, response, fail)
		case text == "" && terminated:
			l.Kind, l.Note = KindEnd, noteEnd(response)
			complete = true
		case !terminated:
			l.Kind, l.Value = KindMalformed, text
			l.Problem = "the bytes end in the middle of this line"
		case text[0] == ' ' || text[0] == '\t':
			l.Kind, l.Value = KindMalformed, text
			fail(&l, "line starts with whitespace: a folded header line, which HTTP no longer allows (RFC 7230 §3.2.4)")
		default:
			colon := strings.IndexByte(text, ':')
			if colon < 0 {
				l.Kind, l.Value = KindMalformed, text
				fail(&l, "line %q has no colon; a header line is \"Name: value\"", text)
				break
			}
			l.Name, l.Value = text[:colon], strings.Trim(text[colon+1:], " \t")
			if !isToken(l.Name) {
				l.Kind = KindMalformed
				if strings.TrimRight(l.Name, " \t") != l.Name {
					fail(&l, "header name %q is followed by whitespace before the colon, which HTTP forbids (RFC 7230 §3.2.4)", l.Name)
				} else {
					fail(&l, "header name %q is not an HTTP token", l.Name)
				}
				break
			}
			key := strings.ToLower(l.Name)
			seen[key]++
			h.fields = append(h.fields, [2]string{l.Name, l.Value})
			explainField(&l, key, seen[key], response)
		}
		if terminated && (n < 2 || raw[off+n-2] != '\r') && l.Problem == "" {
			l.Problem = "line ends in LF alone; HTTP ends lines with CR LF (most servers accept it)"
		}
		h.lines = append(h.lines, l)
		off += n
		if complete {
			break
		}
	}
	if complete {
		if off < len(raw) {
			h.rest = raw[off:]
			h.lines = append(h.lines, Line{Offset: off, Length: len(raw) - off, Kind: KindData,
				Note: "bytes after the blank line: the handshake is over, so these are WebSocket frames"})
		}
	} else if h.err == nil {
		what := "request"
		if response {
			what = "response"
		}
		h.err = &Error{Status: status, Section: "4.1", Reason: fmt.Sprintf("the %s ends after %d bytes, before the blank line (CR LF CR LF) that ends its head", what, len(raw))}
	}
	return h
}

func parseFirstLine(l *Line, text string, response bool, fail func(*Line, string, ...any)) []string {
	l.Value = text
	if response {
		l.Kind = KindStatusLine
		parts := strings.SplitN(text, " ", 3)
		if len(parts) < 2 || !strings.HasPrefix(parts[0], "HTTP/") || len(parts[1]) != 3 {
			fail(l, "status line %q is not \"HTTP/1.1 101 Switching Protocols\"", text)
			return nil
		}
		code, err := strconv.Atoi(parts[1])
		if err != nil {
			fail(l, "status code %q is not a number", parts[1])
			return nil
		}
		if code == http.StatusSwitchingProtocols {
			l.Note = "101 Switching Protocols: the server accepts; after this head, both sides speak WebSocket frames on this connection (RFC 6455 §4.2.2)."
		} else {
			l.Note = "not 101: the server refused the handshake, and this stays an HTTP response; the client must not speak WebSocket (RFC 6455 §4.1)."
			l.Problem = fmt.Sprintf("status is %d, not 101 Switching Protocols", code)
		}
		if len(parts) == 2 {
			parts = append(parts, "")
		}
		return parts
	}
	l.Kind = KindRequestLine
	l.Note = "method, resource name and HTTP version: a WebSocket handshake is a GET over HTTP/1.1 or later (RFC 6455 §4.1, item 2)."
	parts := strings.Split(text, " ")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" {
		fail(l, "request line %q is not \"METHOD target HTTP/1.1\"", text)
		return nil
	}
	major, minor, ok := http.ParseHTTPVersion(parts[2])
	if !ok {
		fail(l, "%q is not an HTTP version such as HTTP/1.1", parts[2])
		return nil
	}
	switch {
	case parts[0] != http.MethodGet:
		l.Problem = fmt.Sprintf("method is %s; the opening handshake must be a GET request", parts[0])
	case major < 1 || major == 1 && minor < 1: // as Policy.Respond: !r.ProtoAtLeast(1, 1)
		l.Problem = fmt.Sprintf("request is %s; the opening handshake needs HTTP/1.1 or later", parts[2])
	}
	return parts
}

func noteEnd(response bool) string {
	if response {
		return "blank line: the end of the response head; if the status was 101, the next byte is the first byte of a WebSocket frame."
	}
	return "blank line: the end of the request head; the client must now wait for the server's answer before sending frames (RFC 6455 §4.1)."
}

// explainField sets the Kind, Note and Problem of a header line. count is
// how many times this field has appeared so far, this line included.
func explainField(l *Line, key string, count int, response bool) {
	l.Kind = key
	note, known := fieldNotes[key]
	if response {
		if n, ok := responseNotes[key]; ok {
			note, known = n, true
		}
	}
	if !known {
		l.Kind = KindHeader
		note = "an ordinary HTTP header field; the WebSocket handshake ignores it (RFC 6455 §4.2.1, item 10)."
	}
	l.Note = note
	once := func(section string) {
		if count > 1 {
			l.Problem = fmt.Sprintf("%s appears %d times; it must appear once (RFC 6455 §%s)", l.Name, count, section)
		}
	}
	switch key {
	case "upgrade":
		if !hasToken(http.Header{"Upgrade": {l.Value}}, "Upgrade", "websocket") {
			l.Problem = fmt.Sprintf("Upgrade is %q; it must contain the token \"websocket\"", l.Value)
		}
	case "connection":
		if !hasToken(http.Header{"Connection": {l.Value}}, "Connection", "Upgrade") {
			l.Problem = fmt.Sprintf("Connection is %q; it must contain the token \"Upgrade\"", l.Value)
		}
	case "sec-websocket-key":
		if response {
			break
		}
		once("11.3.1")
		if err := CheckKey(l.Value); err != nil {
			l.Problem = err.(*Error).Reason
		} else if l.Problem == "" {
			l.Note += " This one decodes to 16 bytes, as it must."
		}
	case "sec-websocket-version":
		if response {
			break
		}
		once("11.3.5")
		if l.Value != Version && l.Problem == "" {
			l.Problem = fmt.Sprintf("Sec-WebSocket-Version is %q; RFC 6455 defines only 13", l.Value)
		}
	case "sec-websocket-accept":
		once("11.3.3")
		if b, err := base64.StdEncoding.DecodeString(l.Value); (err != nil || len(b) != 20) && l.Problem == "" {
			l.Problem = fmt.Sprintf("Sec-WebSocket-Accept %q is not the base64 of 20 bytes (a SHA-1 hash)", l.Value)
		}
	case "sec-websocket-protocol":
		if response {
			once("11.3.4")
			if l.Value == "" && l.Problem == "" {
				l.Problem = "Sec-WebSocket-Protocol is empty; a server that chooses no subprotocol must leave the header out"
			}
		}
	}
}

// fieldNotes explains the header fields of a request (and of a response,
// unless responseNotes says otherwise).
var fieldNotes = map[string]string{
	"host":                     "the server's authority: host, and port if not the default; required (RFC 6455 §4.1, item 4).",
	"upgrade":                  "asks to switch this connection from HTTP to another protocol, here websocket (RFC 6455 §4.1, item 5).",
	"connection":               "must list \"Upgrade\": the upgrade is for this hop's connection; proxies drop this hop-by-hop header unless told to pass it on (RFC 6455 §4.1, item 6).",
	"sec-websocket-key":        "16 random bytes in base64, new for every connection; the server proves it read this request by hashing the key into Sec-WebSocket-Accept (RFC 6455 §4.1, item 7).",
	"sec-websocket-version":    "the protocol version; 13 is the only one RFC 6455 defines (RFC 6455 §4.1, item 9).",
	"origin":                   "the origin of the page that opened the socket, sent by every browser; the server decides whether to accept it (RFC 6455 §4.1, item 8; §10.2).",
	"sec-websocket-protocol":   "subprotocols the client can speak, most preferred first; the server chooses at most one (RFC 6455 §4.1, item 10).",
	"sec-websocket-extensions": "extensions the client can use, e.g. permessage-deflate; the server may accept some (RFC 6455 §4.1, item 11; §9.1).",
	"cookie":                   "the site's cookies, sent by the browser as with any request; this is why a server must check Origin (RFC 6455 §10.2).",
	"authorization":            "credentials, as for any HTTP request (RFC 6455 §4.1, item 12). Browsers cannot set it on a WebSocket.",
	"user-agent":               "the client software; the handshake ignores it.",
	"sec-websocket-accept":     "base64(SHA-1(Sec-WebSocket-Key + GUID)) (RFC 6455 §4.2.2).",
}

var responseNotes = map[string]string{
	"upgrade":                  "the protocol the connection switches to: websocket (RFC 6455 §4.2.2, step 5.2).",
	"connection":               "\"Upgrade\": this connection is being upgraded (RFC 6455 §4.2.2, step 5.3).",
	"sec-websocket-accept":     "base64(SHA-1(Sec-WebSocket-Key + GUID)): proves the server read this client's key and speaks WebSocket; the client must check it (RFC 6455 §4.2.2, step 5.4; §4.1).",
	"sec-websocket-protocol":   "the one subprotocol the server chose from the client's list; absent when it chose none (RFC 6455 §4.2.2).",
	"sec-websocket-extensions": "the extensions the server accepted, only from those the client offered (RFC 6455 §4.2.2; §9.1).",
	"sec-websocket-version":    "the versions this server speaks, sent when it refuses the client's version (RFC 6455 §4.4).",
	"set-cookie":               "a cookie set during the handshake, as in any HTTP response (RFC 6455 §4.1).",
	"server":                   "the server software; the handshake ignores it.",
	"date":                     "when the response was sent; the handshake ignores it.",
}
