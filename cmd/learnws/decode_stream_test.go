package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"runtime"
	"strings"
	"testing"

	"github.com/learnws/learnws/framing"
	"github.com/learnws/learnws/internal/framejson"
)

// wholeJSON is what "decode --json" printed before it streamed: the whole
// annotation, converted at once, in one json.Encoder call. The streamed output must
// be these very bytes.
func wholeJSON(t testing.TB, raw []byte) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(framejson.FromAnnotation(framing.Annotate(raw))); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// decodeStreamCases are byte streams with everything the JSON can hold: text,
// fragments, control frames, close codes and reasons (with characters HTML escaping
// would change), problems, a frame cut short, no frame at all.
var decodeStreamCases = []string{
	"810548656c6c6f",                       // RFC 6455 §5.7: unmasked "Hello"
	"818537fa213d7f9f4d5158",               // masked "Hello"
	"010348656c80026c6f",                   // fragmented "Hel" + "lo"
	"0103486589053c263e2022" + "80026c6f",  // a ping ("<&> \"") between the fragments
	"880803e83c623e262722",                 // close 1000 with reason "<b>&'\""
	"8103ceb1ff",                           // text that is not UTF-8
	"8103ceb1" + "8a00",                    // text cut inside a character, then a pong
	"8200" + "0300" + "81",                 // binary, a reserved opcode, then one byte of a header
	"827e0100" + strings.Repeat("5a", 100), // a 256-byte frame with only 100 bytes present
	"80026c6f",                             // a lone continuation
	"",                                     // nothing: {"frames":[],"rest":""}
}

// TestDecodeJSONStreamsTheSameBytes: streaming changed how "decode --json" is
// written, not a byte of what it writes (DESIGN.md's contract).
func TestDecodeJSONStreamsTheSameBytes(t *testing.T) {
	for _, h := range decodeStreamCases {
		raw, _ := hex.DecodeString(h)
		var out bytes.Buffer
		if err := writeAnnotationJSON(&out, framing.NewAnnotator(raw)); err != nil {
			t.Fatal(err)
		}
		if want := wholeJSON(t, raw); out.String() != want {
			t.Errorf("%s:\nstreamed %s\n   whole %s", h, out.String(), want)
		}
	}
	// And through the command, exit status included.
	code, out, _ := runCmd(t, "", "decode", "--json", "010348656c80026c6f")
	if raw, _ := hex.DecodeString("010348656c80026c6f"); code != 0 || out != wholeJSON(t, raw) {
		t.Errorf("decode --json: exit %d\n%s", code, out)
	}
}

// FuzzDecodeJSON: for any bytes, the streamed JSON is the whole JSON.
func FuzzDecodeJSON(f *testing.F) {
	for _, h := range decodeStreamCases {
		raw, _ := hex.DecodeString(h)
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var out bytes.Buffer
		if err := writeAnnotationJSON(&out, framing.NewAnnotator(raw)); err != nil {
			t.Fatal(err)
		}
		if want := wholeJSON(t, raw); out.String() != want {
			t.Fatalf("%x:\nstreamed %s\n   whole %s", raw, out.String(), want)
		}
	})
}

// heapWatcher is a stdout that notes the largest live heap seen while output is
// being written.
type heapWatcher struct {
	n        int64
	peakHeap uint64
}

func (w *heapWatcher) Write(p []byte) (int, error) {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	w.peakHeap = max(w.peakHeap, m.HeapAlloc)
	w.n += int64(len(p))
	return len(p), nil
}

// TestDecodeMemoryIsBounded is issue 15 item 5: "decode" and "decode --json" of
// many small frames hold one frame's annotation at a time, not all of them. With
// 20,000 two-byte frames explained all at once, as before, the heap was at 80 MiB
// (JSON) and 27 MiB (table) when the output was written — 12 MB of hex took 9 GB —;
// streamed, it stays that of the input and the output buffer (4 MiB here).
func TestDecodeMemoryIsBounded(t *testing.T) {
	const frames = 20000
	in := strings.Repeat("81 00\n", frames) // empty text frames
	for _, args := range [][]string{{"decode", "--json", "-"}, {"decode", "-"}} {
		runtime.GC()
		w := &heapWatcher{}
		var stderr bytes.Buffer
		if code := run(t.Context(), args, strings.NewReader(in), w, &stderr); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr.String())
		}
		const limit = 16 << 20
		if w.peakHeap > limit {
			t.Errorf("%v of %d frames: heap reached %d MiB while printing; want under %d MiB", args, frames, w.peakHeap>>20, limit>>20)
		}
		if w.n < frames*100 {
			t.Errorf("%v: only %d bytes printed for %d frames", args, w.n, frames)
		}
	}
}
