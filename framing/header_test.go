package framing

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/iotest"
)

// unhex decodes hex that may contain spaces.
func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// bits decodes a bit string such as "1 000 0001 | 0 0000101": spaces and
// bars are only there to label the fields; what is left must be whole bytes.
func bits(t testing.TB, s string) []byte {
	t.Helper()
	s = strings.NewReplacer(" ", "", "|", "").Replace(s)
	if len(s)%8 != 0 {
		t.Fatalf("bit string %q is %d bits, not whole bytes", s, len(s))
	}
	out := make([]byte, len(s)/8)
	for i, c := range s {
		switch c {
		case '1':
			out[i/8] |= 0x80 >> (i % 8)
		case '0':
		default:
			t.Fatalf("bit string has %q", c)
		}
	}
	return out
}

// rfcVector is one example from RFC 6455 §5.7.
type rfcVector struct {
	name string
	hex  string // the whole frame as the RFC prints it
	// header as a labelled bit string:
	//   FIN RSV opcode | MASK length7 | extended length | masking key
	bits    string
	header  Header
	payload []byte // unmasked
}

func rfcVectors() []rfcVector {
	hello := []byte("Hello")
	b256 := bytes.Repeat([]byte{0xAB}, 256)
	b64k := bytes.Repeat([]byte{0xCD}, 65536)
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	return []rfcVector{
		{
			name: "single-frame unmasked text",
			hex:  "81 05 48 65 6c 6c 6f",
			//      F RSV op     M len7
			bits:    "1 000 0001 | 0 0000101",
			header:  Header{Fin: true, Opcode: OpText, PayloadLength: 5},
			payload: hello,
		},
		{
			name: "single-frame masked text",
			hex:  "81 85 37 fa 21 3d 7f 9f 4d 51 58",
			//      F RSV op     M len7      masking key 37 fa 21 3d
			bits:    "1 000 0001 | 1 0000101 | 00110111 11111010 00100001 00111101",
			header:  Header{Fin: true, Opcode: OpText, Masked: true, MaskingKey: key, PayloadLength: 5},
			payload: hello,
		},
		{
			name:    "fragmented unmasked text, first fragment",
			hex:     "01 03 48 65 6c",
			bits:    "0 000 0001 | 0 0000011",
			header:  Header{Opcode: OpText, PayloadLength: 3},
			payload: []byte("Hel"),
		},
		{
			name:    "fragmented unmasked text, last fragment",
			hex:     "80 02 6c 6f",
			bits:    "1 000 0000 | 0 0000010",
			header:  Header{Fin: true, Opcode: OpContinuation, PayloadLength: 2},
			payload: []byte("lo"),
		},
		{
			name:    "unmasked ping",
			hex:     "89 05 48 65 6c 6c 6f",
			bits:    "1 000 1001 | 0 0000101",
			header:  Header{Fin: true, Opcode: OpPing, PayloadLength: 5},
			payload: hello,
		},
		{
			name:    "masked pong",
			hex:     "8a 85 37 fa 21 3d 7f 9f 4d 51 58",
			bits:    "1 000 1010 | 1 0000101 | 00110111 11111010 00100001 00111101",
			header:  Header{Fin: true, Opcode: OpPong, Masked: true, MaskingKey: key, PayloadLength: 5},
			payload: hello,
		},
		{
			name: "256 bytes binary, unmasked",
			hex:  "82 7e 01 00" + strings.Repeat(" ab", 256),
			//      F RSV op     M len7=126  16-bit length 256
			bits:    "1 000 0010 | 0 1111110 | 00000001 00000000",
			header:  Header{Fin: true, Opcode: OpBinary, PayloadLength: 256, LengthBytes: 2},
			payload: b256,
		},
		{
			name: "64 KiB binary, unmasked",
			hex:  "82 7f 00 00 00 00 00 01 00 00" + strings.Repeat("cd", 65536),
			//      F RSV op     M len7=127  64-bit length 65536
			bits:    "1 000 0010 | 0 1111111 | 00000000 00000000 00000000 00000000 00000000 00000001 00000000 00000000",
			header:  Header{Fin: true, Opcode: OpBinary, PayloadLength: 65536, LengthBytes: 8},
			payload: b64k,
		},
	}
}

