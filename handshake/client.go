package handshake

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// maxResponseHead bounds the bytes ReadResponse reads before the blank line,
// and maxRefusalBody the body of a refusal it keeps: a server must not make
// a client buffer without end.
const (
	maxResponseHead = 16 << 10
	maxRefusalBody  = 4 << 10
)

// ReadResponse reads the server's answer to the opening handshake from br
// and checks it with [CheckResponse]. It returns the parsed response, the raw
// bytes exactly as received, and the first problem found.
//
// It reads only up to the blank line that ends the head: any bytes after it
// are WebSocket frames and stay in br. When the status is not 101 and the
// body is short (4 KiB or less, with a Content-Length), the body is read too,
// added to the raw bytes and quoted in the error, so that the server's own
// explanation reaches the user.
//
// The response is returned even with an error, whenever one could be parsed.
func ReadResponse(br *bufio.Reader, key string, offered []string) (*http.Response, []byte, error) {
	var raw []byte
	lineStart := 0
	for {
		chunk, err := br.ReadSlice('\n')
		raw = append(raw, chunk...)
		if len(raw) > maxResponseHead {
			return nil, raw, fmt.Errorf("handshake: the response head is longer than %d bytes without ending", maxResponseHead)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, raw, fmt.Errorf("handshake: reading the response: after %d bytes: %w", len(raw), err)
		}
		line := raw[lineStart:]
		lineStart = len(raw)
		if len(raw) > len(line) && (string(line) == "\r\n" || string(line) == "\n") {
			break
		}
	}
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(raw)), nil)
	if err != nil {
		return nil, raw, fmt.Errorf("handshake: the response is not valid HTTP: %w", err)
	}
	var said string
	if resp.StatusCode != http.StatusSwitchingProtocols && resp.ContentLength > 0 && resp.ContentLength <= maxRefusalBody {
		body := make([]byte, resp.ContentLength)
		n, _ := io.ReadFull(br, body)
		raw = append(raw, body[:n]...)
		resp.Body = io.NopCloser(bytes.NewReader(body[:n]))
		said, _, _ = strings.Cut(strings.TrimSpace(string(body[:n])), "\n")
	}
	if err := CheckResponse(resp, key, offered); err != nil {
		var herr *Error
		if said != "" && errors.As(err, &herr) {
			herr.Reason += fmt.Sprintf("; the server says %q", said)
		}
		return resp, raw, err
	}
	return resp, raw, nil
}

// CheckResponse checks the server's handshake response as RFC 6455 §4.1
// requires ("The client MUST validate the server's response as follows"),
// for a request that sent key and offered the subprotocols offered and no
// extensions, in the order of [ClientRules]. The error is the first rule
// broken, an [*Error] with Status 0:
//
//  1. the status must be 101;
//  2. Upgrade must be "websocket";
//  3. Connection must contain the token "Upgrade";
//  4. Sec-WebSocket-Accept must be Accept(key), once; the error names the
//     mistake if it is a common one (see [ExplainAccept]);
//  5. no extension this client did not offer (it offers none);
//  6. at most one subprotocol, one that was offered, and not "".
func CheckResponse(resp *http.Response, key string, offered []string) error {
	if errs := responseProblems(&responseCheck{resp: resp, key: key, offered: offered, known: true}, true); len(errs) > 0 {
		return errs[0]
	}
	return nil
}

// ruleStatus101 is the first of the client's rules: a response that breaks
// it is no handshake to check further.
const ruleStatus101 = "status-101"

