package framing

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// checkCoverage verifies the invariant of Annotate: the fields of all frames
// plus Rest cover every bit of every byte of b exactly once, the frames sit
// end to end, and the fields of a partial frame stay inside Rest without
// overlapping.
func checkCoverage(t *testing.T, b []byte, a Annotation) {
	t.Helper()
	cov := make([]byte, len(b))
	mark := func(where string, f Field, cov []byte) {
		t.Helper()
		if f.Length <= 0 || f.Offset < 0 || f.Offset+f.Length > len(b) {
			t.Fatalf("%s: field %+v out of range (input %d bytes)", where, f, len(b))
		}
		if f.Length > 1 && f.Bits != 0xFF {
			t.Fatalf("%s: field %+v spans bytes but covers bits %08b", where, f, f.Bits)
		}
		for i := f.Offset; i < f.Offset+f.Length; i++ {
			if cov[i]&f.Bits != 0 {
				t.Fatalf("%s: field %q overlaps bits %08b of byte %d", where, f.Name, cov[i]&f.Bits, i)
			}
			cov[i] |= f.Bits
		}
	}
	off := 0
	for _, fr := range a.Frames {
		if fr.Offset != off || fr.Length <= 0 {
			t.Fatalf("frame at %d (length %d); want offset %d", fr.Offset, fr.Length, off)
		}
		for _, f := range fr.Fields {
			if f.Offset < fr.Offset || f.Offset+f.Length > fr.Offset+fr.Length {
				t.Fatalf("field %+v outside its frame %d+%d", f, fr.Offset, fr.Length)
			}
			mark("frame", f, cov)
		}
		off += fr.Length
	}
	if off+len(a.Rest) != len(b) || !bytes.Equal(a.Rest, b[off:]) {
		t.Fatalf("frames cover %d bytes and Rest %d; input is %d", off, len(a.Rest), len(b))
	}
	if (a.Partial != nil) != (len(a.Rest) > 0) {
		t.Fatalf("Partial %v but Rest is %d bytes", a.Partial != nil, len(a.Rest))
	}
	if len(a.Rest) > 0 && a.Err == nil {
		t.Fatalf("Rest is %d bytes but Err is nil", len(a.Rest))
	}
	if a.Partial != nil {
		if a.Partial.Offset != off || a.Partial.Length != len(a.Rest) {
			t.Fatalf("partial frame at %d+%d; Rest at %d+%d", a.Partial.Offset, a.Partial.Length, off, len(a.Rest))
		}
		pcov := make([]byte, len(b))
		for _, f := range a.Partial.Fields {
			if f.Offset < off {
				t.Fatalf("partial field %+v before Rest at %d", f, off)
			}
			mark("partial", f, pcov)
		}
	}
	for i := off; i < len(b); i++ {
		cov[i] = 0xFF
	}
	for i, c := range cov {
		if c != 0xFF {
			t.Fatalf("byte %d: bits %08b left unexplained", i, ^c)
		}
	}
}

func TestAnnotateRFCVectors(t *testing.T) {
	var all []byte
	for _, v := range rfcVectors() {
		wire := unhex(t, v.hex)
		all = append(all, wire...)
		a := Annotate(wire)
		checkCoverage(t, wire, a)
		if len(a.Frames) != 1 || a.Rest != nil {
			t.Fatalf("%s: %d frames, rest % x", v.name, len(a.Frames), a.Rest)
		}
		f := a.Frames[0]
		if f.Header != v.header || !bytes.Equal(f.Payload, v.payload) || f.Length != len(wire) {
			t.Errorf("%s: header %v payload %q", v.name, f.Header, f.Payload)
		}
		// The last fragment alone continues nothing: that is reported.
		wantErr := v.header.Opcode == OpContinuation
		if (a.Err != nil) != wantErr {
			t.Errorf("%s: Err = %v", v.name, a.Err)
		}
	}
	// All of them in a row: the fragments now make a message.
	a := Annotate(all)
	checkCoverage(t, all, a)
	if len(a.Frames) != 8 || a.Err != nil {
		t.Fatalf("%d frames, Err %v", len(a.Frames), a.Err)
	}
	if !a.Frames[2].IsText || !a.Frames[3].IsText || a.Frames[3].Text != "lo" {
		t.Errorf("fragments: %+v %+v", a.Frames[2].Text, a.Frames[3].Text)
	}
}

