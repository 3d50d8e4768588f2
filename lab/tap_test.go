package lab

import (
	"bytes"
	"encoding/hex"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/learnws/learnws/framing"
	"github.com/learnws/learnws/wire"
)

// The splitter cuts a byte stream into an HTTP head and the same frames
// however the reads happen to split it. (framing.Splitter, which finds the
// frames, is fuzzed in framing.)
func TestSplitterAnyChunking(t *testing.T) {
	const head = "GET /ws/lab HTTP/1.1\r\nHost: lab.invalid\r\n\r\n"
	var stream []byte
	var want [][]byte
	add := func(h framing.Header, p []byte) {
		f := framing.AppendFrame(nil, h, p)
		stream = append(stream, f...)
		want = append(want, f)
	}
	add(framing.Header{Fin: true, Opcode: framing.OpText, Masked: true, MaskingKey: [4]byte{1, 2, 3, 4}}, []byte("Hello"))
	add(framing.Header{Fin: true, Opcode: framing.OpBinary}, make([]byte, 200))
	add(framing.Header{Fin: true, Opcode: framing.OpBinary, Masked: true}, make([]byte, 70000))
	add(framing.Header{Fin: true, Opcode: framing.OpPing}, nil)
	add(framing.Header{Opcode: framing.OpText}, []byte("Hel"))
	add(framing.Header{Fin: true, Opcode: framing.OpContinuation}, []byte("lo"))
	for seed := uint64(0); seed < 50; seed++ {
		r := rand.New(rand.NewPCG(seed, 1))
		var got [][]byte
		var heads []string
		sp := &splitter{head: true, keep: 1 << 20, onFrame: func(raw []byte, complete bool, off int64, at time.Time) {
			if !complete {
				t.Fatalf("seed %d: incomplete frame at %d", seed, off)
			}
			got = append(got, append([]byte(nil), raw...))
		}, onHead: func(raw []byte, at time.Time) { heads = append(heads, string(raw)) }}
		for rest := append([]byte(head), stream...); len(rest) > 0; {
			n := 1 + r.IntN(min(len(rest), []int{1, 3, 17, 4096}[r.IntN(4)]))
			sp.feed(rest[:n])
			rest = rest[n:]
		}
		if len(heads) != 1 || heads[0] != head {
			t.Fatalf("seed %d: heads %q", seed, heads)
		}
		if len(got) != len(want) {
			t.Fatalf("seed %d: %d frames, want %d", seed, len(got), len(want))
		}
		for i := range want {
			if !bytes.Equal(got[i], want[i]) {
				t.Fatalf("seed %d: frame %d differs", seed, i)
			}
		}
	}
}

// A frame declaring more than the lab keeps is reported once, at its
// header, and its payload is counted, not stored; the next frame is found
// again. A stream that ends inside a frame reports what came of it.
func TestSplitterTooBig(t *testing.T) {
	var got []string
	sp := &splitter{keep: 100, onFrame: func(raw []byte, complete bool, off int64, at time.Time) {
		got = append(got, hex.EncodeToString(raw[:min(len(raw), 4)]))
	}}
	big := framing.AppendFrame(nil, framing.Header{Fin: true, Opcode: framing.OpBinary}, make([]byte, 1000))
	sp.feed(big)
	sp.feed([]byte{0x81, 0x00})
	sp.feed(big[:20])
	sp.flush() // the big frame is cut: it was reported already
	sp.feed([]byte{0x81, 0x03, 'a'})
	sp.flush() // this one is reported as it is
	sp.flush()
	if strings.Join(got, " ") != "827e03e8 8100 827e03e8 810361" {
		t.Errorf("frames: %v", got)
	}
}

// What the lab shows is exactly what the client put on the wire: the
// client's own recording of its bytes after the handshake equals the
// concatenation of the client→server frames in the trace.
func TestTraceEqualsWhatTheClientSent(t *testing.T) {
	_, srv := newTestServer(t, Limits{FrameShow: 1 << 20})
	c := dialLab(t, srv)
	st := openStream(t, srv, c.id)
	rec := wire.Wrap(c.cc.Conn, wire.Options{RecordLimit: 1 << 20})
	fc := framing.NewConn(rec, c.cc.Reader, framing.RoleClient, nil)
	msgs := [][]byte{[]byte("Hello"), make([]byte, 200), make([]byte, 70000), []byte("/ping"), []byte("héllo")}
	for _, m := range msgs {
		if err := fc.WriteMessage(framing.OpText, m); err != nil {
			t.Fatal(err)
		}
	}
	fc.Close(framing.CloseNormal, "done")
	var shown []byte
	st.until(t, func(e *Event) bool {
		if e.Kind == "frame" && e.Dir == "in" {
			b, _ := hex.DecodeString(e.Frame.Hex)
			shown = append(shown, b...)
		}
		return e.Kind == "closed"
	})
	_, sent := rec.Recorded()
	if !bytes.Equal(shown, sent) {
		t.Errorf("the trace shows %d bytes from the client; the client sent %d", len(shown), len(sent))
	}
}
