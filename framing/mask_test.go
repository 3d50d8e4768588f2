package framing

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestMaskMatchesMaskBytes checks the fast path against the byte loop for
// every length up to 300, every key position and every alignment.
func TestMaskMatchesMaskBytes(t *testing.T) {
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	r := rand.New(rand.NewPCG(3, 4))
	src := make([]byte, 300+8)
	for i := range src {
		src[i] = byte(r.Uint32())
	}
	for align := 0; align < 8; align++ {
		for n := 0; n <= 300; n++ {
			for pos := 0; pos < 8; pos++ { // 4..7 check that pos is taken mod 4
				want := append([]byte(nil), src[align:align+n]...)
				wantPos := MaskBytes(key, pos, want)
				buf := append([]byte(nil), src...)
				got := buf[align : align+n]
				gotPos := Mask(key, pos, got)
				if gotPos != wantPos || !bytes.Equal(got, want) {
					t.Fatalf("align %d len %d pos %d: Mask gives pos %d % x; MaskBytes pos %d % x", align, n, pos, gotPos, got, wantPos, want)
				}
				// Bytes outside the slice are untouched.
				if !bytes.Equal(buf[:align], src[:align]) || !bytes.Equal(buf[align+n:], src[align+n:]) {
					t.Fatalf("align %d len %d pos %d: Mask wrote outside its slice", align, n, pos)
				}
			}
		}
	}
}

// TestMaskInPieces masks a payload in pieces of every size, carrying the
// position from one call to the next, as a reader does.
func TestMaskInPieces(t *testing.T) {
	key := [4]byte{0xa1, 0xb2, 0xc3, 0xd4}
	payload := bytes.Repeat([]byte("WebSocket!"), 20)
	want := append([]byte(nil), payload...)
	MaskBytes(key, 0, want)
	for piece := 1; piece <= 40; piece++ {
		got := append([]byte(nil), payload...)
		pos := 0
		for i := 0; i < len(got); i += piece {
			pos = Mask(key, pos, got[i:min(i+piece, len(got))])
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("pieces of %d: % x", piece, got[:16])
		}
	}
}

func TestMaskVectors(t *testing.T) {
	for _, c := range []struct {
		name   string
		key    [4]byte
		masked []byte
		plain  string
	}{
		// RFC 6455 §5.7.
		{"RFC 6455 5.7", [4]byte{0x37, 0xfa, 0x21, 0x3d}, []byte{0x7f, 0x9f, 0x4d, 0x51, 0x58}, "Hello"},
		// MDN "Writing WebSocket servers": MASK [1,2,3,4], ENCODED [105,103,111,104,110].
		{"MDN", [4]byte{1, 2, 3, 4}, []byte{105, 103, 111, 104, 110}, "hello"},
		// Not e9 d7 af a8 ab nor e9 d7 af a8 ce, as a well-known page shows it.
		{"a1 b2 c3 d4", [4]byte{0xa1, 0xb2, 0xc3, 0xd4}, []byte{0xe9, 0xd7, 0xaf, 0xb8, 0xce}, "Hello"},
	} {
		for _, f := range []func([4]byte, int, []byte) int{Mask, MaskBytes} {
			b := append([]byte(nil), c.masked...)
			f(c.key, 0, b)
			if string(b) != c.plain {
				t.Errorf("%s: unmasked to %q; want %q", c.name, b, c.plain)
			}
			f(c.key, 0, b)
			if !bytes.Equal(b, c.masked) {
				t.Errorf("%s: masked to % x; want % x", c.name, b, c.masked)
			}
		}
	}
}

// BenchmarkMask compares the byte loop, the fast path, and a plain copy of
// the same bytes (the speed limit of any pass over memory).
func BenchmarkMask(b *testing.B) {
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	for _, size := range []int{16, 1 << 10, 64 << 10} {
		buf := make([]byte, size)
		dst := make([]byte, size)
		b.Run(fmt.Sprintf("bytes/%d", size), func(b *testing.B) {
			b.SetBytes(int64(size))
			for b.Loop() {
				MaskBytes(key, 1, buf)
			}
		})
		b.Run(fmt.Sprintf("fast/%d", size), func(b *testing.B) {
			b.SetBytes(int64(size))
			for b.Loop() {
				Mask(key, 1, buf)
			}
		})
		b.Run(fmt.Sprintf("copy/%d", size), func(b *testing.B) {
			b.SetBytes(int64(size))
			for b.Loop() {
				copy(dst, buf)
			}
		})
	}
}
