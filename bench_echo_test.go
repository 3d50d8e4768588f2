package learnws

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/learnws/learnws/framing"
	"github.com/learnws/learnws/handshake"
)

// BenchmarkEcho measures an echo round trip (send a binary message, read it back) over
// 64 concurrent connections through real loopback TCP, for
//
//   - ours:       our client (handshake + framing) against /ws/echo (our server);
//   - gorilla:    gorilla's client against /ws/gorilla/echo (gorilla's server);
//   - ourserver:  gorilla's client against /ws/echo, so only the server differs from
//     "gorilla".
//
// All three run against the same Server in the same process, through the same
// listener (wire.Listener counting bytes). One op is one round trip of one message;
// SetBytes counts the message once. At the end the ratios ours/gorilla of ns/op are
// logged (below 1 means ours is faster).
//
//	go test -run '^$' -bench Echo -benchtime 2s .
func BenchmarkEcho(b *testing.B) {
	// 64 connections per implementation, all from this address: no cap in the way.
	_, site := serveSite(b, Config{EchoMaxConns: 1 << 16, EchoMaxConnsPerAddr: 1 << 16})
	base := "ws" + strings.TrimPrefix(site, "http")

	const conns = 64
	sizes := []struct {
		name string
		n    int
	}{{"1KiB", 1 << 10}, {"64KiB", 64 << 10}}
	impls := []struct {
		name string
		dial func(b *testing.B) echoClient
	}{
		{"ours", func(b *testing.B) echoClient { return dialOurs(b, base+"/ws/echo") }},
		{"gorilla", func(b *testing.B) echoClient { return dialGorilla(b, base+"/ws/gorilla/echo") }},
		{"ourserver", func(b *testing.B) echoClient { return dialGorilla(b, base+"/ws/echo") }},
	}
	nsPerOp := map[string]float64{}
	for _, size := range sizes {
		for _, impl := range impls {
			name := impl.name + "/" + size.name
			b.Run(name, func(b *testing.B) {
				clients := make([]echoClient, conns)
				for i := range clients {
					clients[i] = impl.dial(b)
				}
				defer func() {
					for _, c := range clients {
						c.close()
					}
				}()
				msg := bytes.Repeat([]byte{0x5a}, size.n)
				b.SetBytes(int64(size.n))
				b.ReportAllocs()
				var left atomic.Int64
				left.Store(int64(b.N))
				var failed atomic.Value
				var wg sync.WaitGroup
				b.ResetTimer()
				start := time.Now()
				for _, c := range clients {
					wg.Go(func() {
						for left.Add(-1) >= 0 {
							if err := c.roundTrip(msg); err != nil {
								failed.Store(err)
								return
							}
						}
					})
				}
				wg.Wait()
				elapsed := time.Since(start)
				b.StopTimer()
				if err, _ := failed.Load().(error); err != nil {
					b.Fatal(err)
				}
				nsPerOp[name] = float64(elapsed.Nanoseconds()) / float64(b.N)
			})
		}
	}
	for _, size := range sizes {
		o, g, os := nsPerOp["ours/"+size.name], nsPerOp["gorilla/"+size.name], nsPerOp["ourserver/"+size.name]
		if o > 0 && g > 0 {
			b.Logf("%s over %d connections: ours/gorilla = %.2f (ns/op %.0f vs %.0f); our server with gorilla's client / gorilla = %.2f",
				size.name, conns, o/g, o, g, os/g)
		}
	}
}

// echoClient is one benchmark connection.
type echoClient interface {
	roundTrip(msg []byte) error
	close()
}

type ourClient struct {
	c   *framing.Conn
	buf []byte
}

func dialOurs(b *testing.B, url string) echoClient {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cc, err := handshake.Dial(ctx, url, nil)
	if err != nil {
		b.Fatal(err)
	}
	return &ourClient{c: framing.NewConn(cc.Conn, cc.Reader, framing.RoleClient, nil)}
}

func (c *ourClient) roundTrip(msg []byte) error {
	if err := c.c.WriteMessage(framing.OpBinary, msg); err != nil {
		return err
	}
	// Read into a reused buffer, as gorillaClient does.
	_, p, err := c.c.AppendMessage(c.buf[:0])
	c.buf = p
	if err == nil && len(p) != len(msg) {
		err = fmt.Errorf("echo of %d bytes came back with %d", len(msg), len(p))
	}
	return err
}

func (c *ourClient) close() { c.c.Close(framing.CloseNormal, "") }

type gorillaClient struct {
	c   *websocket.Conn
	buf []byte
}

func dialGorilla(b *testing.B, url string) echoClient {
	c, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		b.Fatal(err)
	}
	return &gorillaClient{c: c}
}

func (c *gorillaClient) roundTrip(msg []byte) error {
	if err := c.c.WriteMessage(websocket.BinaryMessage, msg); err != nil {
		return err
	}
	// Read into a reused buffer: gorilla's cheapest way to take a whole message.
	_, r, err := c.c.NextReader()
	if err != nil {
		return err
	}
	c.buf, err = readAll(c.buf[:0], r)
	if err == nil && len(c.buf) != len(msg) {
		err = fmt.Errorf("echo of %d bytes came back with %d", len(msg), len(c.buf))
	}
	return err
}

func (c *gorillaClient) close() {
	c.c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(1000, ""), time.Now().Add(time.Second))
	c.c.Close()
}
