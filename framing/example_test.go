package framing_test

import (
	"fmt"

	"github.com/learnws/learnws/framing"
)

// The masked "Hello" a client sends, from RFC 6455 §5.7.
func ExampleAnnotate() {
	frame := []byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}
	a := framing.Annotate(frame)
	for _, f := range a.Frames[0].Fields {
		fmt.Printf("%-15s byte %d+%d bits %08b  %-12s %s\n", f.Name, f.Offset, f.Length, f.Bits, f.Value, f.Note)
	}
	fmt.Println(a.Frames[0].Text, a.Err)
	// Output:
	// fin             byte 0+1 bits 10000000  1            final fragment of the message
	// rsv1            byte 0+1 bits 01000000  0            reserved for extensions
	// rsv2            byte 0+1 bits 00100000  0            reserved for extensions
	// rsv3            byte 0+1 bits 00010000  0            reserved for extensions
	// opcode          byte 0+1 bits 00001111  0x1 text     data frame
	// mask            byte 1+1 bits 10000000  1            masked: client to server, a masking key follows
	// payload_length  byte 1+1 bits 01111111  5            payload is 5 bytes
	// masking_key     byte 2+4 bits 11111111  37 fa 21 3d  payload byte i is XORed with key byte i mod 4
	// masked_payload  byte 6+5 bits 11111111  "Hello"      on the wire (masked): 7f 9f 4d 51 58
	// Hello <nil>
}

// Unmasking the MDN example, one byte at a time and all at once.
func ExampleMask() {
	key := [4]byte{1, 2, 3, 4}
	encoded := []byte{105, 103, 111, 104, 110}

	slow := append([]byte(nil), encoded...)
	framing.MaskBytes(key, 0, slow) // b[i] ^= key[i%4]

	fast := append([]byte(nil), encoded...)
	pos := framing.Mask(key, 0, fast[:3]) // in two pieces: the position carries over
	framing.Mask(key, pos, fast[3:])

	fmt.Printf("%s %s\n", slow, fast)
	// Output:
	// hello hello
}

// A 256-byte binary frame's header uses the 16-bit extended length.
func ExampleParseHeader() {
	h, n, err := framing.ParseHeader([]byte{0x82, 0x7e, 0x01, 0x00})
	fmt.Println(h, n, err)
	fmt.Printf("fin=%v opcode=%v length=%d form=%d bytes\n", h.Fin, h.Opcode, h.PayloadLength, h.LengthBytes)
	fmt.Println(h.Check(framing.RoleClient, nil), h.Check(framing.RoleServer, nil))
	// Output:
	// binary fin len=256 4 <nil>
	// fin=true opcode=binary length=256 form=2 bytes
	// [] [framing: frame from a client is not masked; a client must mask every frame]
}

func ExampleAppendFrame() {
	h := framing.Header{Fin: true, Opcode: framing.OpText, Masked: true, MaskingKey: [4]byte{0xa1, 0xb2, 0xc3, 0xd4}}
	fmt.Printf("% x\n", framing.AppendFrame(nil, h, []byte("Hello")))
	// Output:
	// 81 85 a1 b2 c3 d4 e9 d7 af b8 ce
}

func ExampleParseClosePayload() {
	code, reason, err := framing.ParseClosePayload([]byte{0x03, 0xe8, 'b', 'y', 'e'})
	fmt.Println(code, reason, err)
	fmt.Printf("% x\n", framing.AppendClosePayload(nil, framing.CloseGoingAway, "restart"))
	// Output:
	// 1000 Normal Closure bye <nil>
	// 03 e9 72 65 73 74 61 72 74
}

func ExampleUTF8Validator() {
	var v framing.UTF8Validator
	fmt.Println(v.Write([]byte{0xe4, 0xb8}), v.Complete()) // the first 2 bytes of 中
	fmt.Println(v.Write([]byte{0xad}), v.Complete())       // and the last
	v.Reset()
	fmt.Println(v.Write([]byte{0xf4, 0x90})) // would be above U+10FFFF: fails at once
	// Output:
	// true false
	// true true
	// false
}
