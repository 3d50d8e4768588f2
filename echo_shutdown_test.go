package learnws

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/learnws/learnws/framing"
	"github.com/learnws/learnws/handshake"
)

// countingListener counts the bytes the server reads from its connections.
type countingListener struct {
	net.Listener
	read *atomic.Int64
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: c, n: l.read}, nil
}

// countingConn counts the bytes read from (if reads) or written to c.
type countingConn struct {
	net.Conn
	n      *atomic.Int64
	writes bool
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if !c.writes {
		c.n.Add(int64(n))
	}
	return n, err
}

func (c *countingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if c.writes {
		c.n.Add(int64(n))
	}
	return n, err
}

// TestShutdownWhileEchoing: Shutdown's close 1001 reaches a client that is busy
// sending messages to /ws/echo, and the closing handshake completes (§7.1.2): the
// echo handler, whose next write is refused once the close frame is out, must not
// drop the TCP connection before the client's close reply has been read. Observed
// by counting bytes: the server reads every byte the client sent, the close reply
// (the last of them) included.
func TestShutdownWhileEchoing(t *testing.T) {
	s, err := NewServer(Config{})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var serverRead, clientWrote atomic.Int64
	served := make(chan error, 1)
	go func() { served <- s.Serve(countingListener{ln, &serverRead}) }()

	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	raw.SetDeadline(time.Now().Add(testTimeout))
	nc := &countingConn{Conn: raw, n: &clientWrote, writes: true}
	key, _ := handshake.NewKey(nil)
	u := &url.URL{Scheme: "ws", Host: ln.Addr().String(), Path: "/ws/echo"}
	if _, err := nc.Write(handshake.NewRequest(u, key, nil, "")); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(nc)
	if _, _, err := handshake.ReadResponse(br, key, nil); err != nil {
		t.Fatal(err)
	}
	client := framing.NewConn(nc, br, framing.RoleClient, nil)

	// The client sends 1 KiB messages as fast as it can until its writes are
	// refused (it has answered the server's close).
	wrote := make(chan error, 1)
	go func() {
		msg := make([]byte, 1<<10)
		for {
			if err := client.WriteMessage(framing.OpBinary, msg); err != nil {
				wrote <- err
				return
			}
		}
	}()
	// Shut down once echoes are flowing.
	for range 100 {
		if _, _, err := client.ReadMessage(); err != nil {
			t.Fatalf("echo: %v", err)
		}
	}
	shut := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		shut <- s.Shutdown(ctx)
	}()
	var rerr error
	for rerr == nil {
		_, _, rerr = client.ReadMessage()
	}
	var ce *framing.CloseError
	if !errors.As(rerr, &ce) || ce.Code != framing.CloseGoingAway || !ce.Remote {
		t.Fatalf("client read %v; want close 1001 from the server", rerr)
	}
	if err := <-wrote; !errors.Is(err, framing.ErrClosed) {
		t.Errorf("client's writes ended with %v, want ErrClosed (after its close reply)", err)
	}
	if err := <-shut; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		t.Errorf("Serve returned %v", err)
	}
	if got, want := serverRead.Load(), clientWrote.Load(); got != want {
		t.Errorf("server read %d of the %d bytes the client sent: the close reply was not read, the closing handshake did not complete", got, want)
	}
}
