package framejson

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/learnws/learnws/framing"
)

// TestShape checks the keys DESIGN.md promises for `learnws decode --json`,
// on the RFC 6455 §5.7 masked "Hello" followed by a close frame (1000, "bye").
func TestShape(t *testing.T) {
	b := []byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}
	b = framing.AppendFrame(b, framing.Header{Fin: true, Opcode: framing.OpClose},
		framing.AppendClosePayload(nil, framing.CloseNormal, "bye"))
	out, err := json.Marshal(FromAnnotation(framing.Annotate(append(b, 0x81))))
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	for _, want := range []string{
		`"frames":[{"offset":0,"length":11,"fin":true,"rsv1":false,"rsv2":false,"rsv3":false,"opcode":1,"opcode_name":"text","masked":true,"payload_length":5,"masking_key":"37fa213d","payload":"48656c6c6f","text":"Hello","close_code":null,"close_reason":null,"fields":[{"name":"fin",`,
		`{"offset":11,"length":7,"fin":true,`, `"opcode_name":"close","masked":false,"payload_length":5,"masking_key":"","payload":"03e8627965","text":"bye","close_code":1000,"close_reason":"bye",`,
		`"rest":"81"`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("JSON lacks %s\n%s", want, s)
		}
	}
	// Notes carry their translation key (an addition to DESIGN.md's keys).
	if !strings.Contains(s, `"note":"masked: client to server, a masking key follows","note_key":"mask.client"}`) ||
		!strings.Contains(s, `"note":"payload is 5 bytes","note_key":"length.bytes","note_args":["5"]}`) {
		t.Errorf("JSON lacks the note keys: %s", s)
	}
	// The last byte starts a frame the input cuts off: it is rest, and the
	// error says so.
	if !strings.Contains(s, `"error":"framing: frame at offset 18 needs a 2-byte header`) {
		t.Errorf("no error for the cut frame: %s", s)
	}
	// Without a problem there is no "error" key at all.
	out, _ = json.Marshal(FromAnnotation(framing.Annotate(b)))
	if strings.Contains(string(out), `"error"`) {
		t.Errorf("error key on valid frames: %s", out)
	}
}
