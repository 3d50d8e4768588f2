package lab

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/learnws/learnws/framing"
	"github.com/learnws/learnws/handshake"
	"github.com/learnws/learnws/wire"
)

// Options configure a Lab.
type Options struct {
	Limits Limits
	// TrackConn, if set, registers every lab connection with the server so
	// that shutdown can close it with 1001; it returns the function that
	// unregisters it.
	TrackConn func(*framing.Conn) (untrack func())
	Logger    *slog.Logger
}

// Lab serves the live byte lab: the lab socket, its event streams, the
// decoder, the frame builder and the handshake checker. Its handlers are
// plain net/http handlers; the site mounts them.
type Lab struct {
	reg *Registry
	opt Options
	log *slog.Logger
}

// New returns a Lab. Close it when the server stops.
func New(opt Options) *Lab {
	l := &Lab{reg: NewRegistry(opt.Limits), opt: opt, log: opt.Logger}
	if l.log == nil {
		l.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return l
}

// Close ends every session: sockets are closed, event streams end.
func (l *Lab) Close() { l.reg.Close() }

// Registry exposes the sessions (tests, status pages).
func (l *Lab) Registry() *Registry { return l.reg }

// Session returns the session with id, or nil.
func (l *Lab) Session(id string) *Session { return l.reg.Get(id) }

func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// ServeWS is the lab socket (GET /ws/lab; any other method gets 405). It always runs our own
// handshake/ and framing/ code. What it does with messages:
//
//   - a text message starting with "/" is a command: "/ping [payload]",
//     "/fragment [text]", "/close CODE [reason]", "/bad SCRIPT";
//   - any other message is echoed back, same type, same bytes.
//
// The first message the server sends is {"lab":"session","id":…}: the page
// needs the id to open the event stream, and it is a frame like any other.
func (l *Lab) ServeWS(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		// The handshake's own answer, as /ws/echo gives it: 405 with "Allow:
		// GET" (RFC 6455 §4.2.1 item 1). No session is opened for it.
		handshake.Upgrade(w, r, &handshake.Policy{})
		return
	}
	s, err := l.reg.open(remoteIP(r))
	if err != nil {
		http.Error(w, err.Error(), http.StatusTooManyRequests)
		return
	}
	// The same-origin default: the lab socket is for our own pages.
	conn, br, resp, err := handshake.Upgrade(w, r, &handshake.Policy{})
	if err != nil {
		s.socketDone()
		s.reg.forget(s)
		return
	}
	lim := l.reg.lim
	s.Publish(&Event{Conn: "lab", Kind: "session", Session: &SessionInfo{ID: s.ID, MaxMessage: lim.MaxMessage, FrameShow: lim.FrameShow}})

	// The handshake bytes, as the recording listener saw them.
	reqRaw, respRaw, exact := handshakeBytes(r, resp)
	s.Publish(&Event{Conn: "lab", Kind: "handshake", Dir: "in", Handshake: labHandshakeJSON(reqRaw, exact, true)})
	s.Publish(&Event{Conn: "lab", Kind: "handshake", Dir: "out", Handshake: labHandshakeJSON(respRaw, exact, false)})

	var pre []byte
	if n := br.Buffered(); n > 0 {
		pre, _ = br.Peek(n)
		pre = append([]byte(nil), pre...)
	}
	l.serveConn(s, "lab", conn, pre, false, true)
}

