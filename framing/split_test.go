package framing

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
)

// split runs in through a Splitter keeping keep payload bytes, cut into
// the pieces pieces gives (their sizes, in turn; 0 or none means one Write),
// then Close. It returns every report as a string that includes a copy of
// Raw, and checks the promises that hold for every report.
func split(t testing.TB, in []byte, keep int, pieces []int) []string {
	t.Helper()
	var got []string
	var s *Splitter
	s = NewSplitter(keep, func(f SplitFrame) {
		// Raw is the stream's own bytes at Offset.
		if f.Offset < 0 || f.Offset+int64(len(f.Raw)) > int64(len(in)) || !bytes.Equal(f.Raw, in[f.Offset:f.Offset+int64(len(f.Raw))]) {
			t.Fatalf("%v report at %d: Raw % x is not the stream's bytes there", f.Kind, f.Offset, f.Raw)
		}
		// Memory: the header and at most keep bytes of payload.
		if len(f.Raw) > MaxHeaderSize+keep || cap(s.buf) > 2*MaxHeaderSize+keep {
			t.Fatalf("%v report holds %d bytes (buffer %d) with keep %d", f.Kind, len(f.Raw), cap(s.buf), keep)
		}
		if whole := len(f.Raw) >= 2 && len(f.Raw) >= HeaderSize(f.Raw[0], f.Raw[1]); !whole {
			if f.Kind != FrameCut || f.Header != (Header{}) {
				t.Fatalf("%v report at %d without a whole header: % x, %+v", f.Kind, f.Offset, f.Raw, f.Header)
			}
		} else {
			h, n, err := ParseHeader(f.Raw)
			if err != nil || h != f.Header {
				t.Fatalf("%v report at %d: header %+v, Raw parses as %+v (%v)", f.Kind, f.Offset, f.Header, h, err)
			}
			if f.Kind == FrameComplete && uint64(len(f.Raw)-n)+f.Dropped != h.PayloadLength {
				t.Fatalf("complete frame at %d: %d payload bytes kept + %d dropped; declared %d", f.Offset, len(f.Raw)-n, f.Dropped, h.PayloadLength)
			}
		}
		got = append(got, fmt.Sprintf("%v@%d %x +%d", f.Kind, f.Offset, f.Raw, f.Dropped))
	})
	rest := in
	for i := 0; len(rest) > 0; i++ {
		n := len(rest)
		if len(pieces) > 0 && pieces[i%len(pieces)] > 0 {
			n = min(n, pieces[i%len(pieces)])
		}
		if w, err := s.Write(rest[:n]); w != n || err != nil {
			t.Fatalf("Write = %d, %v", w, err)
		}
		rest = rest[n:]
	}
	s.Close()
	s.Close() // a second Close reports nothing more
	return got
}

// splitStream is a run of frames of every length form, masked and not,
// a fragmented message with a ping between, and a frame of 70,000 bytes.
func splitStream(t testing.TB) []byte {
	var b []byte
	for _, v := range rfcVectors() {
		b = append(b, unhex(t, v.hex)...)
	}
	b = AppendFrame(b, Header{Fin: true, Opcode: OpBinary, Masked: true, MaskingKey: [4]byte{1, 2, 3, 4}}, bytes.Repeat([]byte{7}, 70000))
	b = AppendFrame(b, Header{Fin: true, Opcode: OpPing}, nil)
	return b
}

// Any way of cutting the stream into Write calls gives the same reports as
// one Write.
func TestSplitterAnyPieces(t *testing.T) {
	in := splitStream(t)
	for _, keep := range []int{0, 3, 125, 256, 1 << 20} {
		want := split(t, in, keep, nil)
		for seed := uint64(0); seed < 30; seed++ {
			r := rand.New(rand.NewPCG(seed, uint64(keep)))
			pieces := make([]int, 20)
			for i := range pieces {
				pieces[i] = 1 + r.IntN([]int{1, 3, 17, 4096}[r.IntN(4)])
			}
			got := split(t, in, keep, pieces)
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("keep %d, pieces %v: %d reports differ from one Write's %d", keep, pieces, len(got), len(want))
			}
		}
	}
	// With room for everything, the reports are the frames themselves.
	all := split(t, in, 1<<20, []int{1})
	if len(all) != 10 {
		t.Errorf("%d reports, want 10 frames", len(all))
	}
}

// A frame longer than keep is reported at its header, its payload is
// counted, not stored, and the next frame is found again.
func TestSplitterTooBig(t *testing.T) {
	big := AppendFrame(nil, Header{Fin: true, Opcode: OpBinary}, make([]byte, 1000))
	in := append(big, 0x81, 0x00)
	got := split(t, in, 100, []int{7})
	want := []string{
		"too big@0 827e03e8 +0",
		fmt.Sprintf("complete@0 827e03e8%x +900", make([]byte, 100)),
		"complete@1004 8100 +0",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("reports:\n%q\nwant\n%q", got, want)
	}
	// A declared 2^63-1 costs nothing: the header is reported, nothing is
	// set aside beyond keep.
	huge := Header{Fin: true, Opcode: OpBinary, PayloadLength: 1<<63 - 1}.AppendTo(nil)
	var s *Splitter
	s = NewSplitter(100, func(f SplitFrame) {})
	s.Write(append(huge, make([]byte, 5000)...))
	if cap(s.buf) > 200 || s.dropped != 4900 {
		t.Errorf("kept %d bytes, dropped %d", cap(s.buf), s.dropped)
	}
}

// The end of a stream inside a frame reports what came of it.
func TestSplitterCut(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"81 05 48 65 6c 6c 6f", []string{"complete@0 810548656c6c6f +0"}},
		{"81", []string{"cut@0 81 +0"}},
		{"81 85 37 fa", []string{"cut@0 818537fa +0"}},
		{"81 05 48 65", []string{"cut@0 81054865 +0"}},
		{"81 00 82 7e 00 05 ff", []string{"complete@0 8100 +0", "cut@2 827e0005ff +0"}},
	} {
		got := split(t, unhex(t, c.in), 1<<10, []int{1})
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%q: %q; want %q", c.in, got, c.want)
		}
	}
	// Kept bytes and dropped ones both count in a cut frame.
	got := split(t, append(Header{Opcode: OpBinary, PayloadLength: 10}.AppendTo(nil), 1, 2, 3, 4), 2, nil)
	if want := []string{"too big@0 020a +0", "cut@0 020a0102 +2"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%q; want %q", got, want)
	}
}

func FuzzSplitter(f *testing.F) {
	f.Add(splitStream(f)[:200], []byte{1, 2, 3}, uint16(4))
	f.Add(unhex(f, "01 03 48 65 6c 89 00 80 02 6c 6f"), []byte{5}, uint16(0))
	f.Add(unhex(f, "82 7f 80 00 00 00 00 00 00 00 01 02"), []byte{}, uint16(1))
	f.Add(unhex(f, "81 fe 00 05 01 02 03 04 aa bb"), []byte{1}, uint16(2))
	f.Fuzz(func(t *testing.T, in, cuts []byte, keep uint16) {
		if len(in) > 8<<10 {
			return // longer inputs are only more frames; keep the fuzzer fast
		}
		pieces := make([]int, len(cuts))
		for i, c := range cuts {
			pieces[i] = int(c)
		}
		k := int(keep % 1024)
		if got, want := split(t, in, k, pieces), split(t, in, k, nil); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("pieces %v give %q; one Write gives %q", pieces, got, want)
		}
	})
}
