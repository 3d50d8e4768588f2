package framing_test

import (
	"fmt"

	"github.com/learnws/learnws/framing"
)

// An Annotator explains the RFC 6455 §5.7 fragmented "Hello" ("Hel" then "lo",
// with a ping between the two) one frame at a time, carrying the message under
// way from each frame to the next.
func ExampleAnnotator() {
	capture := []byte{
		0x01, 0x03, 'H', 'e', 'l', // text, not FIN: the first fragment
		0x89, 0x00, // an empty ping between fragments
		0x80, 0x02, 'l', 'o', // continuation, FIN
	}
	a := framing.NewAnnotator(capture)
	for a.Next() {
		f := a.Frame()
		fmt.Printf("%d-%d %s fin=%v text=%q\n", f.Offset, f.Offset+f.Length-1, f.Header.Opcode, f.Header.Fin, f.Text)
	}
	fmt.Println("error:", a.Err())
	// Output:
	// 0-4 text fin=false text="Hel"
	// 5-6 ping fin=true text=""
	// 7-10 continuation fin=true text="lo"
	// error: <nil>
}