// serveConn runs the lab protocol on conn (the server side). head says the
// HTTP handshake has still to be read from conn (the scripted clients);
// welcome says whether to send the session message.
func (l *Lab) serveConn(s *Session, label string, conn net.Conn, pre []byte, head, welcome bool) {
	lim := l.reg.lim
	in := l.splitter(s, label, "in", head)
	out := l.splitter(s, label, "out", head)
	t := newTap(conn, pre, in, out)
	defer func() { in.flush(); out.flush() }()

	var br *bufio.Reader
	if head {
		br = bufio.NewReader(t)
		req, err := http.ReadRequest(br)
		if err != nil {
			t.Close()
			return
		}
		resp, err := (&handshake.Policy{}).Respond(req)
		if err != nil {
			var he *handshake.Error
			msg := err.Error()
			status := http.StatusBadRequest
			if errors.As(err, &he) {
				status = he.Status
			}
			fmt.Fprintf(t, "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", status, http.StatusText(status), len(msg), msg)
			t.Close()
			return
		}
		if _, err := t.Write(resp.AppendTo(nil)); err != nil {
			t.Close()
			return
		}
	}

	opt := &framing.Options{MaxMessageSize: lim.MaxMessage}
	if label == "lab" {
		// Every frame the lab writes to the owner (echo, pong, ping, close)
		// may take this long, so an owner whose page stops reading cannot
		// hold the socket's goroutine, and a quiet socket can still answer a
		// ping. (A scripted client's in-memory connection keeps the one
		// deadline RunScript gives the whole script.)
		opt.WriteTimeout = lim.WriteTimeout
	}
	fc := framing.NewConn(t, br, framing.RoleServer, opt)
	if label == "lab" {
		if l.opt.TrackConn != nil {
			untrack := l.opt.TrackConn(fc)
			defer untrack()
		}
		s.setCloser(func(reason string) { go fc.Close(framing.CloseGoingAway, reason) })
		defer s.socketDone()
	}
	if welcome {
		s.Publish(&Event{Conn: label, Kind: "note", NoteKey: "welcome", Note: "The server's first message tells the page its session id, so that the page can open the event stream that brings these annotations."})
		msg, _ := json.Marshal(map[string]string{"lab": "session", "id": s.ID})
		if err := fc.WriteMessage(framing.OpText, msg); err != nil {
			t.Close()
			return
		}
	}
	pace := newPacer(lim.MessageRate)
	for {
		pace.wait()
		op, p, err := fc.ReadMessage()
		if err != nil {
			ev := &Event{Conn: label, Kind: "closed"}
			var ce *framing.CloseError
			if errors.As(err, &ce) {
				ev.Close = &CloseJSON{Code: int(ce.Code), Name: ce.Code.String(), Reason: ce.Reason, Remote: ce.Remote}
			} else {
				ev.Note = err.Error()
			}
			in.flush()
			out.flush()
			s.Publish(ev)
			t.Close()
			return
		}
		s.touch()
		if op == framing.OpText && len(p) > 0 && p[0] == '/' && label == "lab" {
			if l.command(s, fc, string(p)) {
				continue
			}
		}
		if err := fc.WriteMessage(op, p); err != nil {
			t.Close()
			return
		}
	}
}

func (l *Lab) splitter(s *Session, label, dir string, head bool) *splitter {
	lim := l.reg.lim
	sp := &splitter{head: head, keep: int(lim.MaxMessage)}
	sp.onHead = func(raw []byte, at time.Time) {
		s.Publish(&Event{Time: at, Conn: label, Kind: "handshake", Dir: dir, Handshake: labHandshakeJSON(raw, true, dir == "in")})
	}
	var state framing.MessageState // this direction's conversation, as the Conn follows it
	sp.onFrame = func(raw []byte, complete bool, off int64, at time.Time) {
		ev := &Event{Time: at, Conn: label, Kind: "frame", Dir: dir}
		ev.Frame, ev.Bytes = annotate(raw, dir, &state)
		if ev.Frame == nil {
			ev.Kind = "bytes"
		} else {
			ev.Frame.StreamOffset = off
			ev.Frame.clip(lim.FrameShow)
		}
		s.Publish(ev)
	}
	return sp
}

