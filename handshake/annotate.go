package handshake

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
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
// cannot read are marked with Kind "malformed" and a Problem. Every rule of
// [ServerRules] the request breaks (but the Origin policy, which is the
// server's choice) is the Problem of the line it concerns: a repeated
// header's repeats, a missing header's blank line at the end.
func AnnotateRequest(raw []byte) []Line { return parseHead(raw, false).lines }

// AnnotateResponse explains every line of a server's opening handshake
// response, as [AnnotateRequest] does for the request, with the rules of
// [ClientRules]. Without the request, it cannot compare Sec-WebSocket-Accept
// with the key (it checks that it is the base64 of 20 bytes; see
// [ExplainAccept] for the rest) nor the subprotocol with those offered.
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
			h.fields = append(h.fields, [2]string{l.Name, l.Value})
			explainField(&l, key, response)
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
	}
	h.judge(response)
	for i := range h.lines {
		l := &h.lines[i]
		if l.Kind != KindData && l.Problem == "" && l.Length > 0 && raw[l.Offset+l.Length-1] == '\n' && (l.Length < 2 || raw[l.Offset+l.Length-2] != '\r') {
			l.Problem = "line ends in LF alone; HTTP ends lines with CR LF (most servers accept it)"
		}
	}
	if !complete && h.err == nil {
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
	if _, _, ok := http.ParseHTTPVersion(parts[2]); !ok {
		fail(l, "%q is not an HTTP version such as HTTP/1.1", parts[2])
		return nil
	}
	return parts
}

func noteEnd(response bool) string {
	if response {
		return "blank line: the end of the response head; if the status was 101, the next byte is the first byte of a WebSocket frame."
	}
	return "blank line: the end of the request head; the client must now wait for the server's answer before sending frames (RFC 6455 §4.1)."
}

// explainField sets the Kind and Note of a header line (its Problem is the
// rules', see judge).
func explainField(l *Line, key string, response bool) {
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
	if key == "sec-websocket-key" && !response && CheckKey(l.Value) == nil {
		note += " This one decodes to 16 bytes, as it must."
	}
	l.Note = note
}

// judge applies the rules of the handshake (the server's to a request, the
// client's to a response) to the head and puts each problem on the line it
// concerns: the first line for the request or status line, the first line
// of a header field (its repeats, for a rule that it appears once), the
// blank line at the end for a header field that is missing. A line that
// breaks several rules lists them all.
func (h *head) judge(response bool) {
	if len(h.first) != 3 {
		return // the first line is unreadable: so is the head
	}
	header := http.Header{}
	for _, f := range h.fields {
		header.Add(f[0], f[1])
	}
	var errs []*Error
	if response {
		code, _ := strconv.Atoi(h.first[1])
		resp := &http.Response{Proto: h.first[0], StatusCode: code, Status: strings.TrimSpace(h.first[1] + " " + h.first[2]), Header: header}
		errs = responseProblems(&responseCheck{resp: resp}, false)
	} else {
		errs = (&Policy{AnyOrigin: true}).Problems(headRequest(h.first, header))
	}
	rules := map[string]Rule{}
	for _, r := range append(ServerRules(), ClientRules()...) {
		rules[r.Name] = r
	}
	for _, e := range errs {
		if l := h.lineFor(rules[e.Rule], response); l != nil {
			if l.Problem != "" {
				l.Problem += "; "
			}
			l.Problem += e.Reason
		}
	}
}

// lineFor returns the line where a problem with rule r goes, or nil.
func (h *head) lineFor(r Rule, response bool) *Line {
	if r.Header == "" {
		return &h.lines[0]
	}
	var found *Line
	for i := range h.lines {
		l := &h.lines[i]
		switch {
		case l.Name != "" && asciiEqualFold(l.Name, r.Header):
			if !r.once || found != nil {
				return l
			}
			found = l
		case l.Kind == KindEnd && found == nil:
			return l
		}
	}
	return nil
}

// headRequest builds the *http.Request that net/http's server would hand a
// handler for a head whose first line is first and whose fields are header
// (Host moved to its own field), leniently: a request target that is not a
// URL is kept as a path. The version is known to parse.
func headRequest(first []string, header http.Header) *http.Request {
	major, minor, _ := http.ParseHTTPVersion(first[2])
	u, err := url.ParseRequestURI(first[1])
	if err != nil {
		u = &url.URL{Path: first[1]}
	}
	h := header.Clone()
	host := h.Get("Host")
	h.Del("Host")
	return &http.Request{
		Method: first[0], URL: u, RequestURI: first[1],
		Proto: first[2], ProtoMajor: major, ProtoMinor: minor,
		Header: h, Host: host, Body: http.NoBody,
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
