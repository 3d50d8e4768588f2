package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/learnws/learnws/framing"
	"github.com/learnws/learnws/internal/framejson"
)

// proxyKeep is how many payload bytes of one frame the proxy keeps to annotate; the
// rest is forwarded without being kept.
const proxyKeep = 64 << 10

// maxHead bounds an HTTP request or response head.
const maxHead = 64 << 10

// runProxy is "learnws proxy --listen HOST:PORT --upstream ws://…": a man-in-the-middle
// for one WebSocket endpoint. Each client that connects to --listen is connected to the
// upstream; the opening handshake is forwarded with its Host (and request target)
// rewritten for the upstream, and every byte after it is forwarded unchanged, as soon as
// it arrives, in both directions. On the side, the proxy cuts each direction into frames
// (framing.Splitter) and prints each frame annotated as its receiver judges it: with the
// receiver's role and the direction's own framing.MessageState, so a continuation frame
// is judged as continuing its message. Since the bytes are not changed, the Accept value
// and the masking stay the client's and the server's own.
func runProxy(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	e := newEnv("proxy", nil, stdout, stderr)
	fs := flag.NewFlagSet("proxy", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:9000", "accept clients on `HOST:PORT`")
	upstream := fs.String("upstream", "", "the WebSocket server to forward to, `ws://HOST[:PORT]/PATH` (or wss://)")
	asJSON := fs.Bool("json", false, "print one JSON object per line per event")
	pos, err := parseFlags(e, fs, args, "proxy --listen HOST:PORT --upstream ws://HOST[:PORT]/PATH [--json]")
	if err != nil {
		return e.flagExit(err)
	}
	if len(pos) > 0 {
		return e.failf("unexpected argument %q", pos[0])
	}
	up, err := parseUpstream(*upstream)
	if err != nil {
		return e.fail(err)
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return e.fail(err)
	}
	p := &proxy{env: e, json: *asJSON, up: up}
	if p.json {
		p.event(map[string]any{"event": "listening", "listen": "ws://" + ln.Addr().String() + "/", "upstream": up.String()})
	} else {
		p.say(fmt.Sprintf("proxying ws://%s/ → %s", ln.Addr(), up))
		p.say(e.paint(sDim, "every frame is forwarded unchanged and printed here; Ctrl-C stops"))
	}

	var wg sync.WaitGroup
	var mu sync.Mutex
	open := map[net.Conn]bool{}
	go func() {
		<-ctx.Done()
		ln.Close()
		mu.Lock()
		for c := range open {
			c.Close()
		}
		mu.Unlock()
	}()
	for id := 1; ; id++ {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			wg.Wait()
			return e.fail(err)
		}
		mu.Lock()
		open[c] = true
		mu.Unlock()
		wg.Go(func() {
			p.serve(ctx, id, c, func(other net.Conn) {
				mu.Lock()
				open[other] = true
				mu.Unlock()
			})
			mu.Lock()
			delete(open, c)
			mu.Unlock()
		})
	}
	wg.Wait()
	return 0
}

func parseUpstream(s string) (*url.URL, error) {
	if s == "" {
		return nil, errors.New("missing --upstream ws://HOST[:PORT]/PATH")
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("--upstream: %v", err)
	}
	if u.Scheme != "ws" && u.Scheme != "wss" {
		return nil, fmt.Errorf("--upstream %q: the URL must start with ws:// or wss://", s)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("--upstream %q has no host", s)
	}
	return u, nil
}

// proxy prints the events of all connections, one at a time.
type proxy struct {
	*env
	json bool
	up   *url.URL
	mu   sync.Mutex
}

func (p *proxy) say(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintln(p.stdout, s)
}

func (p *proxy) event(v map[string]any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	_ = p.writeJSON(v)
}

func (p *proxy) report(id int, format string, a ...any) {
	msg := fmt.Sprintf(format, a...)
	if p.json {
		p.event(map[string]any{"event": "info", "conn": id, "message": msg})
		return
	}
	p.say(fmt.Sprintf("%s %s", p.paint(sBold, fmt.Sprintf("[%d]", id)), msg))
}