// fieldsByName indexes the fields of a frame.
func fieldsByName(f AnnotatedFrame) map[string]Field {
	m := map[string]Field{}
	for _, fl := range f.Fields {
		m[fl.Name] = fl
	}
	return m
}

func TestAnnotateClose(t *testing.T) {
	// A masked close frame, 1000 "bye", sent by a client.
	h := Header{Fin: true, Opcode: OpClose, Masked: true, MaskingKey: [4]byte{1, 2, 3, 4}}
	wire := AppendFrame(nil, h, AppendClosePayload(nil, CloseNormal, "bye"))
	a := Annotate(wire)
	checkCoverage(t, wire, a)
	f := a.Frames[0]
	if a.Err != nil || f.CloseCode == nil || *f.CloseCode != CloseNormal || *f.CloseReason != "bye" {
		t.Fatalf("Err %v, frame %+v", a.Err, f)
	}
	fs := fieldsByName(f)
	if sc := fs["close.status_code"]; sc.Value != "1000 Normal Closure" || sc.Offset != 6 || sc.Length != 2 {
		t.Errorf("status code field %+v", sc)
	}
	if r := fs["close.reason"]; r.Value != `"bye"` || r.Offset != 8 || r.Length != 3 {
		t.Errorf("reason field %+v", r)
	}
	// An empty close frame, a 1-byte one, and one with a code never sent.
	for _, c := range []struct {
		hex   string
		code  CloseCode
		field string
	}{
		{"88 00", 0, ""},
		{"88 01 03", CloseProtocolError, "payload"},
		{"88 02 03 ee", CloseProtocolError, "close.status_code"},
		{"88 03 03 e8 ff", CloseInvalidPayload, "close.reason"},
	} {
		b := unhex(t, c.hex)
		a := Annotate(b)
		checkCoverage(t, b, a)
		probs := a.Frames[0].Problems
		if c.code == 0 {
			if a.Err != nil || len(probs) != 0 {
				t.Errorf("%s: %v", c.hex, a.Err)
			}
			continue
		}
		var pe *ProtocolError
		if !errors.As(a.Err, &pe) || pe.Code != c.code || pe.Field != c.field {
			t.Errorf("%s: Err %v (%+v); want code %d in %s", c.hex, a.Err, pe, c.code, c.field)
		}
	}
}

func TestAnnotateMessageRules(t *testing.T) {
	for _, c := range []struct {
		name string
		hex  string
		code CloseCode // of the first problem; 0 for none
		text string    // the last frame's text
	}{
		{"UTF-8 split across fragments", "01 01 c3 | 80 01 a9", 0, "\xa9"},
		{"ping between fragments", "01 03 48 65 6c | 89 00 | 80 02 6c 6f", 0, "lo"},
		{"continuation without a start", "80 02 6c 6f", CloseProtocolError, ""}, // type unknown
		{"new message inside a fragmented one", "01 03 48 65 6c | 81 02 6c 6f", CloseProtocolError, "lo"},
		{"invalid UTF-8 fails at once", "01 02 f4 90 | 80 01 80", CloseInvalidPayload, "\x80"},
		{"text ends inside a character", "81 02 e4 b8", CloseInvalidPayload, "\xe4\xb8"},
		{"fragmented ping", "09 00", CloseProtocolError, ""},
		{"binary is not checked as UTF-8", "82 01 ff", 0, ""},
		{"RSV1 set", "c1 00", CloseProtocolError, ""},
		{"reserved opcode", "83 00", CloseProtocolError, ""},
		{"non-minimal length is a note, not a problem", "82 7e 00 01 00", 0, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := unhex(t, strings.ReplaceAll(c.hex, "|", ""))
			a := Annotate(b)
			checkCoverage(t, b, a)
			var pe *ProtocolError
			if c.code == 0 {
				if a.Err != nil {
					t.Fatalf("Err = %v", a.Err)
				}
			} else if !errors.As(a.Err, &pe) || pe.Code != c.code {
				t.Fatalf("Err = %v; want close code %d", a.Err, c.code)
			}
			if last := a.Frames[len(a.Frames)-1]; last.Text != c.text {
				t.Errorf("last text %q; want %q", last.Text, c.text)
			}
		})
	}
}

