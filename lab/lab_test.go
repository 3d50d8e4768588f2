package lab

import (
	"bufio"
	"context"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/learnws/learnws/framing"
	"github.com/learnws/learnws/handshake"
	"github.com/learnws/learnws/wire"
)

// newTestServer serves the lab on a recording listener, as the site does.
func newTestServer(t testing.TB, lim Limits) (*Lab, *httptest.Server) {
	t.Helper()
	l := New(Options{Limits: lim})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ws/lab", l.ServeWS)
	mux.HandleFunc("GET /api/lab/events/{id}", func(w http.ResponseWriter, r *http.Request) { l.ServeEvents(w, r, r.PathValue("id")) })
	mux.HandleFunc("POST /api/lab/decode", l.ServeDecode)
	mux.HandleFunc("POST /api/lab/check-handshake", l.ServeCheck)
	srv := httptest.NewUnstartedServer(mux)
	srv.Listener = wire.NewListener(srv.Listener, wire.Options{RecordLimit: 16 << 10})
	srv.Config.ConnContext = wire.ConnContext
	srv.Start()
	t.Cleanup(func() {
		l.Close()
		srv.Close()
	})
	return l, srv
}

type labClient struct {
	cc   *handshake.ClientConn
	conn *framing.Conn
	id   string
}

func dialLab(t testing.TB, srv *httptest.Server) *labClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cc, err := handshake.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/ws/lab", nil)
	if err != nil {
		t.Fatal(err)
	}
	c := framing.NewConn(cc.Conn, cc.Reader, framing.RoleClient, nil)
	op, p, err := c.ReadMessage()
	if err != nil || op != framing.OpText {
		t.Fatalf("welcome: %v %v", op, err)
	}
	var w struct{ Lab, ID string }
	if err := json.Unmarshal(p, &w); err != nil || w.Lab != "session" || w.ID == "" {
		t.Fatalf("welcome %q: %v", p, err)
	}
	return &labClient{cc: cc, conn: c, id: w.ID}
}

// stream reads a session's events.
type stream struct {
	resp *http.Response
	sc   *bufio.Scanner
}

func openStream(t testing.TB, srv *httptest.Server, id string) *stream {
	t.Helper()
	req, _ := http.NewRequest("GET", srv.URL+"/api/lab/events/"+id, nil)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("events: %s", resp.Status)
	}
	t.Cleanup(func() { resp.Body.Close() })
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	return &stream{resp: resp, sc: sc}
}

// next returns the next event (bounded by the response being closed).
func (s *stream) next(t testing.TB) *Event {
	t.Helper()
	named := false
	for s.sc.Scan() {
		line := s.sc.Text()
		if line == "" {
			named = false
			continue
		}
		if strings.HasPrefix(line, "event: ") {
			named = true // "watchers", "lost": not trace events
			continue
		}
		if data, ok := strings.CutPrefix(line, "data: "); ok && !named {
			var ev Event
			if err := json.Unmarshal([]byte(data), &ev); err != nil {
				t.Fatalf("event %q: %v", data, err)
			}
			return &ev
		}
	}
	t.Fatalf("stream ended: %v", s.sc.Err())
	return nil
}

// until reads events until match returns true.
func (s *stream) until(t testing.TB, match func(*Event) bool) *Event {
	t.Helper()
	deadline := time.AfterFunc(10*time.Second, func() { s.resp.Body.Close() })
	defer deadline.Stop()
	for {
		ev := s.next(t)
		if match(ev) {
			return ev
		}
	}
}