// serve proxies one client connection.
func (p *proxy) serve(ctx context.Context, id int, client net.Conn, track func(net.Conn)) {
	defer client.Close()
	p.report(id, "client %s connected", client.RemoteAddr())
	cr := bufio.NewReaderSize(client, 16<<10)
	client.SetReadDeadline(time.Now().Add(30 * time.Second))
	req, err := readHead(cr)
	if err != nil {
		p.report(id, "reading the client's handshake: %v", err)
		return
	}
	client.SetReadDeadline(time.Time{})
	req = rewriteRequest(req, p.up)

	server, err := p.dialUpstream(ctx)
	if err != nil {
		p.report(id, "connecting to the upstream: %v", err)
		io.WriteString(client, "HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nlearnws proxy: cannot reach the upstream\n")
		return
	}
	track(server)
	defer server.Close()
	p.head(id, "request", "client → server", req)
	if _, err := server.Write(req); err != nil {
		p.report(id, "forwarding the handshake: %v", err)
		return
	}
	sr := bufio.NewReaderSize(server, 16<<10)
	resp, err := readHead(sr)
	if err != nil {
		p.report(id, "reading the server's handshake: %v", err)
		return
	}
	p.head(id, "response", "server → client", resp)
	if _, err := client.Write(resp); err != nil {
		return
	}
	upgraded := bytes.HasPrefix(resp, []byte("HTTP/1.1 101")) || bytes.HasPrefix(resp, []byte("HTTP/1.0 101"))
	if !upgraded {
		p.report(id, "the server refused the upgrade; relaying the rest without decoding")
	}

	var wg sync.WaitGroup
	relay := func(dir string, receiver framing.Role, src *bufio.Reader, dst, srcConn net.Conn) {
		defer wg.Done()
		var sp *framing.Splitter
		if upgraded {
			var state framing.MessageState // this direction's conversation, as its receiver follows it
			sp = framing.NewSplitter(proxyKeep, func(f framing.SplitFrame) { p.frame(id, dir, receiver, f, &state) })
		}
		buf := make([]byte, 32<<10)
		for {
			n, err := src.Read(buf)
			if n > 0 {
				if _, werr := dst.Write(buf[:n]); werr != nil {
					srcConn.Close()
					return
				}
				if sp != nil {
					sp.Write(buf[:n])
				}
			}
			if err != nil {
				if sp != nil {
					sp.Close() // shows the frame the stream ended inside of, if any
				}
				// Pass the end of the stream on: half-close if possible.
				if cw, ok := dst.(interface{ CloseWrite() error }); ok {
					cw.CloseWrite()
				} else {
					dst.Close()
				}
				return
			}
		}
	}
	wg.Add(2)
	go relay("client → server", framing.RoleServer, cr, server, client)
	go relay("server → client", framing.RoleClient, sr, client, server)
	wg.Wait()
	p.report(id, "connection closed")
}

func (p *proxy) dialUpstream(ctx context.Context) (net.Conn, error) {
	port := p.up.Port()
	if port == "" {
		port = "80"
		if p.up.Scheme == "wss" {
			port = "443"
		}
	}
	addr := net.JoinHostPort(p.up.Hostname(), port)
	d := &net.Dialer{Timeout: 10 * time.Second}
	if p.up.Scheme == "wss" {
		td := &tls.Dialer{NetDialer: d, Config: &tls.Config{ServerName: p.up.Hostname()}}
		return td.DialContext(ctx, "tcp", addr)
	}
	return d.DialContext(ctx, "tcp", addr)
}

