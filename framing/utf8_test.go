package framing

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestUTF8Validator(t *testing.T) {
	for _, c := range []struct {
		name  string
		input string
		// failAt is the index of the byte at which Write must first return
		// false when fed one byte at a time; -1 if it never does.
		failAt   int
		complete bool
	}{
		{"empty", "", -1, true},
		{"ASCII", "Hello", -1, true},
		{"2-byte", "é", -1, true},
		{"3-byte", "中文", -1, true},
		{"4-byte", "😀", -1, true},
		{"max code point U+10FFFF", "\xf4\x8f\xbf\xbf", -1, true},
		{"truncated 2-byte", "\xc3", -1, false},
		{"truncated 4-byte", "\xf0\x9f\x98", -1, false},
		{"C0 overlong lead", "\xc0\x80", 0, false},
		{"C1 overlong lead", "a\xc1\xbf", 1, false},
		{"stray continuation", "a\x80", 1, false},
		{"F5 lead", "\xf5\x80\x80\x80", 0, false},
		{"FF", "\xff", 0, false},
		{"E0 overlong", "\xe0\x80\x80", 1, false},
		{"surrogate ED A0", "\xed\xa0\x80", 1, false},
		{"F0 overlong", "\xf0\x8f\xbf\xbf", 1, false},
		{"beyond U+10FFFF: F4 90 fails at once", "\xf4\x90\x80\x80", 1, false},
		{"ASCII where a continuation belongs", "\xe4\xb8a", 2, false},
		{"Autobahn 6.3.1 (fails mid-message)", "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64\x69\x74\x65\x64", 12, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			var v UTF8Validator
			failedAt := -1
			for i := 0; i < len(c.input); i++ {
				if !v.Write([]byte{c.input[i]}) && failedAt < 0 {
					failedAt = i
				}
			}
			if failedAt != c.failAt || v.Complete() != c.complete {
				t.Errorf("failed at %d, complete %v; want %d, %v", failedAt, v.Complete(), c.failAt, c.complete)
			}
			// All at once gives the same verdict, and agrees with unicode/utf8.
			v.Reset()
			ok := v.Write([]byte(c.input)) && v.Complete()
			if ok != c.complete || ok != utf8.ValidString(c.input) {
				t.Errorf("whole input: %v; utf8.ValidString %v", ok, utf8.ValidString(c.input))
			}
		})
	}
}

// validPrefix reports whether p can be the start of valid UTF-8: valid up
// to an incomplete last character that some bytes could still complete.
// It uses unicode/utf8 as the reference.
func validPrefix(p []byte) bool {
	for len(p) > 0 {
		r, size := utf8.DecodeRune(p)
		if r == utf8.RuneError && size == 1 {
			// Invalid, or the start of a character cut short.
			return !utf8.FullRune(p)
		}
		p = p[size:]
	}
	return true
}

// checkSplits feeds data to a validator in pieces whose sizes come from
// splits, and checks each answer against unicode/utf8.
func checkSplits(t *testing.T, data, splits []byte) {
	var v UTF8Validator
	k := 0
	for i := 0; k < len(data); i++ {
		n := len(data) - k
		if i < len(splits) {
			n = min(n, int(splits[i]%16))
		}
		got := v.Write(data[k : k+n])
		k += n
		if want := validPrefix(data[:k]); got != want {
			t.Fatalf("after %d bytes of % x: Write = %v; want %v", k, data, got, want)
		}
	}
	if v.Complete() != utf8.Valid(data) {
		t.Fatalf("% x: Complete = %v; utf8.Valid = %v", data, v.Complete(), utf8.Valid(data))
	}
}

func FuzzUTF8Validator(f *testing.F) {
	for _, s := range []string{"", "Hello", "κόσμε", "中文", "😀", "\xf4\x90\x80\x80", "\xed\xa0\x80", "\xe0\x80", "\xc3", "a\xf0\x9f\x98\x80b"} {
		f.Add([]byte(s), []byte{1, 2, 3})
	}
	f.Fuzz(checkSplits)
}

func TestUTF8ValidatorAllTwoAndThreeBytePrefixes(t *testing.T) {
	for a := 0; a < 256; a++ {
		for b := 0; b < 256; b++ {
			checkSplits(t, []byte{byte(a), byte(b)}, []byte{1, 1})
			checkSplits(t, []byte{byte(a), byte(b), 0x80}, []byte{1, 1, 1})
			checkSplits(t, []byte{byte(a), byte(b), 0xBF, 0x80}, []byte{2, 2})
		}
	}
}

// BenchmarkUTF8Validator compares the validator with unicode/utf8.Valid on
// 64 KiB of mixed ASCII and Chinese text.
func BenchmarkUTF8Validator(b *testing.B) {
	text := []byte(strings.Repeat("WebSocket 协议 frames ", 3000))[:64<<10]
	for len(text) > 0 && !utf8.Valid(text) {
		text = text[:len(text)-1]
	}
	b.Run("validator", func(b *testing.B) {
		b.SetBytes(int64(len(text)))
		var v UTF8Validator
		for b.Loop() {
			v.Reset()
			if !v.Write(text) || !v.Complete() {
				b.Fatal("invalid")
			}
		}
	})
	b.Run("utf8.Valid", func(b *testing.B) {
		b.SetBytes(int64(len(text)))
		for b.Loop() {
			if !utf8.Valid(text) {
				b.Fatal("invalid")
			}
		}
	})
}