// TestRFCVectors checks every example of RFC 6455 §5.7 in both directions:
// parsing the RFC's bytes gives the header and payload, and writing the
// header and payload gives the RFC's bytes.
func TestRFCVectors(t *testing.T) {
	for _, v := range rfcVectors() {
		t.Run(v.name, func(t *testing.T) {
			wire := unhex(t, v.hex)
			hdr := bits(t, v.bits)
			if !bytes.HasPrefix(wire, hdr) {
				t.Fatalf("bit string % x is not the start of the hex % x", hdr, wire[:len(hdr)])
			}
			// Parse.
			h, n, err := ParseHeader(wire)
			if err != nil || n != len(hdr) || h != v.header {
				t.Fatalf("ParseHeader = %+v, %d, %v; want %+v, %d", h, n, err, v.header, len(hdr))
			}
			f, fn, err := ParseFrame(wire)
			if err != nil || fn != len(wire) || f.Header != v.header || !bytes.Equal(f.Payload, v.payload) {
				t.Fatalf("ParseFrame = %v, %d, %v", f.Header, fn, err)
			}
			// Write.
			if got := v.header.AppendTo(nil); !bytes.Equal(got, hdr) {
				t.Errorf("AppendTo = % x; want % x", got, hdr)
			}
			if got := AppendFrame(nil, v.header, v.payload); !bytes.Equal(got, wire) {
				t.Errorf("AppendFrame = % x; want % x", got[:min(len(got), 20)], wire[:min(len(wire), 20)])
			}
			if v.header.Size() != len(hdr) {
				t.Errorf("Size = %d; want %d", v.header.Size(), len(hdr))
			}
			// A receiver of the right role finds nothing wrong.
			receiver := RoleClient
			if v.header.Masked {
				receiver = RoleServer
			}
			// The last fragment comes inside a text message.
			var s MessageState
			if v.header.Opcode == OpContinuation {
				s.StartFrame(Header{Opcode: OpText})
			}
			if errs := v.header.Check(receiver, &s); errs != nil {
				t.Errorf("Check(%v) = %v", receiver, errs)
			}
		})
	}
}

func TestAppendFrameLeavesPayloadAlone(t *testing.T) {
	p := []byte("Hello")
	h := Header{Fin: true, Opcode: OpText, Masked: true, MaskingKey: [4]byte{0xa1, 0xb2, 0xc3, 0xd4}}
	got := AppendFrame(nil, h, p)
	if string(p) != "Hello" {
		t.Fatalf("payload changed to %q", p)
	}
	// "Hello" masked with a1 b2 c3 d4 is e9 d7 af b8 ce.
	if want := unhex(t, "81 85 a1 b2 c3 d4 e9 d7 af b8 ce"); !bytes.Equal(got, want) {
		t.Fatalf("AppendFrame = % x; want % x", got, want)
	}
}

// TestBoundaryLengths reads headers at every length-form boundary through
// readers that return one byte, or half the asked bytes, at a time.
func TestBoundaryLengths(t *testing.T) {
	readers := map[string]func(io.Reader) io.Reader{
		"plain":    func(r io.Reader) io.Reader { return r },
		"one-byte": iotest.OneByteReader,
		"half":     iotest.HalfReader,
		"data-err": iotest.DataErrReader,
	}
	for _, length := range []uint64{0, 1, 125, 126, 127, 128, 65535, 65536} {
		for _, masked := range []bool{false, true} {
			h := Header{Fin: true, Opcode: OpBinary, Masked: masked, PayloadLength: length}
			if masked {
				h.MaskingKey = [4]byte{1, 2, 3, 4}
			}
			want := h
			want.LengthBytes = map[bool]int{true: 0, false: 2}[length <= 125]
			if length > 65535 {
				want.LengthBytes = 8
			}
			wire := h.AppendTo(nil)
			wantSize := 2 + want.LengthBytes + map[bool]int{true: 4}[masked]
			if len(wire) != wantSize || h.Size() != wantSize {
				t.Errorf("length %d masked %v: header is %d bytes (Size %d); want %d", length, masked, len(wire), h.Size(), wantSize)
			}
			payload := bytes.Repeat([]byte{'x'}, int(length))
			frame := append(wire, payload...)
			for name, wrap := range readers {
				r := wrap(bytes.NewReader(frame))
				got, err := ReadHeader(r)
				if err != nil || got != want {
					t.Errorf("length %d masked %v %s: ReadHeader = %+v, %v; want %+v", length, masked, name, got, err, want)
					continue
				}
				rest, err := io.ReadAll(r)
				if err != nil || len(rest) != int(length) {
					t.Errorf("length %d %s: %d payload bytes left, %v", length, name, len(rest), err)
				}
			}
		}
	}
}

func TestReadHeaderEOF(t *testing.T) {
	if _, err := ReadHeader(bytes.NewReader(nil)); err != io.EOF {
		t.Errorf("empty input: %v; want io.EOF", err)
	}
	for _, s := range []string{"81", "82 7e 01", "82 ff 00 00 00 00 00 00 00 00 01 02 03"} {
		b := unhex(t, s)
		if _, err := ReadHeader(iotest.OneByteReader(bytes.NewReader(b))); err != io.ErrUnexpectedEOF {
			t.Errorf("%s: %v; want io.ErrUnexpectedEOF", s, err)
		}
		if _, _, err := ParseHeader(b); !errors.Is(err, ErrShortHeader) || !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("ParseHeader(%s): %v; want ErrShortHeader", s, err)
		}
	}
	if _, err := ReadHeader(iotest.ErrReader(io.ErrClosedPipe)); err != io.ErrClosedPipe {
		t.Errorf("reader error: %v", err)
	}
}

