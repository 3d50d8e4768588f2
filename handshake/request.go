package handshake

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// NewRequest returns the client's opening handshake for the WebSocket URL u
// as raw bytes, in the order of the RFC 6455 §1.3 example:
//
//	GET /chat HTTP/1.1\r\n
//	Host: server.example.com\r\n
//	Upgrade: websocket\r\n
//	Connection: Upgrade\r\n
//	Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n
//	Origin: http://example.com\r\n
//	Sec-WebSocket-Protocol: chat, superchat\r\n
//	Sec-WebSocket-Version: 13\r\n
//	\r\n
//
// Origin is sent only if origin is not "", Sec-WebSocket-Protocol only if
// protocols is not empty. NewRequest writes what it is given, so that a lesson
// can build a broken request; [Dial] checks protocols and origin first (unique
// tokens, no CR or LF) before it sends anything.
//
// The request line carries the /resource name/ of RFC 6455 §3: the path ("/"
// if empty) and the query. §4.1, item 2: "The method of the request MUST be
// GET, and the HTTP version MUST be at least 1.1." Item 4: "The request MUST
// contain a |Host| header field whose value contains /host/ plus optionally
// ":" followed by /port/ (when not using the default port)": Host is u.Host
// as written in the URL.
func NewRequest(u *url.URL, key string, protocols []string, origin string) []byte {
	return appendRequest(nil, u, key, protocols, origin, nil)
}

// appendRequest is NewRequest with extra header fields, sorted by name after
// the handshake's own; fields NewRequest writes itself are left out.
func appendRequest(dst []byte, u *url.URL, key string, protocols []string, origin string, extra http.Header) []byte {
	dst = append(dst, "GET "...)
	dst = append(dst, u.RequestURI()...)
	dst = append(dst, " HTTP/1.1\r\n"...)
	dst = appendField(dst, "Host", u.Host)
	dst = append(dst, "Upgrade: websocket\r\n"...)
	dst = append(dst, "Connection: Upgrade\r\n"...)
	dst = appendField(dst, "Sec-WebSocket-Key", key)
	if origin != "" {
		dst = appendField(dst, "Origin", origin)
	}
	if len(protocols) > 0 {
		dst = appendField(dst, "Sec-WebSocket-Protocol", strings.Join(protocols, ", "))
	}
	dst = append(dst, "Sec-WebSocket-Version: 13\r\n"...)
	dst = appendHeader(dst, extra, "Host", "Upgrade", "Connection", "Sec-WebSocket-Key", "Origin", "Sec-WebSocket-Protocol", "Sec-WebSocket-Version")
	return append(dst, "\r\n"...)
}

// Request is a client's opening handshake read from raw bytes, keeping every
// line with its place in the bytes so that each byte can be explained.
type Request struct {
	Method string      // "GET"
	Target string      // the Request-URI: "/chat"
	Proto  string      // "HTTP/1.1"
	Header http.Header // every header field, names in canonical form, Host included
	Lines  []Line      // every line, covering every byte of the input (see [AnnotateRequest])
	Rest   []byte      // bytes after the blank line that ends the head: frames the client sent early
}

// ParseRequest reads a client's opening handshake from raw bytes. It checks
// HTTP syntax only (a request line of three parts, "Name: value" header
// lines, a blank line at the end); whether the request is an acceptable
// handshake is [Policy.Respond]'s question, asked of [Request.HTTPRequest].
//
// Even when it returns an error, ParseRequest returns the Request as far as
// it could read it, with Lines covering every byte, so that a page can show
// where the bytes went wrong.
func ParseRequest(raw []byte) (*Request, error) {
	req := &Request{Header: http.Header{}}
	h := parseHead(raw, false)
	req.Lines, req.Rest = h.lines, h.rest
	if len(h.first) == 3 {
		req.Method, req.Target, req.Proto = h.first[0], h.first[1], h.first[2]
	}
	for _, f := range h.fields {
		req.Header.Add(f[0], f[1])
	}
	if h.err != nil {
		return req, h.err
	}
	return req, nil
}

// HTTPRequest returns r as an *http.Request, as net/http's server would
// have built it (Host moved from Header to the Host field), so that
// [Policy.Respond] can judge a request given as bytes.
func (r *Request) HTTPRequest() (*http.Request, error) {
	if _, _, ok := http.ParseHTTPVersion(r.Proto); !ok {
		return nil, fmt.Errorf("handshake: %q is not an HTTP version such as HTTP/1.1", r.Proto)
	}
	if _, err := url.ParseRequestURI(r.Target); err != nil {
		return nil, fmt.Errorf("handshake: request target %q is not a path or absolute URL", r.Target)
	}
	header := r.Header
	if header == nil {
		header = http.Header{}
	}
	return headRequest([]string{r.Method, r.Target, r.Proto}, header), nil
}