// command runs a lab command; false means "not a command": echo it.
func (l *Lab) command(s *Session, fc *framing.Conn, cmd string) bool {
	name, arg, _ := strings.Cut(cmd, " ")
	switch name {
	case "/ping":
		if arg == "" {
			arg = "are you there?"
		}
		if len(arg) > framing.MaxControlPayload {
			arg = arg[:framing.MaxControlPayload]
		}
		fc.Ping([]byte(arg))
	case "/fragment":
		if arg == "" {
			arg = "Hello, fragmented world!"
		}
		// Three fragments, with a ping between the first two: control
		// frames may come between the fragments of a message (§5.4).
		b := []byte(arg)
		cut1, cut2 := len(b)/3, 2*len(b)/3
		for cut1 > 0 && !utf8.RuneStart(b[cut1]) {
			cut1--
		}
		for cut2 > cut1 && cut2 < len(b) && !utf8.RuneStart(b[cut2]) {
			cut2--
		}
		fc.WriteFrame(framing.Header{Opcode: framing.OpText}, b[:cut1])
		fc.Ping([]byte("between fragments"))
		fc.WriteFrame(framing.Header{Opcode: framing.OpContinuation}, b[cut1:cut2])
		fc.WriteFrame(framing.Header{Fin: true, Opcode: framing.OpContinuation}, b[cut2:])
	case "/close":
		codeStr, reason, _ := strings.Cut(arg, " ")
		code := framing.CloseNormal
		if n, err := strconv.Atoi(codeStr); err == nil && n >= 0 && n < 1<<16 {
			code = framing.CloseCode(n)
		}
		if len(reason) > 123 {
			reason = reason[:123]
		}
		if !code.ValidOnWire() {
			// The learner asked for a code that may not be sent; say so in
			// band rather than send an illegal frame.
			fc.WriteMessage(framing.OpText, []byte(fmt.Sprintf("close code %d may not be sent in a close frame (RFC 6455 §7.4)", code)))
			return true
		}
		go fc.Close(code, strings.ToValidUTF8(reason, ""))
	case "/bad":
		script := strings.TrimSpace(arg)
		if _, ok := scriptByName(script); !ok {
			fc.WriteMessage(framing.OpText, []byte("unknown script; try one of: "+strings.Join(ScriptNames(), ", ")))
			return true
		}
		if !s.scriptBusy.CompareAndSwap(false, true) {
			fc.WriteMessage(framing.OpText, []byte("a scripted client is still running; wait for it to finish"))
			return true
		}
		go func() {
			defer s.scriptBusy.Store(false)
			l.RunScript(s, script)
		}()
	default:
		return false
	}
	return true
}

// handshakeBytes finds the upgrade request and the 101 response in what the
// recording listener kept of this connection. Without a recording (a server
// not started on a wire.Listener), it rebuilds them and says so.
func handshakeBytes(r *http.Request, resp *handshake.Response) (req, res []byte, exact bool) {
	res = resp.AppendTo(nil)
	wc := wire.FromContext(r.Context())
	if wc == nil {
		return rebuildRequest(r), res, false
	}
	in, out := wc.Recorded()
	wc.SetRecordLimit(0) // the tap takes over from here
	key := r.Header.Get("Sec-WebSocket-Key")
	prefix := []byte(r.Method + " " + r.RequestURI + " ")
	found := false
	for end := len(in); end > 0; {
		i := bytes.LastIndex(in[:end], prefix)
		if i < 0 {
			break
		}
		if i == 0 || in[i-1] == '\n' {
			if j := bytes.Index(in[i:], []byte("\r\n\r\n")); j >= 0 && bytes.Contains(in[i:i+j], []byte(key)) {
				req, found = in[i:i+j+4], true
				break
			}
		}
		end = i
	}
	if !found {
		return rebuildRequest(r), res, false
	}
	if i := bytes.LastIndex(out, []byte("HTTP/1.1 101 ")); i >= 0 {
		if j := bytes.Index(out[i:], []byte("\r\n\r\n")); j >= 0 {
			return req, out[i : i+j+4], true
		}
	}
	return req, res, false
}

func rebuildRequest(r *http.Request) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s %s\r\nHost: %s\r\n", r.Method, r.RequestURI, r.Proto, r.Host)
	r.Header.Write(&b)
	b.WriteString("\r\n")
	return b.Bytes()
}