func TestLabShowsTheWireBytes(t *testing.T) {
	_, srv := newTestServer(t, Limits{})
	c := dialLab(t, srv)
	st := openStream(t, srv, c.id)

	// The handshake exactly as the client sent it.
	req := st.until(t, func(e *Event) bool { return e.Kind == "handshake" && e.Dir == "in" })
	if !req.Handshake.Exact || req.Handshake.Raw != string(c.cc.RequestBytes) {
		t.Errorf("request shown (exact=%v):\n%q\nsent:\n%q", req.Handshake.Exact, req.Handshake.Raw, c.cc.RequestBytes)
	}
	if d := req.Handshake.Derivation; d == nil || d.Key != c.cc.Key || d.Accept != handshake.Accept(c.cc.Key) {
		t.Errorf("derivation %+v", d)
	}
	res := st.until(t, func(e *Event) bool { return e.Kind == "handshake" && e.Dir == "out" })
	if !res.Handshake.Exact || res.Handshake.Raw != string(c.cc.ResponseBytes) {
		t.Errorf("response shown:\n%q\nreceived:\n%q", res.Handshake.Raw, c.cc.ResponseBytes)
	}

	if err := c.conn.WriteMessage(framing.OpText, []byte("Hello")); err != nil {
		t.Fatal(err)
	}
	in := st.until(t, func(e *Event) bool { return e.Kind == "frame" && e.Dir == "in" })
	f := in.Frame
	if f.Length != 11 || !strings.HasPrefix(f.Hex, "8185") || f.Payload != hex.EncodeToString([]byte("Hello")) || f.Text == nil || *f.Text != "Hello" {
		t.Errorf("client frame: %+v", f)
	}
	out := st.until(t, func(e *Event) bool {
		return e.Kind == "frame" && e.Dir == "out" && e.Frame.Text != nil && *e.Frame.Text == "Hello"
	})
	if out.Frame.Hex != "810548656c6c6f" {
		t.Errorf("echo frame %s", out.Frame.Hex)
	}

	// 200 bytes: the 16-bit length form.
	c.conn.WriteMessage(framing.OpBinary, make([]byte, 200))
	in = st.until(t, func(e *Event) bool { return e.Kind == "frame" && e.Dir == "in" })
	if !strings.HasPrefix(in.Frame.Hex, "82fe00c8") || in.Frame.LengthBytes != 2 {
		t.Errorf("200-byte frame: %s", in.Frame.Hex[:12])
	}
	// 70000 bytes: the 64-bit form; only the first bytes are kept.
	c.conn.WriteMessage(framing.OpBinary, make([]byte, 70000))
	in = st.until(t, func(e *Event) bool { return e.Kind == "frame" && e.Dir == "in" })
	if !strings.HasPrefix(in.Frame.Hex, "82ff0000000000011170") || in.Frame.PayloadLength != 70000 || in.Frame.Shown != DefaultLimits.FrameShow {
		t.Errorf("70000-byte frame: %s… shown %d", in.Frame.Hex[:20], in.Frame.Shown)
	}
	for _, want := range []int{5, 200, 70000} {
		if _, p, err := c.conn.ReadMessage(); err != nil || len(p) != want {
			t.Fatalf("echo of %d: %d %v", want, len(p), err)
		}
	}

	// A fragmented message: continuations are text and legal.
	c.conn.WriteMessage(framing.OpText, []byte("/fragment héllo wörld"))
	var frags []*FrameJSON
	st.until(t, func(e *Event) bool {
		if e.Kind == "frame" && e.Dir == "out" && e.Frame.Opcode != int(framing.OpPing) && e.Frame.Opcode != int(framing.OpBinary) {
			frags = append(frags, e.Frame)
		}
		return len(frags) == 3
	})
	for i, f := range frags {
		if len(f.Problems) > 0 || f.Text == nil {
			t.Errorf("fragment %d: %+v", i, f)
		}
	}

	// The server closes with a chosen code.
	c.conn.WriteMessage(framing.OpText, []byte("/close 4000 bye now"))
	cl := st.until(t, func(e *Event) bool { return e.Kind == "frame" && e.Dir == "out" && e.Frame.Opcode == 8 })
	if cl.Frame.CloseCode == nil || *cl.Frame.CloseCode != 4000 || *cl.Frame.CloseReason != "bye now" {
		t.Errorf("close frame %+v", cl.Frame)
	}
	st.until(t, func(e *Event) bool { return e.Kind == "closed" })
}

