package main

import (
	"bufio"
	"context"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/learnws/learnws/framing"
	"github.com/learnws/learnws/handshake"
	"github.com/learnws/learnws/internal/framejson"
)

// dialTimeout bounds the opening handshake of dial.
const dialTimeout = 10 * time.Second

// runDial is "learnws dial [--json] [--origin O] [--protocol P,Q] ws://…": our own client
// (handshake.Dial, framing.Conn). It prints the handshake request and response with
// every line explained, then sends each line of standard input as a text message and
// prints every frame that crosses the wire, both ways, annotated. At the end of the
// input it closes with 1000 and exits 0 once the server has answered. --json prints one
// JSON object per line per event (request, response, frame, message, close, error).
func runDial(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := newEnv("dial", stdin, stdout, stderr)
	fs := flag.NewFlagSet("dial", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print one JSON object per line per event")
	origin := fs.String("origin", "", "send this Origin header (a browser always does; default none)")
	protocols := fs.String("protocol", "", "offer these subprotocols, comma-separated (e.g. chat,superchat)")
	pos, err := parseFlags(e, fs, args, "dial [--json] [--origin ORIGIN] [--protocol P,Q] ws://HOST[:PORT]/PATH")
	if err != nil {
		return e.flagExit(err)
	}
	if len(pos) != 1 {
		return e.failf("want one ws:// URL, got %d arguments", len(pos))
	}
	d := &dialer{env: e, json: *asJSON}
	opt := &handshake.DialOptions{Origin: *origin}
	for _, p := range strings.Split(*protocols, ",") {
		if p = strings.TrimSpace(p); p != "" {
			opt.Protocols = append(opt.Protocols, p)
		}
	}
	hctx, cancel := context.WithTimeout(ctx, dialTimeout)
	cc, err := handshake.Dial(hctx, pos[0], opt)
	cancel()
	if cc != nil {
		d.handshake("request", cc.RequestBytes)
		if len(cc.ResponseBytes) > 0 {
			d.handshake("response", cc.ResponseBytes)
		}
	}
	if err != nil {
		d.event(map[string]any{"event": "error", "error": err.Error()})
		return e.fail(trimPrefix(err))
	}
	if !d.json {
		d.say(e.paint(sGreen, "connected") + e.paint(sDim, "; each line you type is sent as a text message; end of input (Ctrl-D) closes with 1000"))
	}

	conn := framing.NewConn(cc.Conn, cc.Reader, framing.RoleClient, &framing.Options{Trace: d.frame})
	readDone := make(chan error, 1)
	go func() {
		for {
			op, p, err := conn.ReadMessage()
			if err != nil {
				readDone <- err
				return
			}
			d.message(op, p)
		}
	}()

	lines := make(chan string)
	inputDone := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stdin)
		sc.Buffer(make([]byte, 64<<10), framing.DefaultMaxMessageSize)
		for sc.Scan() {
			lines <- sc.Text()
		}
		inputDone <- sc.Err()
	}()

	for {
		select {
		case line := <-lines:
			if err := conn.WriteMessage(framing.OpText, []byte(line)); err != nil {
				d.event(map[string]any{"event": "error", "error": err.Error()})
				return e.fail(trimPrefix(err))
			}
		case err := <-inputDone:
			if err != nil {
				d.event(map[string]any{"event": "error", "error": err.Error()})
			}
			return d.finish(conn, readDone, framing.CloseNormal, "")
		case <-ctx.Done():
			return d.finish(conn, readDone, framing.CloseGoingAway, "")
		case err := <-readDone:
			// The server closed (or the connection broke) first.
			return d.ended(err)
		}
	}
}

// dialer prints dial's events, one at a time: the reader and the writer both trace.
type dialer struct {
	*env
	json      bool
	mu        sync.Mutex
	weClosing bool // we sent the first close frame
	// in and out follow each direction's conversation (fragments, UTF-8 across
	// them) as its receiver does: in only on the reading goroutine, out only under
	// the Conn's write lock, as Trace is called.
	in, out framing.MessageState
}

func (d *dialer) say(s string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	fmt.Fprintln(d.stdout, s)
}