// ServeEvents is the event stream of a session (GET
// /api/lab/events/{id}): Server-Sent Events, one JSON Event each, id = seq.
// A client reconnecting with Last-Event-ID (EventSource does it by itself)
// gets what it missed, as far as the trace still holds it.
func (l *Lab) ServeEvents(w http.ResponseWriter, r *http.Request, id string) {
	s := l.reg.Get(id)
	if s == nil {
		http.Error(w, ErrNoSession.Error(), http.StatusNotFound)
		return
	}
	addr := remoteIP(r)
	if !l.reg.addStream(addr) {
		http.Error(w, ErrTooManyStreams.Error(), http.StatusTooManyRequests)
		return
	}
	defer l.reg.dropStream(addr)
	if wc := wire.FromContext(r.Context()); wc != nil {
		wc.SetRecordLimit(0) // a stream's bytes are not shown anywhere: keep no copy
	}
	var after uint64
	if v := r.Header.Get("Last-Event-ID"); v != "" {
		after, _ = strconv.ParseUint(v, 10, 64)
	} else if v := r.URL.Query().Get("after"); v != "" {
		after, _ = strconv.ParseUint(v, 10, 64)
	}
	sub, backlog, lost, err := s.subscribe(after)
	if err != nil {
		http.Error(w, err.Error(), http.StatusTooManyRequests)
		return
	}
	defer s.unsubscribe(sub)

	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	lim := l.reg.lim
	bw := bufio.NewWriterSize(w, 16<<10)
	write := func(st stored) {
		if st.event != "" {
			bw.WriteString("event: ")
			bw.WriteString(st.event)
			bw.WriteString("\ndata: ")
			bw.Write(st.data)
			bw.WriteString("\n\n")
			return
		}
		bw.WriteString("id: ")
		bw.WriteString(strconv.FormatUint(st.seq, 10))
		bw.WriteString("\ndata: ")
		bw.Write(st.data)
		bw.WriteString("\n\n")
	}
	flush := func() bool {
		rc.SetWriteDeadline(time.Now().Add(lim.WriteTimeout))
		if bw.Flush() != nil {
			return false
		}
		return rc.Flush() == nil
	}
	bw.WriteString("retry: 1000\n\n")
	if lost > 0 {
		fmt.Fprintf(bw, "event: lost\ndata: %d\n\n", lost)
	}
	for _, st := range backlog {
		write(st)
	}
	if !flush() {
		return
	}
	heartbeat := time.NewTicker(15 * time.Second)
	defer heartbeat.Stop()
	// Events are written as they come but flushed at most every
	// flushEvery: a spectator a few milliseconds behind is still live, and
	// a hundred of them then cost a hundred wake-ups per tick, not a
	// hundred per frame — CPU the owner's session keeps.
	flushT := time.NewTimer(time.Hour)
	flushT.Stop()
	pending := false
	for {
		select {
		case st := <-sub.ch:
			write(st)
			if flushEvery <= 0 {
				for more := true; more; {
					select {
					case st := <-sub.ch:
						write(st)
					default:
						more = false
					}
				}
				if !flush() {
					return
				}
			} else if !pending {
				pending = true
				flushT.Reset(flushEvery)
			}
		case <-flushT.C:
			pending = false
			if !flush() {
				return
			}
		case <-heartbeat.C:
			bw.WriteString(": keep-alive\n\n")
			if !flush() {
				return
			}
		case <-sub.gone:
			return
		case <-r.Context().Done():
			return
		}
	}
}

// flushEvery is how long an event may wait in a stream's buffer (0: flush
// as soon as the queue is empty).
var flushEvery = 25 * time.Millisecond

// writeJSON answers with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// maxPaste bounds what the decoder and the checker read from a request.
const maxPaste = 1 << 20

// maxDecode bounds the bytes the decoder annotates.
const maxDecode = 64<<10 + 64

func readBody(w http.ResponseWriter, r *http.Request, v any) bool {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "use POST"})
		return false
	}
	body := http.MaxBytesReader(w, r.Body, maxPaste)
	if err := json.NewDecoder(body).Decode(v); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "the request body must be JSON: " + err.Error()})
		return false
	}
	return true
}

