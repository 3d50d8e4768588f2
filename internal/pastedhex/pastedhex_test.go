package pastedhex

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// hello is RFC 6455 §5.7's masked "Hello": the bytes every format below spells.
var hello = []byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}

func TestParseFormats(t *testing.T) {
	tests := []struct {
		name, in string
		want     []byte
	}{
		{"stream", "818537fa213d7f9f4d5158", hello},
		{"spaced", "81 85 37 fa 21 3d 7f 9f 4d 51 58", hello},
		{"upper", "818537FA213D7F9F4D5158", hello},
		{"0x and commas", "0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58", hello},
		{"0x stream", "0x818537fa213d7f9f4d5158", hello},
		{"c array", "char peer0_0[] = { /* Packet 4 */\n0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f,\n0x4d, 0x51, 0x58 };", hello},
		{"escapes", `\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58`, hello},
		{"colons", "81:85:37:fa:21:3d:7f:9f:4d:51:58", hello},
		{"lines", "81 85\n37 fa 21 3d\r\n7f 9f 4d 51 58\n", hello},
		{"tabs", "\t81\t85 37fa 213d 7f9f 4d51 58 ", hello},
		{"xxd", "00000000: 8185 37fa 213d 7f9f 4d51 58              ..7.!=..MQX\n", hello},
		{"xxd two lines", "00000000: 8185 37fa 213d 7f9f  ..7.!=..\n00000008: 4d51 58              MQX\n", hello},
		{"xxd 16-byte lines", "00000000: 8185 37fa 213d 7f9f 4d51 5881 8537 fa21  ..7.!=..MQX..7.!\n00000010: 3d7f 9f4d 5158                           =..MQX",
			append(append([]byte{}, hello...), hello...)},
		{"hexdump -C", "00000000  81 85 37 fa 21 3d 7f 9f  4d 51 58                 |..7.!=..MQX|\n0000000b\n", hello},
		{"hexdump -C 17 bytes", "00000000  00 01 02 03 04 05 06 07  08 09 0a 0b 0c 0d 0e 0f  |................|\n00000010  10                                                |.|\n",
			[]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}},
		{"wireshark hex dump", "0000   81 85 37 fa 21 3d 7f 9f 4d 51 58               ..7.!=..MQX\n", hello},
		// An ASCII column made only of hex letters must not be read as bytes.
		{"xxd hex-looking ascii", "00000000: cafe  cafe\n", []byte{0xca, 0xfe}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(tc.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.in, err)
			}
			if !bytes.Equal(got, tc.want) {
				t.Errorf("Parse(%q) = % x, want % x", tc.in, got, tc.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		in, want string
		before   []byte // the bytes read before the problem
	}{
		{"81 85 37 fa zz", "line 1, column 13: 'z' is not a hex digit", []byte{0x81, 0x85, 0x37, 0xfa}},
		{"81\n85 g0", "line 2, column 4: 'g' is not a hex digit", []byte{0x81, 0x85}},
		{"81 85 37 fa 21 3d 7f 9f 4d 51 5", "line 1, column 31: a lone hex digit", hello[:10]},
		{"818", "line 1, column 3: a lone hex digit", []byte{0x81}},
		{"81 8", "lone hex digit", []byte{0x81}},
		{"", "no hex digits", nil},
		{"  \n ", "no hex digits", nil},
		{"81 ☃", "'☃' is not a hex digit", []byte{0x81}},
	}
	for _, tc := range tests {
		b, err := Parse(tc.in)
		var he *Error
		if !errors.As(err, &he) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q) error = %v, want it to contain %q", tc.in, err, tc.want)
			continue
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("Parse(%q): error is not one line: %q", tc.in, err)
		}
		if !bytes.Equal(b, tc.before) || !bytes.Equal(he.Bytes, tc.before) {
			t.Errorf("Parse(%q): bytes before the error % x (in error % x), want % x", tc.in, b, he.Bytes, tc.before)
		}
	}
}

// FuzzParse: any text either parses or says where it stops, and the bytes
// it returns with an error are the ones the error carries.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"81 85 37 fa", "00000000: 8185 37fa  ..7.", "0x81,0x85", `\x81`, "0000  81 85  |..|\n00000002", "/* c */ 0x81", "zz", "8"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := Parse(s)
		if err != nil {
			var he *Error
			if !errors.As(err, &he) || !bytes.Equal(he.Bytes, b) {
				t.Fatalf("%q: %v", s, err)
			}
			if he.Line < 1 || he.Col < 1 || strings.Contains(err.Error(), "\n") {
				t.Fatalf("%q: bad position or message: %v", s, err)
			}
			return
		}
		if len(b) == 0 {
			t.Fatalf("%q: no bytes and no error", s)
		}
	})
}
