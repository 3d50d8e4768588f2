package conformance

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/learnws/learnws/framing"
	"github.com/learnws/learnws/handshake"
)

// Options configures [Run]. The zero value runs every case with the
// defaults below.
type Options struct {
	// Cases to run; nil means Cases().
	Cases []Case
	// Only, if not empty, keeps the cases whose ID is one of these or starts
	// with one of them followed by a dot: "6.4" keeps 6.4.1 to 6.4.4, "7"
	// keeps section 7.
	Only []string
	// MaxSize, if not 0, leaves out the cases that send more payload bytes
	// than this (Case.Size): 1 << 20 keeps section 9 to messages of 1 MiB,
	// for a slow machine or the race detector.
	MaxSize int
	// CaseTimeout bounds each case, handshake included: a server that has
	// not reached the expected outcome by then fails the case. 0 means 10 s.
	CaseTimeout time.Duration
	// FailFastWait is how long a fail-fast checkpoint waits for the server
	// to fail the connection before the rest of the message is sent. 0
	// means 500 ms.
	FailFastWait time.Duration
	// CloseWait is how long the client waits, after the closing handshake,
	// for the server to close the TCP connection (§7.1.1) before closing it
	// itself. 0 means 2 s.
	CloseWait time.Duration
	// Parallel is how many cases run at the same time, each on its own
	// connection. 0 means 1.
	Parallel int
	// MaxMessageSize is the largest message accepted from the server. 0
	// means 64 MiB.
	MaxMessageSize int64
	// Rand is the source of masking keys and Sec-WebSocket-Key nonces; nil
	// means crypto/rand. It must be safe for concurrent use when Parallel
	// is above 1.
	Rand io.Reader
	// Progress, if not nil, is called with each result as its case ends
	// (from one goroutine at a time).
	Progress func(Result)
}

func (o *Options) setDefaults() {
	if o.CaseTimeout <= 0 {
		o.CaseTimeout = 10 * time.Second
	}
	if o.FailFastWait <= 0 {
		o.FailFastWait = 500 * time.Millisecond
	}
	if o.CloseWait <= 0 {
		o.CloseWait = 2 * time.Second
	}
	if o.Parallel <= 0 {
		o.Parallel = 1
	}
	if o.MaxMessageSize <= 0 {
		o.MaxMessageSize = 64 << 20
	}
}

// selected reports whether the case with this id is kept by only.
func selected(id string, only []string) bool {
	if len(only) == 0 {
		return true
	}
	for _, p := range only {
		if id == p || strings.HasPrefix(id, p+".") {
			return true
		}
	}
	return false
}

// Run runs the cases against the WebSocket server at url (ws:// or wss://),
// each on a fresh connection opened with handshake.Dial, and returns the
// report. It stops early, marking the remaining cases FAILED, when ctx ends.
func Run(ctx context.Context, url string, opts Options) Report {
	opts.setDefaults()
	all := opts.Cases
	if all == nil {
		all = Cases()
	}
	var cases []*Case
	skipped := 0
	for i := range all {
		switch {
		case !selected(all[i].ID, opts.Only):
		case opts.MaxSize > 0 && all[i].Size > opts.MaxSize:
			skipped++
		default:
			cases = append(cases, &all[i])
		}
	}
	rep := Report{URL: url, Start: time.Now(), Results: make([]Result, len(cases)), LeftOut: skipped}
	var (
		wg     sync.WaitGroup
		progMu sync.Mutex
		next   = make(chan int)
	)
	for range min(opts.Parallel, max(len(cases), 1)) {
		wg.Go(func() {
			for i := range next {
				r := runCase(ctx, url, cases[i], &opts)
				rep.Results[i] = r
				if opts.Progress != nil {
					progMu.Lock()
					opts.Progress(r)
					progMu.Unlock()
				}
			}
		})
	}
	for i := range cases {
		next <- i
	}
	close(next)
	wg.Wait()
	rep.Duration = time.Since(rep.Start)
	return rep
}

