package framing_test

import (
	"bytes"
	"fmt"
	"net"

	"github.com/learnws/learnws/framing"
)

// A client and a server Conn joined by an in-memory connection (as if the
// opening handshake had just finished). The server echoes; the client traces
// every frame it reads and writes. With the masking key of RFC 6455 §5.7,
// the client's "Hello" is the RFC's masked example byte for byte, and the
// server's reply its unmasked one.
func ExampleConn() {
	c, s := net.Pipe()
	server := framing.NewConn(s, nil, framing.RoleServer, nil)
	client := framing.NewConn(c, nil, framing.RoleClient, &framing.Options{
		// Fixed masking keys for a repeatable example; leave Rand nil
		// (crypto/rand) in real use.
		Rand: bytes.NewReader(bytes.Repeat([]byte{0x37, 0xfa, 0x21, 0x3d}, 4)),
		Trace: func(e framing.TraceEvent) {
			fmt.Printf("%-3s % x  (%v)\n", e.Dir, e.Raw, e.Header)
		},
	})

	go func() { // the echo server
		for {
			op, p, err := server.ReadMessage()
			if err != nil {
				return // the close handshake ends here
			}
			server.WriteMessage(op, p)
		}
	}()

	client.WriteMessage(framing.OpText, []byte("Hello"))
	op, p, _ := client.ReadMessage()
	fmt.Printf("echo: %s %q\n", op, p)
	fmt.Println("close:", client.Close(framing.CloseNormal, ""))
	// Output:
	// out 81 85 37 fa 21 3d 7f 9f 4d 51 58  (text fin len=5 masked key=37fa213d)
	// in  81 05 48 65 6c 6c 6f  (text fin len=5)
	// echo: text "Hello"
	// out 88 82 37 fa 21 3d 34 12  (close fin len=2 masked key=37fa213d)
	// in  88 02 03 e8  (close fin len=2)
	// close: <nil>
}

// AppendMessage is ReadMessage for a loop that keeps one buffer: each message
// is appended to buf[:0], so once the buffer has grown to the largest message
// the loop allocates nothing. Here a fragmented message (RFC 6455 §5.4) and a
// whole one arrive, each reassembled into the same buffer.
func ExampleConn_AppendMessage() {
	c, s := net.Pipe()
	server := framing.NewConn(s, nil, framing.RoleServer, nil)
	client := framing.NewConn(c, nil, framing.RoleClient, nil)

	go func() {
		// "Hel" + "lo" in two fragments, as in §5.7, then "again" in one frame.
		client.WriteFrame(framing.Header{Opcode: framing.OpText}, []byte("Hel"))
		client.WriteFrame(framing.Header{Fin: true, Opcode: framing.OpContinuation}, []byte("lo"))
		client.WriteMessage(framing.OpText, []byte("again"))
		client.Close(framing.CloseNormal, "")
	}()

	buf := make([]byte, 0, 64)
	for {
		op, msg, err := server.AppendMessage(buf[:0])
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%s %q (same buffer: %v)\n", op, msg, &msg[0] == &buf[:1][0])
		buf = msg
	}
	// Output:
	// text "Hello" (same buffer: true)
	// text "again" (same buffer: true)
	// framing: peer closed the connection: 1000 Normal Closure
}