func TestAnnotateTruncated(t *testing.T) {
	for _, c := range []struct {
		name   string
		hex    string
		frames int
		fields []string // of the partial frame
		err    string
	}{
		{"payload cut short", "81 05 48 65 6c", 0,
			[]string{"fin", "rsv1", "rsv2", "rsv3", "opcode", "mask", "payload_length", "payload"},
			"framing: frame at offset 0 declares 5 payload bytes; only 3 present"},
		{"second frame cut in its header", "81 00 82", 1,
			[]string{"fin", "rsv1", "rsv2", "rsv3", "opcode"},
			"framing: frame at offset 2 needs a 2-byte header; only 1 byte present"},
		{"extended length cut short", "82 7e 01", 0,
			[]string{"fin", "rsv1", "rsv2", "rsv3", "opcode", "mask", "payload_length", "payload_length_ext_16"},
			"framing: frame at offset 0 needs a 4-byte header; only 3 bytes present"},
		{"masking key cut short", "81 85 37 fa", 0,
			[]string{"fin", "rsv1", "rsv2", "rsv3", "opcode", "mask", "payload_length", "masking_key"},
			"framing: frame at offset 0 needs a 6-byte header; only 4 bytes present"},
		{"masked payload cut short", "81 85 37 fa 21 3d 7f 9f", 0,
			[]string{"fin", "rsv1", "rsv2", "rsv3", "opcode", "mask", "payload_length", "masking_key", "masked_payload"},
			"framing: frame at offset 0 declares 5 payload bytes; only 2 present"},
		// 2^63 declared: the problem is the length itself, and it costs nothing.
		{"2^63 declared", "82 7f 80 00 00 00 00 00 00 00 01 02", 0,
			[]string{"fin", "rsv1", "rsv2", "rsv3", "opcode", "mask", "payload_length", "payload_length_ext_64", "payload"},
			"framing: frame at offset 0: 64-bit payload length has its most significant bit set"},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := unhex(t, c.hex)
			a := Annotate(b)
			checkCoverage(t, b, a)
			if len(a.Frames) != c.frames || a.Partial == nil {
				t.Fatalf("%d frames, partial %v", len(a.Frames), a.Partial)
			}
			var names []string
			for _, f := range a.Partial.Fields {
				names = append(names, f.Name)
			}
			if strings.Join(names, " ") != strings.Join(c.fields, " ") {
				t.Errorf("partial fields %v; want %v", names, c.fields)
			}
			if a.Err == nil || a.Err.Error() != c.err {
				t.Errorf("Err = %v; want %s", a.Err, c.err)
			}
		})
	}
	huge := unhex(t, "82 7f 7f ff ff ff ff ff ff ff 00 01")
	if n := testing.AllocsPerRun(10, func() { Annotate(huge) }); n > 40 {
		t.Errorf("Annotate of a declared 2^63-1 bytes made %v allocations", n)
	}
}

func TestAnnotateNeverPanics(t *testing.T) {
	// Every 1- and 2-byte input.
	for i := 0; i < 1<<16; i++ {
		b := []byte{byte(i >> 8), byte(i)}
		if i&0xFF == 0 {
			checkCoverage(t, b[:1], Annotate(b[:1]))
		}
		checkCoverage(t, b, Annotate(b))
	}
	checkCoverage(t, nil, Annotate(nil))
}