func TestBadClientScripts(t *testing.T) {
	l, srv := newTestServer(t, Limits{})
	c := dialLab(t, srv)
	st := openStream(t, srv, c.id)
	s := l.Session(c.id)
	for _, sc := range Scripts {
		t.Run(sc.Name, func(t *testing.T) {
			done := make(chan struct{})
			go func() { l.RunScript(s, sc.Name); close(done) }()
			label := "bad:" + sc.Name
			var sawReq bool
			var closeFrame *FrameJSON
			ev := st.until(t, func(e *Event) bool {
				if e.Conn != label {
					return false
				}
				if e.Kind == "handshake" && e.Dir == "in" && strings.HasPrefix(e.Handshake.Raw, "GET /ws/lab HTTP/1.1\r\n") {
					sawReq = true
				}
				if e.Kind == "frame" && e.Dir == "out" && e.Frame.Opcode == 8 {
					closeFrame = e.Frame
				}
				return e.Kind == "closed"
			})
			<-done
			if !sawReq {
				t.Error("no handshake request in the transcript")
			}
			if ev.Close == nil || ev.Close.Code != int(sc.Expect) || ev.Close.Remote {
				t.Errorf("closed: %+v, want %d from the server", ev.Close, sc.Expect)
			}
			if closeFrame == nil || closeFrame.CloseCode == nil || *closeFrame.CloseCode != int(sc.Expect) {
				t.Errorf("server's close frame: %+v", closeFrame)
			}
		})
	}
}

func TestSlowSubscriberIsCutOffNotWaitedFor(t *testing.T) {
	r := NewRegistry(Limits{QueueLen: 4})
	defer r.Close()
	s, err := r.open("192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	slow, _, _, _ := s.subscribe(0)
	start := time.Now()
	for i := 0; i < 100; i++ {
		s.Publish(&Event{Kind: "note", Note: "x"})
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("publishing took %v", d)
	}
	select {
	case <-slow.gone:
	default:
		t.Fatal("a subscriber that does not read was not cut off")
	}
	// It comes back (Last-Event-ID) and gets what the trace kept.
	_, backlog, lost, err := s.subscribe(2)
	if err != nil || len(backlog) != 98 || lost != 0 {
		t.Errorf("resume: %d events, %d lost, %v", len(backlog), lost, err)
	}
}

func TestTraceIsBounded(t *testing.T) {
	r := NewRegistry(Limits{TraceEvents: 10, TraceBytes: 1 << 20})
	defer r.Close()
	s, _ := r.open("192.0.2.1")
	for i := 0; i < 50; i++ {
		s.Publish(&Event{Kind: "note", Note: strings.Repeat("x", 100)})
	}
	_, backlog, lost, _ := s.subscribe(0)
	if len(backlog) != 10 || lost != 40 || backlog[0].seq != 41 {
		t.Errorf("kept %d, lost %d", len(backlog), lost)
	}
	r2 := NewRegistry(Limits{TraceBytes: 2000})
	defer r2.Close()
	s2, _ := r2.open("192.0.2.1")
	for i := 0; i < 50; i++ {
		s2.Publish(&Event{Kind: "note", Note: strings.Repeat("x", 500)})
	}
	if s2.ringBytes > 2000 {
		t.Errorf("trace holds %d bytes", s2.ringBytes)
	}
}

func TestLimits(t *testing.T) {
	r := NewRegistry(Limits{MaxSessionsPerAddr: 2, IdleTimeout: 50 * time.Millisecond})
	defer r.Close()
	a, _ := r.open("192.0.2.1")
	r.open("192.0.2.1")
	if _, err := r.open("192.0.2.1"); err != ErrAddrSessions {
		t.Errorf("third session: %v", err)
	}
	if _, err := r.open("192.0.2.2"); err != nil {
		t.Errorf("other address: %v", err)
	}
	// Idle sessions are closed, then forgotten.
	closed := make(chan struct{})
	a.setCloser(func(reason string) {
		if reason != idleReason {
			t.Errorf("idle session closed with reason %q, want %q", reason, idleReason)
		}
		close(closed)
		a.socketDone()
	})
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("idle session not closed")
	}
	deadline := time.Now().Add(5 * time.Second)
	for r.Get(a.ID) != nil {
		if time.Now().After(deadline) {
			t.Fatal("idle session not forgotten")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestMessageCap(t *testing.T) {
	_, srv := newTestServer(t, Limits{MaxMessage: 100 << 10})
	c := dialLab(t, srv)
	c.conn.WriteMessage(framing.OpBinary, make([]byte, 200<<10))
	_, _, err := c.conn.ReadMessage()
	var ce *framing.CloseError
	if !asCloseError(err, &ce) || ce.Code != framing.CloseMessageTooBig {
		t.Errorf("got %v, want 1009", err)
	}
}

func asCloseError(err error, ce **framing.CloseError) bool {
	e, ok := err.(*framing.CloseError)
	*ce = e
	return ok
}