// ServeDecode is the decoder (POST /api/lab/decode, {"hex": "…"}): the
// pasted text is read as hex (see ParseHex) and every frame annotated. When
// the text stops being hex, the bytes before that point are still decoded,
// with hex_error saying where and why.
func (l *Lab) ServeDecode(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Hex string `json:"hex"`
	}
	if !readBody(w, r, &in) {
		return
	}
	b, err := ParseHex(in.Hex)
	var he *HexError
	if err != nil && !errors.As(err, &he) {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	truncated := false
	if len(b) > maxDecode {
		b, truncated = b[:maxDecode], true
	}
	d := Decode(b)
	d.HexError = he
	d.Truncated = truncated
	writeJSON(w, http.StatusOK, d)
}

// BuildRequest is the frame builder's input.
type BuildRequest struct {
	Fin        bool   `json:"fin"`
	Rsv1       bool   `json:"rsv1"`
	Rsv2       bool   `json:"rsv2"`
	Rsv3       bool   `json:"rsv3"`
	Opcode     int    `json:"opcode"`
	Mask       bool   `json:"mask"`
	MaskingKey string `json:"masking_key"` // 8 hex digits; "" = random
	Payload    string `json:"payload"`
	PayloadHex bool   `json:"payload_hex"` // Payload is hex, not text
	CloseCode  *int   `json:"close_code"`  // for opcode 8: code then Payload as reason
	LengthForm int    `json:"length_form"` // 0 minimal, 2 force 16-bit, 8 force 64-bit
}

// ServeBuild builds a frame from fields (POST /api/lab/build) and answers
// with the decoder's JSON for its bytes.
func (l *Lab) ServeBuild(w http.ResponseWriter, r *http.Request) {
	var in BuildRequest
	if !readBody(w, r, &in) {
		return
	}
	b, err := Build(in)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, Decode(b))
}

// Build turns the builder's fields into frame bytes.
func Build(in BuildRequest) ([]byte, error) {
	if in.Opcode < 0 || in.Opcode > 15 {
		return nil, fmt.Errorf("lab: opcode %d does not fit in 4 bits (0-15)", in.Opcode)
	}
	var payload []byte
	if in.PayloadHex {
		if strings.TrimSpace(in.Payload) != "" {
			p, err := ParseHex(in.Payload)
			if err != nil {
				return nil, err
			}
			payload = p
		}
	} else {
		payload = []byte(in.Payload)
	}
	if in.CloseCode != nil {
		if *in.CloseCode < 0 || *in.CloseCode > 65535 {
			return nil, fmt.Errorf("lab: close code %d does not fit in 2 bytes", *in.CloseCode)
		}
		payload = append([]byte{byte(*in.CloseCode >> 8), byte(*in.CloseCode)}, payload...)
	}
	if len(payload) > maxDecode {
		return nil, fmt.Errorf("lab: the builder makes payloads up to %d bytes", maxDecode)
	}
	h := framing.Header{Fin: in.Fin, Rsv1: in.Rsv1, Rsv2: in.Rsv2, Rsv3: in.Rsv3, Opcode: framing.Opcode(in.Opcode), Masked: in.Mask, PayloadLength: uint64(len(payload))}
	switch in.LengthForm {
	case 0, 2, 8:
		h.LengthBytes = in.LengthForm
	default:
		return nil, fmt.Errorf("lab: length form must be 0 (minimal), 2 or 8 bytes")
	}
	if in.Mask {
		if in.MaskingKey == "" {
			if _, err := rand.Read(h.MaskingKey[:]); err != nil {
				return nil, err
			}
		} else {
			k, err := ParseHex(in.MaskingKey)
			if err != nil || len(k) != 4 {
				return nil, fmt.Errorf("lab: the masking key is 4 bytes: 8 hex digits")
			}
			copy(h.MaskingKey[:], k)
		}
	}
	return framing.AppendFrame(nil, h, payload), nil
}