func (d *dialer) event(v map[string]any) {
	if !d.json {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	_ = d.writeJSON(v)
}

// finish runs the closing handshake after the input ended and reports how it went.
func (d *dialer) finish(conn *framing.Conn, readDone chan error, code framing.CloseCode, reason string) int {
	d.weClosing = true
	if err := conn.Close(code, reason); err != nil {
		d.event(map[string]any{"event": "error", "error": err.Error()})
		return d.fail(trimPrefix(err))
	}
	return d.ended(<-readDone)
}

// ended reports the error that ended the read side; exit 0 for a completed closing
// handshake with 1000 or 1001.
func (d *dialer) ended(err error) int {
	var ce *framing.CloseError
	if !errors.As(err, &ce) {
		d.event(map[string]any{"event": "error", "error": err.Error()})
		return d.fail(trimPrefix(err))
	}
	d.event(map[string]any{"event": "close", "code": int(ce.Code), "reason": ce.Reason, "remote": ce.Remote})
	if !d.json {
		var how string
		switch {
		case d.weClosing && ce.Remote && ce.Code != framing.CloseAbnormal:
			how = "closing handshake complete; the server answered"
		case ce.Remote && ce.Code != framing.CloseAbnormal:
			how = "the server closed the connection"
		case ce.Remote:
			how = "the connection ended without a closing handshake"
		default:
			how = "we failed the connection: the server broke a rule"
		}
		d.say(fmt.Sprintf("%s: %s %s %q", d.paint(sBold, "closed"), how, ce.Code, ce.Reason))
	}
	if ce.Code == framing.CloseNormal || ce.Code == framing.CloseGoingAway {
		return 0
	}
	return d.fail(fmt.Errorf("connection closed with %s %q", ce.Code, ce.Reason))
}

// handshake prints the raw request or response, every line explained.
func (d *dialer) handshake(kind string, raw []byte) {
	lines := annotateHandshake(kind, raw)
	if d.json {
		d.event(map[string]any{"event": kind, "raw": string(raw), "hex": hex.EncodeToString(raw), "lines": linesJSON(lines)})
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	arrow := "→ request"
	if kind == "response" {
		arrow = "← response"
	}
	fmt.Fprintf(d.stdout, "%s (%d bytes)\n", d.paint(sBold, arrow), len(raw))
	d.printHandshake(raw, lines)
}

// frame is the framing.Options.Trace hook: every frame, both ways.
func (d *dialer) frame(ev framing.TraceEvent) {
	// Each frame is judged as its receiver judges it: a frame read by us, the
	// client, or one we wrote, read by the server.
	var a framing.Annotation
	if ev.Dir == framing.Read {
		a = framing.AnnotateNext(ev.Raw, framing.RoleClient, &d.in)
	} else {
		a = framing.AnnotateNext(ev.Raw, framing.RoleServer, &d.out)
	}
	if d.json {
		v := map[string]any{"event": "frame", "dir": ev.Dir.String(), "time": ev.Time.Format(time.RFC3339Nano),
			"hex": hex.EncodeToString(ev.Raw), "truncated": ev.Truncated}
		if len(a.Frames) == 1 {
			v["frame"] = framejson.FromFrame(&a.Frames[0])
		}
		if ev.Err != nil {
			v["error"] = ev.Err.Error()
		}
		d.event(v)
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	arrow := d.paint(sBold+sBlue, "→ out")
	if ev.Dir == framing.Read {
		arrow = d.paint(sBold+sYellow, "← in ")
	}
	fmt.Fprintf(d.stdout, "%s %s %s\n", arrow, d.paint(sDim, ev.Time.Format("15:04:05.000")), hexSpaced(ev.Raw, 24))
	a.Err = nil
	d.printFrames(ev.Raw, a, "  ")
	if ev.Truncated {
		fmt.Fprintf(d.stdout, "  %s\n", d.paint(sDim, fmt.Sprintf("(trace shows the first %d payload bytes of %d)", len(ev.Raw)-ev.Header.Size(), ev.Header.PayloadLength)))
	}
	var pe *framing.ProtocolError
	if ev.Err != nil && !errors.As(ev.Err, &pe) { // a broken rule is among the frame's problems
		fmt.Fprintf(d.stdout, "  %s %s\n", d.paint(sRed, "error:"), ev.Err)
	}
	fmt.Fprintln(d.stdout)
}

// message reports a whole message received (after its frames were traced).
func (d *dialer) message(op framing.Opcode, p []byte) {
	if d.json {
		v := map[string]any{"event": "message", "dir": "in", "opcode": op.String(), "length": len(p)}
		if op == framing.OpText {
			v["text"] = string(p)
		} else {
			v["hex"] = hex.EncodeToString(p)
		}
		d.event(v)
		return
	}
	body := hexSpaced(p, 32)
	if op == framing.OpText {
		body = fmt.Sprintf("%q", clipText(string(p)))
	}
	d.say(fmt.Sprintf("%s %s message, %d bytes: %s\n", d.paint(sBold+sYellow, "← message"), op, len(p), body))
}
