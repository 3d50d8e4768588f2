package conformance

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/learnws/learnws/framing"
	"github.com/learnws/learnws/handshake"
)

// The UTF-8 table says of each sequence whether it is valid; the standard
// library must agree (it implements RFC 3629, as §5.6 requires).
func TestUTF8TableAgreesWithUnicodeUTF8(t *testing.T) {
	for i, g := range utf8Groups() {
		for j, s := range g.Seqs {
			if got := utf8.Valid(s.Bytes); got != s.Valid {
				t.Errorf("6.%d.%d (%s) 0x%x: table says valid=%v, unicode/utf8 says %v", i+5, j+1, g.Name, s.Bytes, s.Valid, got)
			}
		}
	}
}

// The case counts per UTF-8 subsection are Autobahn's, so IDs line up with
// its reports.
func TestUTF8TableMatchesAutobahnNumbering(t *testing.T) {
	want := []int{5, 11, 4, 2, 4, 3, 5, 8, 5, 10, 1, 3, 5, 5, 5, 7, 8, 34, 7} // 6.5 … 6.23
	gs := utf8Groups()
	if len(gs) != len(want) {
		t.Fatalf("%d groups, want %d", len(gs), len(want))
	}
	for i, g := range gs {
		if len(g.Seqs) != want[i] {
			t.Errorf("6.%d %s: %d sequences, want %d", i+5, g.Name, len(g.Seqs), want[i])
		}
	}
}

// Every case has a unique ID and a description, and sends only masked frames
// (§5.1: "a client MUST mask all frames that it sends to the server") unless
// it is 10.2.x, which breaks that rule on purpose.
func TestCaseTable(t *testing.T) {
	seen := map[string]bool{}
	m := &Masker{}
	for _, c := range Cases() {
		if seen[c.ID] {
			t.Errorf("duplicate case ID %s", c.ID)
		}
		seen[c.ID] = true
		if c.Description == "" || c.Send == nil {
			t.Errorf("case %s: no description or no bytes", c.ID)
			continue
		}
		if strings.HasPrefix(c.ID, "9.") {
			continue // large; built the same way as the others
		}
		var b []byte
		for _, p := range c.Send(m) {
			b = append(b, p.Bytes...)
		}
		for len(b) > 0 {
			h, n, err := framing.ParseHeader(b)
			if err != nil {
				t.Errorf("case %s: %v", c.ID, err)
				break
			}
			if !h.Masked && !strings.HasPrefix(c.ID, "10.2.") {
				t.Errorf("case %s: unmasked frame %s", c.ID, h)
			}
			if h.PayloadLength > uint64(len(b)-n) {
				break // 10.3.x: a header whose payload never comes
			}
			b = b[n+int(h.PayloadLength):]
		}
	}
}

func TestSelected(t *testing.T) {
	for _, tc := range []struct {
		id   string
		only []string
		want bool
	}{
		{"6.4.1", nil, true},
		{"6.4.1", []string{"6.4"}, true},
		{"6.41.1", []string{"6.4"}, false},
		{"7.1.1", []string{"6", "7"}, true},
		{"5.9", []string{"5.9"}, true},
		{"5.19", []string{"5.1"}, false},
	} {
		if got := selected(tc.id, tc.only); got != tc.want {
			t.Errorf("selected(%q, %q) = %v, want %v", tc.id, tc.only, got, tc.want)
		}
	}
}

// laxEcho is a deliberately careless echo server: it checks nothing, echoes
// every data frame as it came (fragments, RSV bits, reserved opcodes and
// invalid UTF-8 included), answers pings and close frames. The suite must
// grade it FAILED where a strict server is OK.
func laxEcho(w http.ResponseWriter, r *http.Request) { laxServer(w, r, false) }