// session is one case's connection: the client's writes, and what the
// reader goroutine has seen of the server's frames.
type session struct {
	conn net.Conn
	m    *Masker
	opts *Options

	notify chan struct{} // a token whenever the fields below change

	mu              sync.Mutex
	events          []Event
	close           *CloseFrame
	ended           bool  // the read side has ended
	endErr          error // why: nil for a clean TCP close (EOF) by the server
	violation       string
	barrier         []byte // payload of the barrier ping in flight
	barrierOK       bool   // its pong has come back
	nBarrier        int
	clientCloseSent bool
	clientDropped   bool // the client closed the TCP connection after waiting CloseWait
}

// changed wakes a waiter. The caller holds mu.
func (s *session) changed() {
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

// waitFor waits until cond (called with mu held) is true, the read side has
// ended, ctx ends, or d has passed (d ≤ 0: no limit but ctx). It reports
// whether cond became true.
func (s *session) waitFor(ctx context.Context, d time.Duration, cond func() bool) bool {
	var timeout <-chan time.Time
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	for {
		s.mu.Lock()
		ok, ended := cond(), s.ended
		s.mu.Unlock()
		if ok || ended {
			return ok
		}
		select {
		case <-s.notify:
		case <-ctx.Done():
			return false
		case <-timeout:
			return false
		}
	}
}

// closedOrEnded reports whether the server's close frame has arrived or the
// read side has ended.
func (s *session) closedOrEnded() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.close != nil || s.ended
}