// clientRules is the client's table (see [Rule]). Each check returns what is
// wrong, or "" if the response keeps the rule.
var clientRules = []clientRule{
	{Rule: Rule{Name: ruleStatus101, Section: "4.1"}, check: func(c *responseCheck) string {
		// §4.1: "If the status code received from the server is not 101,
		// the client handles the response per HTTP [RFC2616] procedures."
		resp := c.resp
		if resp.StatusCode == http.StatusSwitchingProtocols {
			return ""
		}
		reason := fmt.Sprintf("the server answered %q, not 101 Switching Protocols", strings.TrimSpace(resp.Proto+" "+resp.Status))
		if v := resp.Header.Values("Sec-WebSocket-Version"); resp.StatusCode == http.StatusUpgradeRequired || len(v) > 0 {
			reason += fmt.Sprintf(" (it speaks Sec-WebSocket-Version %q)", strings.Join(v, ", "))
		}
		return reason
	}},
	{Rule: Rule{Name: "upgrade", Section: "4.1", Header: "Upgrade"}, check: func(c *responseCheck) string {
		up := headerValue(c.resp.Header, "Upgrade")
		// §4.1: "If the response lacks an |Upgrade| header field or the
		// |Upgrade| header field contains a value that is not an ASCII
		// case-insensitive match for the value "websocket", the client MUST
		// _Fail the WebSocket Connection_."
		switch {
		case asciiEqualFold(strings.Trim(up, " \t"), "websocket"):
			return ""
		case up == "":
			return "the response has no Upgrade header; it must be \"websocket\""
		}
		return fmt.Sprintf("Upgrade is %q; it must be \"websocket\"", up)
	}},
	{Rule: Rule{Name: "connection", Section: "4.1", Header: "Connection"}, check: func(c *responseCheck) string {
		h := c.resp.Header
		// §4.1: "If the response lacks a |Connection| header field or the
		// |Connection| header field doesn't contain a token that is an ASCII
		// case-insensitive match for the value "Upgrade", the client MUST
		// _Fail the WebSocket Connection_."
		switch {
		case hasToken(h, "Connection", "Upgrade"):
			return ""
		case len(h.Values("Connection")) == 0:
			return "the response has no Connection header; it must contain the token \"Upgrade\""
		}
		return fmt.Sprintf("Connection is %q; it must contain the token \"Upgrade\"", headerValue(h, "Connection"))
	}},
	{Rule: Rule{Name: "sec-websocket-accept-once", Section: "11.3.3", Header: "Sec-WebSocket-Accept", once: true}, check: func(c *responseCheck) string {
		// §11.3.3: "The |Sec-WebSocket-Accept| header MUST NOT appear more
		// than once in an HTTP response."
		if n := len(c.resp.Header.Values("Sec-WebSocket-Accept")); n > 1 {
			return fmt.Sprintf("Sec-WebSocket-Accept appears %d times; it must appear once", n)
		}
		return ""
	}},
	{Rule: Rule{Name: "sec-websocket-accept", Section: "4.1", Header: "Sec-WebSocket-Accept"}, check: checkAcceptHeader},
	{Rule: Rule{Name: "sec-websocket-extensions", Section: "4.1", Header: "Sec-WebSocket-Extensions"}, check: func(c *responseCheck) string {
		ext := headerValue(c.resp.Header, "Sec-WebSocket-Extensions")
		// §4.1: "If the response includes a |Sec-WebSocket-Extensions| header
		// field and this header field indicates the use of an extension that
		// was not present in the client's handshake …, the client MUST _Fail
		// the WebSocket Connection_." This client offers none.
		if c.known && strings.Trim(ext, " \t,") != "" {
			return fmt.Sprintf("the server accepted extensions %q, but this client offered none", ext)
		}
		return ""
	}},
	{Rule: Rule{Name: "sec-websocket-protocol-once", Section: "11.3.4", Header: "Sec-WebSocket-Protocol", once: true}, check: func(c *responseCheck) string {
		// §11.3.4: "the |Sec-WebSocket-Protocol| header field MUST NOT appear
		// more than once in an HTTP response."
		if n := len(c.resp.Header.Values("Sec-WebSocket-Protocol")); n > 1 {
			return fmt.Sprintf("Sec-WebSocket-Protocol appears %d times; the server must choose one subprotocol", n)
		}
		return ""
	}},
	{Rule: Rule{Name: "sec-websocket-protocol", Section: "4.1", Header: "Sec-WebSocket-Protocol"}, check: func(c *responseCheck) string {
		p, ok := firstValue(c.resp.Header, "Sec-WebSocket-Protocol")
		// §4.1: "If the response includes a |Sec-WebSocket-Protocol| header
		// field and this header field indicates the use of a subprotocol that
		// was not present in the client's handshake (the server has indicated
		// a subprotocol not requested by the client), the client MUST _Fail
		// the WebSocket Connection_."
		switch {
		case !ok || p == "" || !c.known:
			return "" // nothing chosen; an empty value is the next rule's
		case len(c.offered) == 0:
			return fmt.Sprintf("the server chose subprotocol %q, but this client offered none", p)
		}
		for _, o := range c.offered {
			if o == p {
				return ""
			}
		}
		return fmt.Sprintf("the server chose subprotocol %q, which is not one this client offered (%s)", p, strings.Join(c.offered, ", "))
	}},
	{Rule: Rule{Name: "sec-websocket-protocol-empty", Section: "4.2.2", Header: "Sec-WebSocket-Protocol"}, check: func(c *responseCheck) string {
		// §4.2.2: the empty string "is not a legal value for this field"; a
		// server that chooses none "MUST NOT send back a
		// |Sec-WebSocket-Protocol| header field in its response".
		if p, ok := firstValue(c.resp.Header, "Sec-WebSocket-Protocol"); ok && p == "" {
			return "Sec-WebSocket-Protocol is empty; a server that chooses none must leave the header out"
		}
		return ""
	}},
}