// laxServer is laxEcho; with keepOpen it also leaves the TCP connection open
// after the closing handshake, for the client to close.
func laxServer(w http.ResponseWriter, r *http.Request, keepOpen bool) {
	conn, br, _, err := handshake.Upgrade(w, r, &handshake.Policy{AnyOrigin: true})
	if err != nil {
		return
	}
	defer conn.Close()
	for {
		h, err := framing.ReadHeader(br)
		if err != nil || h.PayloadLength > 1<<20 {
			return
		}
		p := make([]byte, h.PayloadLength)
		if _, err := io.ReadFull(br, p); err != nil {
			return
		}
		framing.Mask(h.MaskingKey, 0, p)
		h.Masked, h.MaskingKey = false, [4]byte{}
		switch h.Opcode {
		case framing.OpPing:
			h.Opcode = framing.OpPong
		case framing.OpPong:
			continue
		}
		conn.Write(framing.AppendFrame(nil, h, p))
		if h.Opcode == framing.OpClose {
			if keepOpen {
				io.Copy(io.Discard, br) // until the client closes
			}
			return
		}
	}
}

func TestLaxServerFails(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(laxEcho))
	defer srv.Close()
	url := "ws" + strings.TrimPrefix(srv.URL, "http")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	mustFail := []string{"2.5", "3.1", "4.1.1", "5.18", "6.3.1", "7.9.1", "10.2.1"}
	rep := Run(ctx, url, Options{Only: append(mustFail, "1.1.1", "2.1"),
		Parallel: 4, CaseTimeout: 3 * time.Second, CloseWait: 200 * time.Millisecond})
	t.Logf("\n%s", rep)
	for _, r := range rep.Results {
		want := Failed
		if r.ID == "1.1.1" || r.ID == "2.1" {
			want = OK
		}
		if r.Status != want {
			t.Errorf("case %s: %s (%s), want %s", r.ID, r.Status, r.Detail, want)
		}
	}
}

// A server that leaves the TCP connection open after the closing handshake
// is NON-STRICT (§7.1.1); one that sends a masked frame is FAILED (§5.1).
func TestRunnerGradesTCPCloseAndMasking(t *testing.T) {
	var masked atomic.Bool
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/keep-open" {
			laxServer(w, r, true)
			return
		}
		conn, br, _, err := handshake.Upgrade(w, r, &handshake.Policy{AnyOrigin: true})
		if err != nil {
			return
		}
		defer conn.Close()
		c := framing.NewConn(conn, br, framing.RoleServer, nil)
		for {
			op, p, err := c.ReadMessage()
			if err != nil {
				return
			}
			if masked.Load() {
				// A masked frame: what a client sends, never a server.
				conn.Write(framing.AppendFrame(nil, framing.Header{Fin: true, Opcode: op, Masked: true, MaskingKey: [4]byte{1, 2, 3, 4}}, p))
				continue
			}
			c.WriteMessage(op, p)
		}
	})
	srv := httptest.NewServer(h)
	defer srv.Close()
	url := "ws" + strings.TrimPrefix(srv.URL, "http")
	ctx := context.Background()

	rep := Run(ctx, url, Options{Only: []string{"1.1.2"}})
	if r := rep.Results[0]; r.Status != OK {
		t.Fatalf("strict server: %s %s", r.Status, r.Detail)
	}
	masked.Store(true)
	rep = Run(ctx, url, Options{Only: []string{"1.1.2"}, CaseTimeout: 3 * time.Second})
	if r := rep.Results[0]; r.Status != Failed || !strings.Contains(r.Detail, "masked") {
		t.Errorf("masking server: %s %s, want FAILED for a masked frame", r.Status, r.Detail)
	}
	rep = Run(ctx, url+"/keep-open", Options{Only: []string{"1.1.2"}, CloseWait: 100 * time.Millisecond})
	if r := rep.Results[0]; r.Status != NonStrict || !strings.Contains(r.Detail, "TCP") {
		t.Errorf("server keeping TCP open: %s %s, want NON-STRICT", r.Status, r.Detail)
	}
}

// Masker gives every frame a fresh key from its reader.
func TestMaskerFreshKeys(t *testing.T) {
	m := &Masker{Rand: strings.NewReader("abcdefgh")}
	a := m.Frame(framing.Header{Fin: true, Opcode: framing.OpText}, []byte("x"))
	b := m.Frame(framing.Header{Fin: true, Opcode: framing.OpText}, []byte("x"))
	if string(a[2:6]) != "abcd" || string(b[2:6]) != "efgh" {
		t.Fatalf("keys %q and %q, want abcd and efgh", a[2:6], b[2:6])
	}
}