// write writes b, in pieces of chop bytes if chop > 0.
func (s *session) write(b []byte, chop int) error {
	if chop <= 0 {
		_, err := s.conn.Write(b)
		return err
	}
	for len(b) > 0 {
		n := min(chop, len(b))
		if _, err := s.conn.Write(b[:n]); err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

// barrierPing sends a ping of the runner's own and waits for its pong (or
// the server's close). Frames are handled in order (§5.4: the order of
// frames is kept; §5.5.2: a pong answers "as soon as is practical"), so
// once the pong is back, the server has acted on everything sent before.
func (s *session) barrierPing(ctx context.Context) bool {
	s.mu.Lock()
	s.nBarrier++
	p := fmt.Appendf(nil, "conformance barrier %d", s.nBarrier)
	s.barrier, s.barrierOK = p, false
	s.mu.Unlock()
	if err := s.write(s.m.Frame(framing.Header{Fin: true, Opcode: framing.OpPing}, p), 0); err != nil {
		return false
	}
	return s.waitFor(ctx, 0, func() bool { return s.barrierOK || s.close != nil })
}

// sendClose sends the client's close frame with code (CloseNoStatus: no
// body), unless one was sent already.
func (s *session) sendClose(code framing.CloseCode) {
	s.mu.Lock()
	sent := s.clientCloseSent
	s.clientCloseSent = true
	s.mu.Unlock()
	if sent {
		return
	}
	var p []byte
	if code != framing.CloseNoStatus {
		p = framing.AppendClosePayload(nil, code, "")
	}
	s.write(s.m.Frame(framing.Header{Fin: true, Opcode: framing.OpClose}, p), 0) // the server may be gone: ignore errors
}

// awaitClose waits for the server's close frame; answers it if the client
// has not sent one (§5.5.1: "the endpoint MUST send a Close frame in
// response"); then waits up to CloseWait for the server to close the TCP
// connection, and closes it itself otherwise (§7.1.1: "the underlying TCP
// connection, in most normal cases, SHOULD be closed first by the server").
func (s *session) awaitClose(ctx context.Context) {
	s.waitFor(ctx, 0, func() bool { return s.close != nil })
	s.mu.Lock()
	cf := s.close
	s.mu.Unlock()
	if cf == nil {
		return // ended without a close frame, or ctx ended
	}
	if cf.Code.ValidOnWire() {
		s.sendClose(cf.Code)
	} else {
		s.sendClose(framing.CloseNoStatus)
	}
	if !s.waitFor(ctx, s.opts.CloseWait, func() bool { return false }) && ctx.Err() == nil {
		s.mu.Lock()
		if !s.ended {
			s.clientDropped = true
		}
		s.mu.Unlock()
	}
}

// read is the reader goroutine: it reads the server's frames from br and
// records what it sees, checking every rule a client must check (§5.1,
// §5.2, §5.4, §5.5, §8.1) with framing's own Header.Check and
// MessageState, so the suite judges a server by the very rules our server
// is judged by. It answers nothing: the server's pings are recorded as
// events (an echo server has no reason to send any).
func (s *session) read(br *bufio.Reader) {
	var (
		state framing.MessageState // the message being received, §5.4 and §8.1
		msg   []byte
	)
	for {
		h, err := framing.ReadHeader(br)
		if err != nil {
			s.end(err)
			return
		}
		// Limits before allocation, then the header rules.
		if !h.Opcode.IsControl() && h.PayloadLength > uint64(s.opts.MaxMessageSize)-uint64(len(msg)) {
			s.violate(fmt.Sprintf("server sent a message of more than %d bytes (%s)", s.opts.MaxMessageSize, h))
			return
		}
		if errs := h.Check(framing.RoleClient, &state); len(errs) > 0 {
			s.violate(fmt.Sprintf("server sent a broken frame (%s): %s (§%s)", h, errs[0].Reason, errs[0].Rule.Section()))
			return
		}
		p := make([]byte, h.PayloadLength)
		if _, err := io.ReadFull(br, p); err != nil {
			s.end(err)
			return
		}
		s.mu.Lock()
		afterClose := s.close != nil
		s.mu.Unlock()
		if afterClose {
			// §5.5.1: "After sending a Close frame, the endpoint MUST NOT
			// send any more data frames."
			s.violate(fmt.Sprintf("server sent a %s frame after its close frame (§5.5.1)", h.Opcode))
			return
		}
		state.StartFrame(h)
		perr := state.Payload(p)
		op, _ := state.Message()
		if perr == nil {
			perr = state.EndFrame()
		}
		if perr != nil {
			s.violate(fmt.Sprintf("server sent a %s message that breaks §%s: %s", op, perr.Rule.Section(), perr.Reason))
			return
		}
		switch h.Opcode {
		case framing.OpPing:
			s.event(Event{Kind: Ping, Opcode: framing.OpPing, Payload: p, Len: len(p)})
		case framing.OpPong:
			s.mu.Lock()
			if s.barrier != nil && string(p) == string(s.barrier) {
				s.barrier, s.barrierOK = nil, true
				s.changed()
				s.mu.Unlock()
				continue
			}
			s.mu.Unlock()
			s.event(PongFor(p))
		case framing.OpClose:
			code, reason, err := framing.ParseClosePayload(p)
			s.mu.Lock()
			s.close = &CloseFrame{Code: code, Reason: reason, Empty: len(p) == 0, First: !s.clientCloseSent}
			s.changed()
			s.mu.Unlock()
			if err != nil {
				s.violate(fmt.Sprintf("server's close frame is invalid (payload 0x%x): %v", p, err))
				return
			}
		case framing.OpText, framing.OpBinary:
			msg = p
		case framing.OpContinuation:
			msg = append(msg, p...)
		}
		if h.Opcode.IsControl() || !h.Fin {
			continue
		}
		s.event(Event{Kind: Message, Opcode: op, Payload: msg, Len: len(msg)})
		msg = nil
	}
}

func (s *session) event(e Event) {
	s.mu.Lock()
	s.events = append(s.events, e)
	s.changed()
	s.mu.Unlock()
}

func (s *session) violate(why string) {
	s.mu.Lock()
	if s.violation == "" {
		s.violation = why
	}
	s.ended = true
	s.changed()
	s.mu.Unlock()
}

func (s *session) end(err error) {
	if errors.Is(err, io.EOF) {
		err = nil
	}
	s.mu.Lock()
	s.ended, s.endErr = true, err
	s.changed()
	s.mu.Unlock()
}

// runCase runs one case on a fresh connection and grades it.
func runCase(parent context.Context, url string, c *Case, o *Options) (res Result) {
	start := time.Now()
	res = Result{ID: c.ID, Description: c.Description, Status: Failed}
	defer func() { res.Duration = time.Since(start) }()

	ctx, cancel := context.WithTimeout(parent, o.CaseTimeout)
	defer cancel()
	cc, err := handshake.Dial(ctx, url, &handshake.DialOptions{Rand: o.Rand})
	if err != nil {
		res.Detail = "opening handshake failed: " + err.Error()
		return res
	}
	s := &session{conn: cc.Conn, m: &Masker{Rand: o.Rand}, opts: o, notify: make(chan struct{}, 1)}
	if c.Expect.Close == ClientClosed {
		s.clientCloseSent = true // the case's own bytes carry the client's close frame
	}
	// ctx bounds every read and write: when it ends, blocked calls return.
	if dl, ok := ctx.Deadline(); ok {
		cc.Conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { cc.Conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		s.read(cc.Reader)
	}()
	defer func() {
		cc.Conn.Close()
		<-readDone
	}()

	// 1. Send the parts.
	parts := c.Send(s.m)
	checkpoint := -1
	for i, p := range parts {
		if p.FailHere {
			checkpoint = i
		}
	}
	sent := len(parts) // parts written before the server's close stopped us
	failedFast := false
	for i, p := range parts {
		if s.closedOrEnded() {
			sent = i
			break
		}
		if err := s.write(p.Bytes, p.Chop); err != nil {
			// The server may have failed the connection and gone.
			sent = i
			break
		}
		if p.Await > 0 {
			s.waitFor(ctx, 0, func() bool { return len(s.events) >= p.Await || s.close != nil })
		}
		if p.Barrier {
			s.barrierPing(ctx)
		}
		if p.FailHere {
			s.waitFor(ctx, o.FailFastWait, func() bool { return s.close != nil })
			if s.closedOrEnded() {
				failedFast, sent = true, i+1
				break
			}
		}
	}

	// 2. Let the connection end as the case expects.
	notFailed := false // the server acted on the bad bytes without failing
	switch {
	case c.Expect.Close == ClientCloses:
		// A barrier first: whatever the server had to say about our bytes
		// (the echoes, an unexpected pong, a second echo) arrives before its
		// pong. A server that answers out of order gets CloseWait more for
		// the expected events.
		if !s.closedOrEnded() {
			s.barrierPing(ctx)
		}
		n := len(c.Expect.Events)
		s.waitFor(ctx, o.CloseWait, func() bool { return len(s.events) >= n || s.close != nil })
		if !s.closedOrEnded() {
			s.sendClose(framing.CloseNormal)
		}
		s.awaitClose(ctx)
	case c.Expect.Close == ServerFails && !s.closedOrEnded() && s.barrierPing(ctx) && !s.closedOrEnded():
		// The pong proves that the server has read the bad bytes and
		// carried on. Give it CloseWait to change its mind, no more.
		if !s.waitFor(ctx, o.CloseWait, func() bool { return s.close != nil }) {
			notFailed = true
			break
		}
		s.awaitClose(ctx)
	default:
		s.awaitClose(ctx)
	}
	timedOut := ctx.Err() != nil

	// 3. Grade.
	s.mu.Lock()
	defer s.mu.Unlock()
	g := grader{c: c, s: s, o: o}
	g.grade(timedOut, notFailed, sent, checkpoint, failedFast)
	res.Status, res.Detail = g.status, g.detail()
	res.Events = trimEvents(s.events)
	res.Close = s.close
	res.FailedFast = failedFast
	return res
}

// trimEvents copies evs with payloads cut to 64 bytes, so that a report does
// not keep 16 MiB echoes alive.
func trimEvents(evs []Event) []Event {
	out := make([]Event, len(evs))
	for i, e := range evs {
		if len(e.Payload) > 64 {
			e.Payload = slices.Clone(e.Payload[:64])
		}
		out[i] = e
	}
	return out
}

// grader turns what a session saw into a grade: the worst of the grades of
// each aspect (events, close code, who closed, fail-fast, TCP close), with
// a note for every aspect that was not OK.
type grader struct {
	c      *Case
	s      *session
	o      *Options
	status Status
	notes  []string
}

func (g *grader) note(st Status, format string, args ...any) {
	if st > g.status {
		g.status = st
	}
	g.notes = append(g.notes, fmt.Sprintf(format, args...))
}

func (g *grader) detail() string { return strings.Join(g.notes, "; ") }

func (g *grader) grade(timedOut, notFailed bool, sent, checkpoint int, failedFast bool) {
	s, e := g.s, g.c.Expect
	g.status = OK
	if s.violation != "" {
		g.note(Failed, "%s", s.violation)
		return
	}
	if notFailed {
		g.note(Failed, "the server did not fail the connection: it answered a ping sent after the offending bytes; saw %s", eventsString(s.events))
		return
	}
	if timedOut {
		g.note(Failed, "no outcome within %s; saw %s, %s", g.o.CaseTimeout, eventsString(s.events), g.closeText())
		return
	}
	if e.Informational {
		g.status = Informational
		g.notes = append(g.notes, fmt.Sprintf("received %s; %s", eventsString(s.events), g.closeText()))
		return
	}

	// Events.
	switch {
	case eventsEqual(s.events, e.Events):
	case slices.ContainsFunc(e.NonStrict, func(alt []Event) bool { return eventsEqual(s.events, alt) }):
		g.note(NonStrict, "received %s; strictly, %s", eventsString(s.events), eventsString(e.Events))
	default:
		g.note(Failed, "received %s; expected %s", eventsString(s.events), eventsString(e.Events))
	}

	// The close frame.
	cf := s.close
	want := e.Codes
	if e.Close == ClientCloses {
		want = append([]framing.CloseCode{framing.CloseNormal}, want...)
	}
	switch {
	case cf == nil && s.endErr != nil && !errors.Is(s.endErr, syscall.ECONNRESET):
		g.note(Failed, "reading from the server failed: %v", s.endErr)
	case cf == nil && e.Close == ServerFails:
		g.note(NonStrict, "the server dropped the TCP connection without a close frame (§7.1.7: it MAY send one; with code %s it tells the client why)", codesText(want))
	case cf == nil && e.Close == ClientClosed && !slices.Contains(want, framing.CloseNormal):
		g.note(NonStrict, "the server dropped the TCP connection without answering the close frame (expected close %s)", codesText(want))
	case cf == nil:
		g.note(Failed, "the server dropped the TCP connection without a close frame (§5.5.1: it MUST answer a close frame with one)")
	case e.Close == ClientCloses && cf.First:
		g.note(Failed, "the server failed the connection with close %s; nothing was wrong with what was sent", cf)
	case cf.Empty && !slices.Contains(want, framing.CloseNoStatus):
		g.note(NonStrict, "the server's close frame has no status code (expected %s)", codesText(want))
	case !cf.Empty && !slices.Contains(want, cf.Code):
		g.note(Failed, "wrong close code: %s, expected %s", cf, codesText(want))
	}

	// Fail fast.
	if e.FailFast && checkpoint >= 0 {
		switch {
		case sent <= checkpoint:
			g.note(Failed, "the server failed the connection before the invalid bytes were sent (after part %d of %d)", sent, checkpoint+1)
		case !failedFast:
			g.note(NonStrict, "not fail-fast: the server waited %s after the invalid bytes and failed only after the rest of the message", g.o.FailFastWait)
		}
	}

	// TCP close.
	if s.clientDropped {
		g.note(NonStrict, "the server did not close the TCP connection within %s of the closing handshake; the client did (§7.1.1: the server SHOULD close it first)", g.o.CloseWait)
	}
	if g.status == OK {
		g.notes = []string{fmt.Sprintf("received %s; %s", eventsString(s.events), g.closeText())}
		if failedFast {
			g.notes[0] += "; failed fast"
		}
	}
}

// closeText says how the connection ended.
func (g *grader) closeText() string {
	s := g.s
	var b strings.Builder
	switch {
	case s.close == nil:
		b.WriteString("no close frame")
	case s.close.First:
		fmt.Fprintf(&b, "server closed with %s", s.close)
	default:
		fmt.Fprintf(&b, "server answered with close %s", s.close)
	}
	switch {
	case s.clientDropped:
		b.WriteString(", client closed TCP")
	case errors.Is(s.endErr, syscall.ECONNRESET):
		b.WriteString(", TCP reset")
	case s.ended && s.endErr == nil:
		b.WriteString(", server closed TCP")
	case errors.Is(s.endErr, os.ErrDeadlineExceeded):
		b.WriteString(", timed out")
	}
	return b.String()
}

func eventsEqual(a, b []Event) bool {
	return slices.EqualFunc(a, b, Event.equal)
}

func codesText(cs []framing.CloseCode) string {
	var parts []string
	for _, c := range cs {
		if c == framing.CloseNoStatus {
			parts = append(parts, "none")
		} else {
			parts = append(parts, fmt.Sprint(uint16(c)))
		}
	}
	return strings.Join(parts, " or ")
}