// checkAcceptHeader: §4.1: "If the response lacks a |Sec-WebSocket-Accept|
// header field or the |Sec-WebSocket-Accept| contains a value other than
// the base64-encoded SHA-1 of the concatenation of the |Sec-WebSocket-Key|
// (as a string, not base64-decoded) with the string
// "258EAFA5-E914-47DA-95CA-C5AB0DC85B11" but ignoring any leading and
// trailing whitespace, the client MUST _Fail the WebSocket Connection_."
// Without the key (a response judged alone), the value can only be checked
// to be what an Accept looks like: the base64 of 20 bytes.
func checkAcceptHeader(c *responseCheck) string {
	accept, ok := firstValue(c.resp.Header, "Sec-WebSocket-Accept")
	switch {
	case !ok && c.known:
		return fmt.Sprintf("the response has no Sec-WebSocket-Accept header; for key %q it must be %q", c.key, Accept(c.key))
	case !ok:
		return "the response has no Sec-WebSocket-Accept header"
	case c.known:
		return ExplainAccept(c.key, accept)
	}
	if b, err := base64.StdEncoding.DecodeString(accept); err != nil || len(b) != 20 {
		return fmt.Sprintf("Sec-WebSocket-Accept %q is not the base64 of 20 bytes (a SHA-1 hash)", accept)
	}
	return ""
}

// DialOptions configure [Dial]. The zero value (or nil) offers no
// subprotocol, sends no Origin, and draws the key from crypto/rand.
type DialOptions struct {
	Protocols []string    // subprotocols to offer, most preferred first
	Origin    string      // the Origin header, "" to send none (non-browser clients may leave it out, §4.1, item 8)
	Rand      io.Reader   // source of the key's 16 bytes; nil means crypto/rand
	Header    http.Header // further header fields for the request (e.g. Cookie, Authorization)
	TLSConfig *tls.Config // for wss:// URLs; nil means the defaults, with ServerName from the URL
}

// ClientConn is an established WebSocket connection, seen from the client,
// with everything the handshake exchanged.
type ClientConn struct {
	Conn          net.Conn       // the connection; nil if the handshake failed
	Reader        *bufio.Reader  // read frames from here: it may already hold the server's first frames
	RequestBytes  []byte         // the request exactly as sent
	ResponseBytes []byte         // the response exactly as received, up to its blank line
	Response      *http.Response // the parsed response
	Subprotocol   string         // the subprotocol the server chose, or ""
	Key           string         // the Sec-WebSocket-Key sent
}

