package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"github.com/learnws/learnws"
	"net"
	"reflect"
	"strings"
	"testing"
)

// runCmd runs the program with args and stdin, returning its exit status and outputs.
func runCmd(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

// wantOneLineError checks the error contract: exit 2, one line on stderr that starts
// with "learnws CMD: " and contains want, no stack trace.
func wantOneLineError(t *testing.T, code int, stderr, cmd, want string) {
	t.Helper()
	if code != 2 {
		t.Errorf("exit status %d, want 2", code)
	}
	if strings.Count(stderr, "\n") != 1 || !strings.HasSuffix(stderr, "\n") {
		t.Errorf("stderr is not one line: %q", stderr)
	}
	if !strings.HasPrefix(stderr, "learnws "+cmd+": ") {
		t.Errorf("stderr %q does not start with %q", stderr, "learnws "+cmd+": ")
	}
	if !strings.Contains(stderr, want) {
		t.Errorf("stderr %q does not contain %q", stderr, want)
	}
	if strings.Contains(stderr, "goroutine") || strings.Contains(stderr, "panic") {
		t.Errorf("stderr has a stack trace: %q", stderr)
	}
}

// The hex formats decode accepts (xxd, hexdump -C, Wireshark, 0x, colons, …)
// and their error messages are tested in internal/pastedhex, which the web
// decoder reads with too.

// TestAcceptRFC checks the RFC 6455 §1.3 example: the values are the RFC's, not the
// program's output.
func TestAcceptRFC(t *testing.T) {
	code, out, errs := runCmd(t, "", "accept", "dGhlIHNhbXBsZSBub25jZQ==")
	if code != 0 || errs != "" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	for _, want := range []string{
		"dGhlIHNhbXBsZSBub25jZQ==",
		"258EAFA5-E914-47DA-95CA-C5AB0DC85B11",
		"dGhlIHNhbXBsZSBub25jZQ==258EAFA5-E914-47DA-95CA-C5AB0DC85B11",
		"b37a4f2cc0624f1690f64606cf385945b2bec4ea",
		"the sample nonce",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x1b[") {
		t.Errorf("colour codes in piped output:\n%q", out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var last string
	for _, l := range lines {
		if strings.Contains(l, "Accept") {
			last = l
		}
	}
	if !strings.HasSuffix(last, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") {
		t.Errorf("the Accept step does not end in the RFC's value: %q", last)
	}

	code, out, _ = runCmd(t, "", "accept", "--json", "dGhlIHNhbXBsZSBub25jZQ==")
	if code != 0 {
		t.Fatalf("--json: exit %d", code)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("--json output is not JSON: %v\n%s", err, out)
	}
	want := map[string]any{
		"key":          "dGhlIHNhbXBsZSBub25jZQ==",
		"guid":         "258EAFA5-E914-47DA-95CA-C5AB0DC85B11",
		"concatenated": "dGhlIHNhbXBsZSBub25jZQ==258EAFA5-E914-47DA-95CA-C5AB0DC85B11",
		"sha1_hex":     "b37a4f2cc0624f1690f64606cf385945b2bec4ea",
		"accept":       "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("--json = %v\nwant     %v", got, want)
	}
	// Flags after the key work too.
	if code, out2, _ := runCmd(t, "", "accept", "dGhlIHNhbXBsZSBub25jZQ==", "--json"); code != 0 || out2 != out {
		t.Errorf("flag after the key: exit %d, output %q", code, out2)
	}
}

func TestAcceptErrors(t *testing.T) {
	code, out, errs := runCmd(t, "", "accept", "not base64!")
	wantOneLineError(t, code, errs, "accept", "not a base64 character")
	if out != "" {
		t.Errorf("stdout for a non-base64 key: %q", out)
	}
	// Valid base64, but 12 bytes: derived anyway, then reported.
	code, out, errs = runCmd(t, "", "accept", "AAAAAAAAAAAAAAAA")
	wantOneLineError(t, code, errs, "accept", "decodes to 12 bytes; it must be 16")
	if !strings.Contains(out, "SHA-1") {
		t.Errorf("no derivation printed for a 12-byte key:\n%s", out)
	}
	code, _, errs = runCmd(t, "", "accept")
	wantOneLineError(t, code, errs, "accept", "missing KEY")
	code, _, errs = runCmd(t, "", "accept", "--nope", "x")
	wantOneLineError(t, code, errs, "accept", "flag provided but not defined: -nope")
}

// decodeJSON runs "decode --json" on hex and parses the result.
func decodeJSON(t *testing.T, stdin string, args ...string) (int, map[string]any, string) {
	t.Helper()
	code, out, errs := runCmd(t, stdin, append([]string{"decode", "--json"}, args...)...)
	var v map[string]any
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("decode --json output is not JSON (%v): %q; stderr %q", err, out, errs)
	}
	return code, v, errs
}

// TestDecodeRFCFrames checks every RFC 6455 §5.7 example, with expectations written
// from the RFC's text.
func TestDecodeRFCFrames(t *testing.T) {
	type frame struct {
		fin     bool
		opcode  float64
		name    string
		masked  bool
		key     string
		length  float64
		payload string
		text    any // string, or nil for no "text" key
	}
	hello := "48656c6c6f"
	tests := []struct {
		name, hex string
		frames    []frame
	}{
		{"unmasked text", "81 05 48 65 6c 6c 6f", []frame{{true, 1, "text", false, "", 5, hello, "Hello"}}},
		{"masked text", "81 85 37 fa 21 3d 7f 9f 4d 51 58", []frame{{true, 1, "text", true, "37fa213d", 5, hello, "Hello"}}},
		{"fragmented", "01 03 48 65 6c 80 02 6c 6f", []frame{
			{false, 1, "text", false, "", 3, "48656c", "Hel"},
			{true, 0, "continuation", false, "", 2, "6c6f", "lo"},
		}},
		{"ping", "89 05 48 65 6c 6c 6f", []frame{{true, 9, "ping", false, "", 5, hello, nil}}},
		{"masked pong", "8a 85 37 fa 21 3d 7f 9f 4d 51 58", []frame{{true, 10, "pong", true, "37fa213d", 5, hello, nil}}},
		{"256 bytes binary", "82 7e 01 00" + strings.Repeat(" 00", 256), []frame{{true, 2, "binary", false, "", 256, strings.Repeat("00", 256), nil}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, v, errs := decodeJSON(t, "", tc.hex)
			if code != 0 {
				t.Fatalf("exit %d, stderr %q", code, errs)
			}
			if v["rest"] != "" {
				t.Errorf("rest = %v, want empty", v["rest"])
			}
			if _, ok := v["error"]; ok {
				t.Errorf("error present: %v", v["error"])
			}
			fs := v["frames"].([]any)
			if len(fs) != len(tc.frames) {
				t.Fatalf("%d frames, want %d", len(fs), len(tc.frames))
			}
			input, _ := hex.DecodeString(strings.ReplaceAll(tc.hex, " ", ""))
			for i, want := range tc.frames {
				f := fs[i].(map[string]any)
				got := frame{f["fin"].(bool), f["opcode"].(float64), f["opcode_name"].(string), f["masked"].(bool),
					f["masking_key"].(string), f["payload_length"].(float64), f["payload"].(string), f["text"]}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("frame %d = %+v\nwant      %+v", i, got, want)
				}
				for _, k := range []string{"offset", "length", "rsv1", "rsv2", "rsv3", "close_code", "close_reason", "fields"} {
					if _, ok := f[k]; !ok {
						t.Errorf("frame %d lacks key %q", i, k)
					}
				}
			}
			checkCoverage(t, v, len(input))
		})
	}
}

// checkCoverage checks that the fields of all frames, plus rest, cover every byte.
func checkCoverage(t *testing.T, v map[string]any, n int) {
	t.Helper()
	covered := make([]byte, n) // OR of the bits owned
	for _, f := range v["frames"].([]any) {
		for _, fd := range f.(map[string]any)["fields"].([]any) {
			m := fd.(map[string]any)
			off, length, bits := int(m["offset"].(float64)), int(m["length"].(float64)), byte(m["bits"].(float64))
			for i := off; i < off+length && i < n; i++ {
				if covered[i]&bits != 0 {
					t.Errorf("byte %d: bits %08b of %q covered twice", i, bits, m["name"])
				}
				covered[i] |= bits
			}
		}
	}
	rest := len(v["rest"].(string)) / 2
	for i := 0; i < n-rest; i++ {
		if covered[i] != 0xFF {
			t.Errorf("byte %d: bits %08b unexplained", i, ^covered[i])
		}
	}
}

func TestDecodeTable(t *testing.T) {
	code, out, errs := runCmd(t, "", "decode", "81", "85", "37", "fa", "21", "3d", "7f", "9f", "4d", "51", "58")
	if code != 0 || errs != "" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	for _, want := range []string{"fin", "rsv1", "rsv2", "rsv3", "opcode", "mask", "payload_length", "masking_key",
		"37 fa 21 3d", "masked_payload", "7f 9f 4d 51 58", `"Hello"`, "1.......", "....0001", ".0000101"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x1b[") {
		t.Errorf("colour codes in piped output")
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name  string
		stdin string
		args  []string
		want  string
	}{
		{"odd", "", []string{"81 85 37 fa 21 3d 7f 9f 4d 51 5"}, "line 1, column 31: a lone hex digit"},
		{"non-hex", "", []string{"81", "zz"}, "line 1, column 4: 'z' is not a hex digit"},
		{"empty arg", "", []string{""}, "no hex digits"},
		{"empty stdin", "", []string{"-"}, "no hex digits"},
		{"no args", "", nil, "missing HEX"},
		{"unknown flag", "", []string{"--wat", "81 00"}, "flag provided but not defined: -wat"},
		{"truncated payload", "", []string{"81 85 37 fa 21 3d 7f 9f"}, "declares 5 payload bytes; only 2 present"},
		{"truncated header", "", []string{"81"}, "header"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errs := runCmd(t, tc.stdin, append([]string{"decode"}, tc.args...)...)
			wantOneLineError(t, code, errs, "decode", tc.want)
		})
	}
	// A truncated frame: what was decoded is printed first.
	code, out, _ := runCmd(t, "", "decode", "81 85 37 fa 21 3d 7f 9f")
	if code != 2 || !strings.Contains(out, "masking_key") {
		t.Errorf("truncated frame: exit %d, output lacks the decoded header:\n%s", code, out)
	}
	code, v, _ := decodeJSON(t, "", "81 05 48 65 6c 6c 6f 81 05")
	if code != 2 || v["rest"] != "8105" || len(v["frames"].([]any)) != 1 {
		t.Errorf("truncated second frame: exit %d, rest %v, frames %v", code, v["rest"], v["frames"])
	}
	if v["error"] == nil {
		t.Errorf("truncated: no error key: %v", v)
	}
}

// TestDecodePastedFormats: decode reads what the web decoder reads, such as
// Wireshark's "Copy as C Arrays" and an xxd dump on standard input.
func TestDecodePastedFormats(t *testing.T) {
	for name, in := range map[string]string{
		"c array": "char peer0_0[] = { /* Packet 4 */\n0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f,\n0x4d, 0x51, 0x58 };\n",
		"xxd":     "00000000: 8185 37fa 213d 7f9f 4d51 58              ..7.!=..MQX\n",
	} {
		code, v, errs := decodeJSON(t, in, "-")
		frames, _ := v["frames"].([]any)
		if code != 0 || len(frames) != 1 || frames[0].(map[string]any)["text"] != "Hello" {
			t.Errorf("%s: exit %d, stderr %q, frames %v", name, code, errs, frames)
		}
	}
}

// TestDecodeProtocolError: whole frames that break the protocol are shown, with the
// problem, and exit status 2 with the problem named on standard error.
func TestDecodeProtocolError(t *testing.T) {
	// A ping with FIN clear (control frames are never fragmented, §5.5).
	code, v, errs := decodeJSON(t, "", "09 00")
	if code != 2 || !strings.Contains(errs, "fragment") || strings.Count(errs, "\n") != 1 {
		t.Errorf("exit %d (want 2), stderr %q (want one line naming the problem)", code, errs)
	}
	if e, _ := v["error"].(string); !strings.Contains(e, "fragment") {
		t.Errorf("error = %q, want it to say why", e)
	}
	code, out, _ := runCmd(t, "", "decode", "09 00")
	if code != 2 || !strings.Contains(out, "problem:") {
		t.Errorf("table: exit %d, no problem line:\n%s", code, out)
	}
}

func TestDecodeCloseFrame(t *testing.T) {
	// 88 05 03 e8 62 79 65: close, code 1000 (0x03e8), reason "bye".
	code, v, _ := decodeJSON(t, "", "88 05 03 e8 62 79 65")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	f := v["frames"].([]any)[0].(map[string]any)
	if f["close_code"] != float64(1000) || f["close_reason"] != "bye" || f["text"] != "bye" {
		t.Errorf("close_code %v, close_reason %v, text %v", f["close_code"], f["close_reason"], f["text"])
	}
	// A text frame has null close fields.
	_, v, _ = decodeJSON(t, "", "81 00")
	f = v["frames"].([]any)[0].(map[string]any)
	if f["close_code"] != nil || f["close_reason"] != nil {
		t.Errorf("text frame: close_code %v, close_reason %v, want null", f["close_code"], f["close_reason"])
	}
	if f["text"] != "" {
		t.Errorf("empty text frame: text = %#v, want \"\"", f["text"])
	}
}

// TestDecodeStdinMiB decodes a 1 MiB masked binary frame read as 2 MiB of hex.
func TestDecodeStdinMiB(t *testing.T) {
	const n = 1 << 20
	payload := bytes.Repeat([]byte("abcdefgh"), n/8)
	key := [4]byte{1, 2, 3, 4}
	frame := []byte{0x82, 0xff, 0, 0, 0, 0, 0, 0x10, 0, 0, 1, 2, 3, 4}
	for i, b := range payload {
		frame = append(frame, b^key[i%4])
	}
	var in strings.Builder
	in.WriteString(hex.EncodeToString(frame))
	in.WriteString("\n")
	code, v, errs := decodeJSON(t, in.String(), "-")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	f := v["frames"].([]any)[0].(map[string]any)
	if f["payload_length"] != float64(n) || f["payload"] != hex.EncodeToString(payload) {
		t.Errorf("payload_length %v; payload differs", f["payload_length"])
	}
	// The table stays readable: no megabyte lines.
	code, out, _ := runCmd(t, in.String(), "decode", "-")
	if code != 0 {
		t.Fatalf("table: exit %d", code)
	}
	for _, l := range strings.Split(out, "\n") {
		if len(l) > 400 {
			t.Fatalf("a %d-byte line in the table", len(l))
		}
	}
}

func TestFrame(t *testing.T) {
	tests := []struct {
		args []string
		want string // hex, from RFC 6455 §5.7 or computed by hand
	}{
		{[]string{"--mask", "37fa213d", "Hello"}, "818537fa213d7f9f4d5158"},
		{[]string{"--no-mask", "Hello"}, "810548656c6c6f"},
		{[]string{"--no-mask", "--fin=false", "Hel"}, "010348656c"},
		{[]string{"--no-mask", "--opcode", "continuation", "lo"}, "80026c6f"},
		{[]string{"--no-mask", "--opcode", "ping", "Hello"}, "890548656c6c6f"},
		{[]string{"--mask", "37 fa 21 3d", "--opcode", "pong", "Hello"}, "8a8537fa213d7f9f4d5158"},
		{[]string{"--no-mask", "--opcode", "close", "1000 bye"}, "880503e8627965"},
		{[]string{"--no-mask", "--opcode", "close"}, "8800"},
		{[]string{"--no-mask", "--opcode", "binary", "--hex", "00 ff"}, "820200ff"},
		{[]string{"--no-mask", "--rsv1", "x"}, "c10178"},
	}
	for _, tc := range tests {
		code, out, errs := runCmd(t, "", append([]string{"frame", "--json"}, tc.args...)...)
		if code != 0 {
			t.Errorf("frame %q: exit %d, stderr %q", tc.args, code, errs)
			continue
		}
		var v map[string]any
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Fatalf("frame %q: not JSON: %v", tc.args, err)
		}
		if v["hex"] != tc.want {
			t.Errorf("frame %q = %v, want %s", tc.args, v["hex"], tc.want)
		}
	}
	// 126 bytes take the 16-bit length form.
	code, out, _ := runCmd(t, "", "frame", "--json", "--no-mask", strings.Repeat("a", 126))
	if code != 0 || !strings.Contains(out, `"hex":"817e007e`) {
		t.Errorf("126-byte frame: exit %d, %.80s", code, out)
	}
	// Default: masked with a random key, and two runs differ.
	seen := map[string]bool{}
	for range 4 {
		_, out, _ := runCmd(t, "", "frame", "--json", "Hello")
		var v struct {
			Hex    string
			Frames []struct {
				Masked  bool   `json:"masked"`
				Payload string `json:"payload"`
			}
		}
		if err := json.Unmarshal([]byte(out), &v); err != nil || len(v.Frames) != 1 {
			t.Fatalf("default frame: %v %s", err, out)
		}
		if !v.Frames[0].Masked || v.Frames[0].Payload != "48656c6c6f" {
			t.Errorf("default frame not masked or wrong payload: %+v", v.Frames[0])
		}
		seen[v.Hex] = true
	}
	if len(seen) < 2 {
		t.Errorf("four runs used the same masking key")
	}
	code, out, errs := runCmd(t, "", "frame", "--mask", "37fa213d", "Hello")
	if code != 0 || !strings.Contains(out, "81 85 37 fa 21 3d 7f 9f 4d 51 58") || errs != "" {
		t.Errorf("table: exit %d, %q\n%s", code, errs, out)
	}
}

func TestFrameErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--opcode", "bogus", "x"}, "unknown opcode name"},
		{[]string{"--mask", "123", "x"}, "--mask"},
		{[]string{"--mask", "1234", "x"}, "4 bytes"},
		{[]string{"--mask", "01020304", "--no-mask", "x"}, "contradict"},
		{[]string{"--opcode", "close", "bye"}, "not a status code"},
		{[]string{"--hex", "xyz"}, "not a hex digit"},
		{[]string{"a", "b"}, "want one PAYLOAD"},
	}
	for _, tc := range tests {
		code, _, errs := runCmd(t, "", append([]string{"frame"}, tc.args...)...)
		wantOneLineError(t, code, errs, "frame", tc.want)
	}
}

