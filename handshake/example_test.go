package handshake_test

import (
	"bufio"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/learnws/learnws/handshake"
)

func ExampleAccept() {
	fmt.Println(handshake.Accept("dGhlIHNhbXBsZSBub25jZQ=="))
	// Output: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=
}

func ExampleDerive() {
	d := handshake.Derive("dGhlIHNhbXBsZSBub25jZQ==")
	fmt.Printf("key:          %s\n", d.Key)
	fmt.Printf("nonce:        %q (%d bytes)\n", d.KeyBytes, len(d.KeyBytes))
	fmt.Printf("key + GUID:   %s\n", d.Concatenated)
	fmt.Printf("SHA-1:        % x\n", d.SHA1)
	fmt.Printf("base64:       %s\n", d.Accept)
	// Output:
	// key:          dGhlIHNhbXBsZSBub25jZQ==
	// nonce:        "the sample nonce" (16 bytes)
	// key + GUID:   dGhlIHNhbXBsZSBub25jZQ==258EAFA5-E914-47DA-95CA-C5AB0DC85B11
	// SHA-1:        b3 7a 4f 2c c0 62 4f 16 90 f6 46 06 cf 38 59 45 b2 be c4 ea
	// base64:       s3pPLMBiTxaQ9kYGzzhZRbK+xOo=
}

func ExampleCheckKey() {
	for _, key := range []string{
		"dGhlIHNhbXBsZSBub25jZQ==",
		"AAAAAAAAAAAAAAAA",
		"dGhl-HNhbXBsZSBub25jZQ==",
	} {
		fmt.Println(handshake.CheckKey(key))
	}
	// Output:
	// <nil>
	// handshake: Sec-WebSocket-Key decodes to 12 bytes; it must be 16
	// handshake: Sec-WebSocket-Key has '-' at position 4: that is the URL-safe base64 alphabet; the key must use the standard one, with + and /
}

func ExampleNewKey() {
	// A fixed reader gives a known key; pass nil to use crypto/rand.
	key, _ := handshake.NewKey(strings.NewReader("the sample nonce"))
	fmt.Println(key)
	// Output: dGhlIHNhbXBsZSBub25jZQ==
}

func ExampleNewRequest() {
	u, _ := url.Parse("ws://server.example.com/chat")
	raw := handshake.NewRequest(u, "dGhlIHNhbXBsZSBub25jZQ==", []string{"chat", "superchat"}, "http://example.com")
	fmt.Print(strings.ReplaceAll(string(raw), "\r\n", "\n"))
	// Output:
	// GET /chat HTTP/1.1
	// Host: server.example.com
	// Upgrade: websocket
	// Connection: Upgrade
	// Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==
	// Origin: http://example.com
	// Sec-WebSocket-Protocol: chat, superchat
	// Sec-WebSocket-Version: 13
}

func ExamplePolicy_Respond() {
	raw := "GET /chat HTTP/1.1\r\n" +
		"Host: server.example.com\r\n" +
		"Upgrade: websocket\r\n" +
		"Connection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
		"Origin: http://example.com\r\n" +
		"Sec-WebSocket-Protocol: chat, superchat\r\n" +
		"Sec-WebSocket-Version: 13\r\n\r\n"
	req, _ := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))

	// The page comes from example.com, the server is server.example.com:
	// the same-host default refuses it.
	_, err := (&handshake.Policy{}).Respond(req)
	fmt.Println(err)

	p := &handshake.Policy{Subprotocols: []string{"chat"}, Origins: []string{"http://example.com"}}
	resp, _ := p.Respond(req)
	fmt.Print(strings.ReplaceAll(string(resp.AppendTo(nil)), "\r\n", "\n"))
	// Output:
	// handshake: Origin "http://example.com" is another site: its host "example.com" is not this server's host "server.example.com"
	// HTTP/1.1 101 Switching Protocols
	// Upgrade: websocket
	// Connection: Upgrade
	// Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=
	// Sec-WebSocket-Protocol: chat
}

func ExampleExplainAccept() {
	fmt.Println(handshake.ExplainAccept("dGhlIHNhbXBsZSBub25jZQ==", "BXhwxM0SZasKmCD9S4BfpPmCnEw="))
	// Output: Sec-WebSocket-Accept is "BXhwxM0SZasKmCD9S4BfpPmCnEw="; for key "dGhlIHNhbXBsZSBub25jZQ==" it must be "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=": it hashes the key's base64-decoded bytes; the key must be hashed as the string that was sent (RFC 6455 §4.1: "as a string, not base64-decoded")
}

func ExampleAnnotateRequest() {
	raw := []byte("GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n" +
		"Sec-WebSocket-Key: AAAAAAAAAAAAAAAA\r\nSec-WebSocket-Version: 13\r\n\r\n")
	for _, l := range handshake.AnnotateRequest(raw) {
		fmt.Printf("%3d +%2d %s", l.Offset, l.Length, l.Kind)
		if l.Problem != "" {
			fmt.Printf(": %s", l.Problem)
		}
		fmt.Println()
	}
	// Output:
	//   0 +20 request-line
	//  20 +26 host
	//  46 +20 upgrade
	//  66 +37 sec-websocket-key: Sec-WebSocket-Key decodes to 12 bytes; it must be 16
	// 103 +27 sec-websocket-version
	// 130 + 2 end: the request has no Connection header; it must contain the token "Upgrade" (proxies drop it unless told to pass it on: it is hop-by-hop)
}

func ExampleUpgrade() {
	// In an HTTP handler (a gin handler passes c.Writer and c.Request):
	_ = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, br, resp, err := handshake.Upgrade(w, r, &handshake.Policy{Subprotocols: []string{"chat"}})
		if err != nil {
			return // Upgrade has already answered with the status and reason
		}
		defer conn.Close()
		_ = resp.Subprotocol // "chat" or ""
		_ = br               // read frames from br: it may already hold some
	})
}