// Dial opens a WebSocket connection to a ws:// or wss:// URL: it connects
// over TCP (and TLS for wss://), sends the opening handshake and checks the
// response. ctx bounds the whole handshake, not the connection afterwards.
//
// If the server answered but the handshake failed, Dial returns the error
// together with a ClientConn whose Conn is nil and whose RequestBytes,
// ResponseBytes and Response show what was exchanged.
func Dial(ctx context.Context, rawURL string, opt *DialOptions) (*ClientConn, error) {
	if opt == nil {
		opt = &DialOptions{}
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("handshake: %q is not a URL: %w", rawURL, err)
	}
	// §3: "The port component is OPTIONAL; the default for "ws" is port 80,
	// while the default for "wss" is port 443."
	var port string
	switch strings.ToLower(u.Scheme) {
	case "ws":
		port = "80"
	case "wss":
		port = "443"
	default:
		return nil, fmt.Errorf("handshake: URL scheme is %q; a WebSocket URL starts with ws:// or wss://", u.Scheme)
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("handshake: URL %q has no host", rawURL)
	}
	// §3: "Fragment identifiers are meaningless in the context of
	// WebSocket URIs and MUST NOT be used on these URIs."
	if u.Fragment != "" || strings.Contains(rawURL, "#") {
		return nil, fmt.Errorf("handshake: URL %q has a fragment (#…); WebSocket URLs must not", rawURL)
	}
	if u.Port() != "" {
		port = u.Port()
	}
	if err := checkOffer(opt.Protocols, opt.Origin); err != nil {
		return nil, err
	}
	key, err := NewKey(opt.Rand)
	if err != nil {
		return nil, err
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(u.Hostname(), port))
	if err != nil {
		return nil, fmt.Errorf("handshake: connecting to %s: %w", u.Host, err)
	}
	// The handshake is bounded by ctx: its deadline becomes the
	// connection's, and cancelling ctx interrupts a blocked read or write.
	dl, hasDeadline := ctx.Deadline()
	if hasDeadline {
		conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	cc, err := handshake(ctx, conn, u, key, opt)
	if !stop() && err == nil {
		err = fmt.Errorf("handshake: %w", context.Cause(ctx))
	}
	if err != nil {
		// Say why a read or write timed out: the context ended.
		if cause := context.Cause(ctx); cause != nil && !errors.Is(err, cause) {
			err = fmt.Errorf("%w (%w)", err, cause)
		} else if hasDeadline && errors.Is(err, os.ErrDeadlineExceeded) {
			err = fmt.Errorf("%w (%w)", err, context.DeadlineExceeded)
		}
		if cc != nil {
			cc.Conn.Close()
			cc.Conn = nil
		} else {
			conn.Close()
		}
		return cc, err
	}
	cc.Conn.SetDeadline(time.Time{})
	return cc, nil
}

// handshake runs TLS (for wss) and the opening handshake on conn. It returns
// a ClientConn as soon as a request was sent, even with an error.
func handshake(ctx context.Context, conn net.Conn, u *url.URL, key string, opt *DialOptions) (*ClientConn, error) {
	if strings.EqualFold(u.Scheme, "wss") {
		cfg := opt.TLSConfig.Clone()
		if cfg == nil {
			cfg = &tls.Config{}
		}
		if cfg.ServerName == "" {
			// §4.1, step 5: "Clients MUST use the Server Name Indication
			// extension in the TLS handshake".
			cfg.ServerName = u.Hostname()
		}
		tc := tls.Client(conn, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			return nil, fmt.Errorf("handshake: TLS with %s: %w", u.Host, err)
		}
		conn = tc
	}
	cc := &ClientConn{Conn: conn, Key: key}
	cc.RequestBytes = appendRequest(nil, u, key, opt.Protocols, opt.Origin, opt.Header)
	if _, err := conn.Write(cc.RequestBytes); err != nil {
		return cc, fmt.Errorf("handshake: sending the request: %w", err)
	}
	cc.Reader = bufio.NewReader(conn)
	resp, raw, err := ReadResponse(cc.Reader, key, opt.Protocols)
	cc.Response, cc.ResponseBytes = resp, raw
	if err != nil {
		return cc, err
	}
	cc.Subprotocol = strings.Trim(resp.Header.Get("Sec-WebSocket-Protocol"), " \t")
	return cc, nil
}

// checkOffer checks what a client is about to put in its request. §4.1 item 10:
// the subprotocols "MUST all be unique strings" and "MUST be non-empty strings
// with characters in the range U+0021 to U+007E not including separator
// characters"; and no value may carry CR or LF, which would start a header line
// of its own (header injection).
func checkOffer(protocols []string, origin string) error {
	seen := make(map[string]bool, len(protocols))
	for _, p := range protocols {
		switch {
		case !isToken(p):
			return fmt.Errorf("handshake: subprotocol %q is not a token (printable ASCII without spaces or separators)", p)
		case seen[p]:
			return fmt.Errorf("handshake: subprotocol %q is offered twice; offered subprotocols must be unique", p)
		}
		seen[p] = true
	}
	for i := 0; i < len(origin); i++ {
		if c := origin[i]; c < ' ' || c >= 0x7f {
			return fmt.Errorf("handshake: Origin %q has byte 0x%02x at %d; an origin is printable ASCII", origin, c, i)
		}
	}
	return nil
}