func TestUnknownCommandAndHelp(t *testing.T) {
	code, _, errs := runCmd(t, "", "frobnicate")
	if code != 2 || !strings.Contains(errs, `unknown command "frobnicate"`) {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
	code, out, _ := runCmd(t, "", "help")
	if code != 0 || !strings.Contains(out, "learnws decode") {
		t.Errorf("help: exit %d\n%s", code, out)
	}
	code, out, errs = runCmd(t, "", "decode", "--help")
	if code != 0 || !strings.Contains(out, "-json") || errs != "" {
		t.Errorf("decode --help: exit %d, stderr %q\n%s", code, errs, out)
	}
}

func TestServeURLs(t *testing.T) {
	ips := []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1"), net.ParseIP("fe80::1"),
		net.ParseIP("2001:db8::5"), net.ParseIP("192.168.1.20"), net.ParseIP("10.0.0.3")}
	tests := []struct {
		addr *net.TCPAddr
		want []string
	}{
		{&net.TCPAddr{IP: net.ParseIP("127.0.0.1"), Port: 8080}, []string{"http://127.0.0.1:8080/"}},
		{&net.TCPAddr{IP: net.IPv4zero, Port: 8080}, []string{"http://localhost:8080/", "http://192.168.1.20:8080/", "http://10.0.0.3:8080/"}},
		{&net.TCPAddr{IP: net.IPv6unspecified, Port: 80}, []string{"http://localhost:80/", "http://192.168.1.20:80/", "http://10.0.0.3:80/", "http://[2001:db8::5]:80/"}},
		{&net.TCPAddr{IP: net.ParseIP("::1"), Port: 9}, []string{"http://[::1]:9/"}},
	}
	for _, tc := range tests {
		if got := learnws.ServeURLs(tc.addr, ips); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ServeURLs(%v) = %q, want %q", tc.addr, got, tc.want)
		}
	}
}

func TestParseFlagsInterleaved(t *testing.T) {
	code, out, _ := runCmd(t, "", "frame", "--no-mask", "--", "--json")
	if code != 0 || !strings.Contains(out, fmt.Sprintf("%q", "--json")) {
		t.Errorf(`"--" should end the flags: exit %d\n%s`, code, out)
	}
}