func TestAnnotateLongPayloadIsShortened(t *testing.T) {
	wire := AppendFrame(nil, Header{Fin: true, Opcode: OpText}, bytes.Repeat([]byte("中"), 1000))
	a := Annotate(wire)
	checkCoverage(t, wire, a)
	v := fieldsByName(a.Frames[0])["payload"].Value
	if len(v) > 300 || !strings.HasSuffix(v, "… (3000 bytes)") || len(a.Frames[0].Text) != 3000 {
		t.Errorf("value is %d bytes: %.40q…", len(v), v)
	}
}

func FuzzAnnotate(f *testing.F) {
	for _, v := range rfcVectors() {
		if len(v.hex) < 200 {
			f.Add(unhex(f, v.hex))
		}
	}
	for _, s := range []string{"", "81", "82 7e 01", "82 7f 80 00 00 00 00 00 00 00", "88 02 03 e8 88 01 03",
		"01 01 c3 89 00 80 01 a9", "c1 85 01 02 03 04 05"} {
		f.Add(unhex(f, s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 4096 {
			return // long random inputs are only many short frames; keep the fuzzer fast
		}
		a := Annotate(b)
		checkCoverage(t, b, a)
		for _, fr := range a.Frames {
			pf, n, err := ParseFrame(b[fr.Offset:])
			if err != nil || n != fr.Length || pf.Header != fr.Header || !bytes.Equal(pf.Payload, fr.Payload) {
				t.Fatalf("ParseFrame disagrees at offset %d: %v %d %v", fr.Offset, pf.Header, n, err)
			}
		}
		if a.Partial != nil {
			if _, _, err := ParseFrame(a.Rest); err == nil {
				t.Fatalf("ParseFrame reads the partial frame % x", a.Rest)
			}
		}
	})
}

func FuzzParseHeader(f *testing.F) {
	for _, v := range rfcVectors() {
		f.Add(bits(f, v.bits))
	}
	f.Add([]byte{0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{0x82, 0xfe, 0, 5, 1, 2, 3, 4})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, n, err := ParseHeader(b)
		if err != nil {
			if len(b) >= 2 && len(b) >= HeaderSize(b[0], b[1]) {
				t.Fatalf("ParseHeader(% x) failed: %v", b, err)
			}
			return
		}
		if n != h.Size() || n != HeaderSize(b[0], b[1]) {
			t.Fatalf("n=%d Size=%d", n, h.Size())
		}
		// Writing the header back gives the same bytes, non-minimal forms included.
		if got := h.AppendTo(nil); !bytes.Equal(got, b[:n]) {
			t.Fatalf("AppendTo = % x; want % x", got, b[:n])
		}
		rh, err := ReadHeader(bytes.NewReader(b))
		if err != nil || rh != h {
			t.Fatalf("ReadHeader = %+v, %v; want %+v", rh, err, h)
		}
		for _, r := range []Role{RoleServer, RoleClient} {
			for _, e := range h.Check(r, nil) {
				if e.Code != CloseProtocolError || e.Field == "" {
					t.Fatalf("Check: %+v", e)
				}
			}
		}
	})
}

func BenchmarkHeaderAppend(b *testing.B) {
	h := Header{Fin: true, Opcode: OpBinary, Masked: true, MaskingKey: [4]byte{1, 2, 3, 4}, PayloadLength: 1 << 10}
	buf := make([]byte, 0, MaxHeaderSize)
	for b.Loop() {
		buf = h.AppendTo(buf[:0])
	}
}

func BenchmarkHeaderParse(b *testing.B) {
	wire := Header{Fin: true, Opcode: OpBinary, Masked: true, MaskingKey: [4]byte{1, 2, 3, 4}, PayloadLength: 1 << 10}.AppendTo(nil)
	for b.Loop() {
		if _, _, err := ParseHeader(wire); err != nil {
			b.Fatal(err)
		}
	}
}