// randomHeader returns a header as ParseHeader would return it: the length
// form set to what goes on the wire, no key unless masked.
func randomHeader(r *rand.Rand) Header {
	h := Header{
		Fin: r.IntN(2) == 0, Rsv1: r.IntN(2) == 0, Rsv2: r.IntN(2) == 0, Rsv3: r.IntN(2) == 0,
		Opcode: Opcode(r.IntN(16)), Masked: r.IntN(2) == 0,
	}
	switch r.IntN(4) {
	case 0:
		h.PayloadLength = uint64(r.IntN(126))
	case 1:
		h.PayloadLength = uint64(r.IntN(1 << 16))
	case 2:
		h.PayloadLength = r.Uint64()
	case 3: // a non-minimal form
		h.PayloadLength = uint64(r.IntN(126))
		h.LengthBytes = []int{2, 8}[r.IntN(2)]
	}
	h.LengthBytes = h.lengthForm()
	if h.Masked {
		binaryKey := r.Uint32()
		h.MaskingKey = [4]byte{byte(binaryKey), byte(binaryKey >> 8), byte(binaryKey >> 16), byte(binaryKey >> 24)}
	}
	return h
}

func TestHeaderRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 10000 {
		h := randomHeader(r)
		b := h.AppendTo([]byte{0xEE}) // after some existing bytes
		got, n, err := ParseHeader(b[1:])
		if err != nil || got != h || n != len(b)-1 || n != h.Size() {
			t.Fatalf("round trip of %+v: got %+v, n=%d (Size %d), %v", h, got, n, h.Size(), err)
		}
		if again := got.AppendTo(nil); !bytes.Equal(again, b[1:]) {
			t.Fatalf("re-encoding % x gives % x", b[1:], again)
		}
	}
}

func TestMinimalLength(t *testing.T) {
	for _, c := range []struct {
		hex     string
		minimal bool
	}{
		{"82 05", true},
		{"82 7e 00 05", false},
		{"82 7e 00 7e", true},
		{"82 7f 00 00 00 00 00 00 00 05", false},
		{"82 7f 00 00 00 00 00 00 ff ff", false},
		{"82 7f 00 00 00 00 00 01 00 00", true},
	} {
		h, _, err := ParseHeader(unhex(t, c.hex))
		if err != nil || h.MinimalLength() != c.minimal {
			t.Errorf("%s: MinimalLength = %v, %v; want %v", c.hex, h.MinimalLength(), err, c.minimal)
		}
		// The non-minimal form is reproduced exactly.
		if got := h.AppendTo(nil); !bytes.Equal(got, unhex(t, c.hex)) {
			t.Errorf("%s: AppendTo = % x", c.hex, got)
		}
	}
}

func TestParseFrameShort(t *testing.T) {
	if _, _, err := ParseFrame(unhex(t, "81 05 48 65 6c")); !errors.Is(err, ErrShortFrame) {
		t.Errorf("got %v; want ErrShortFrame", err)
	}
	// A declared 2^63 - 1 bytes costs nothing.
	b := unhex(t, "82 7f 7f ff ff ff ff ff ff ff 00")
	allocs := testing.AllocsPerRun(10, func() { ParseFrame(b) })
	if allocs > 0 {
		t.Errorf("ParseFrame of a huge declared length allocated %v times", allocs)
	}
}

func TestOpcode(t *testing.T) {
	for o := Opcode(0); o < 16; o++ {
		reserved := !(o <= 2 || (o >= 8 && o <= 10))
		if o.IsReserved() != reserved || o.IsControl() != (o >= 8) {
			t.Errorf("opcode %#x: reserved %v control %v", byte(o), o.IsReserved(), o.IsControl())
		}
		if !reserved {
			p, err := ParseOpcode(strings.ToUpper(o.String()))
			if err != nil || p != o {
				t.Errorf("ParseOpcode(%q) = %v, %v", o.String(), p, err)
			}
		}
	}
	if OpText.String() != "text" || Opcode(3).String() != "reserved (0x3)" || Opcode(0xB).String() != "reserved (0xB)" {
		t.Errorf("String: %q %q %q", OpText, Opcode(3), Opcode(0xB))
	}
	if _, err := ParseOpcode("reserved"); err == nil {
		t.Error("ParseOpcode(reserved) succeeded")
	}
}