// readHead reads an HTTP head up to and including its blank line.
func readHead(r *bufio.Reader) ([]byte, error) {
	var head []byte
	for {
		line, err := r.ReadSlice('\n')
		head = append(head, line...)
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return head, err
		}
		if len(head) > maxHead {
			return head, fmt.Errorf("head is larger than %d bytes", maxHead)
		}
		if bytes.HasSuffix(head, []byte("\r\n\r\n")) || bytes.Equal(head, []byte("\r\n")) || bytes.HasSuffix(head, []byte("\n\n")) {
			return head, nil
		}
	}
}

// rewriteRequest points a client's handshake at the upstream: the request target
// becomes the upstream's path (unless it has none) and Host the upstream's host.
// Everything else, Sec-WebSocket-Key included, is left as the client wrote it.
func rewriteRequest(req []byte, up *url.URL) []byte {
	lines := strings.SplitAfter(string(req), "\n")
	if len(lines) == 0 {
		return req
	}
	if f := strings.Fields(lines[0]); len(f) == 3 && up.Path != "" {
		target := up.EscapedPath()
		if up.RawQuery != "" {
			target += "?" + up.RawQuery
		}
		lines[0] = f[0] + " " + target + " " + f[2] + "\r\n"
	}
	for i, l := range lines[1:] {
		name, _, ok := strings.Cut(l, ":")
		if ok && strings.EqualFold(strings.TrimSpace(name), "Host") {
			lines[i+1] = "Host: " + up.Host + "\r\n"
		}
	}
	return []byte(strings.Join(lines, ""))
}

func (p *proxy) head(id int, kind, dir string, raw []byte) {
	lines := annotateHandshake(kind, raw)
	if p.json {
		p.event(map[string]any{"event": kind, "conn": id, "dir": dirKey(dir), "raw": string(raw), "lines": linesJSON(lines)})
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.stdout, "%s %s %s (%d bytes)\n", p.paint(sBold, fmt.Sprintf("[%d]", id)), dir, kind, len(raw))
	p.printHandshake(raw, lines)
}

func dirKey(dir string) string {
	if strings.HasPrefix(dir, "client") {
		return "client-to-server"
	}
	return "server-to-client"
}

// frame prints one frame that crossed the proxy, as the splitter reports it: when its
// last byte has gone by, with at most proxyKeep payload bytes kept, or cut short by
// the end of the connection. receiver is the role that reads this direction, state
// its conversation so far.
func (p *proxy) frame(id int, dir string, receiver framing.Role, f framing.SplitFrame, state *framing.MessageState) {
	if f.Kind == framing.FrameTooBig {
		return // shown once its last byte has gone by
	}
	raw := f.Raw
	a := framing.AnnotateNext(raw, receiver, state)
	if p.json {
		v := map[string]any{"event": "frame", "conn": id, "dir": dirKey(dir), "time": time.Now().Format(time.RFC3339Nano),
			"hex": hex.EncodeToString(raw), "truncated": f.Dropped > 0}
		switch {
		case len(a.Frames) == 1:
			v["frame"] = framejson.FromFrame(&a.Frames[0])
		case a.Partial != nil:
			v["frame"] = framejson.FromFrame(a.Partial)
		}
		if f.Kind == framing.FrameCut {
			v["cut"] = true
		}
		p.event(v)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.stdout, "%s %s %s %s\n", p.paint(sBold, fmt.Sprintf("[%d]", id)), p.paint(sBold, dir),
		p.paint(sDim, time.Now().Format("15:04:05.000")), hexSpaced(raw, 24))
	p.printFrames(raw, a, "  ")
	switch {
	case f.Kind == framing.FrameCut:
		fmt.Fprintf(p.stdout, "  %s\n", p.paint(sDim, fmt.Sprintf("(the connection ended inside this frame, after %d of its bytes)", uint64(len(raw))+f.Dropped)))
	case f.Dropped > 0:
		kept := len(raw) - f.Header.Size()
		fmt.Fprintf(p.stdout, "  %s\n", p.paint(sDim, fmt.Sprintf("(forwarded whole; shown: the first %d of %d payload bytes)", kept, f.Header.PayloadLength)))
	}
	fmt.Fprintln(p.stdout)
}
