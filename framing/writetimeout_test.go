package framing

import (
	"errors"
	"net"
	"os"
	"testing"
	"time"
)

// TestWriteTimeoutBoundsAFrame: with Options.WriteTimeout, a frame the peer
// never reads fails with a deadline error instead of blocking its writer
// forever (net.Pipe has no buffer: the write blocks until the peer reads).
func TestWriteTimeoutBoundsAFrame(t *testing.T) {
	srv, cli := net.Pipe()
	defer cli.Close()
	c := NewConn(srv, nil, RoleServer, &Options{WriteTimeout: 50 * time.Millisecond})
	done := make(chan error, 1)
	go func() { done <- c.WriteMessage(OpText, []byte("nobody reads this")) }()
	select {
	case err := <-done:
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("WriteMessage to a peer that does not read: %v, want a deadline error", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("WriteMessage still blocked 10 s after its 50 ms write timeout")
	}
}

// TestWriteTimeoutIsPerFrame: each frame gets a deadline of its own, so the
// connection can still write after staying quiet for longer than
// WriteTimeout: here the pong ReadMessage sends for a ping that arrives three
// timeouts after the last message, and a close frame after that.
func TestWriteTimeoutIsPerFrame(t *testing.T) {
	const timeout = 100 * time.Millisecond
	srv, cli := net.Pipe()
	s := NewConn(srv, nil, RoleServer, &Options{WriteTimeout: timeout})
	pongs := make(chan string, 1)
	c := NewConn(cli, nil, RoleClient, &Options{OnPong: func(p []byte) { pongs <- string(p) }})
	serverRead := make(chan error, 1)
	go func() {
		_, _, err := s.ReadMessage()
		serverRead <- err
	}()
	clientRead := make(chan error, 1)
	msgs := make(chan string, 1)
	go func() {
		for {
			_, p, err := c.ReadMessage()
			if err != nil {
				clientRead <- err
				return
			}
			msgs <- string(p)
		}
	}()

	if err := s.WriteMessage(OpText, []byte("first")); err != nil {
		t.Fatal(err)
	}
	if got := <-msgs; got != "first" {
		t.Fatalf("got %q", got)
	}
	time.Sleep(3 * timeout) // quiet for longer than one frame's deadline
	if err := c.Ping([]byte("still there?")); err != nil {
		t.Fatal(err)
	}
	select {
	case p := <-pongs:
		if p != "still there?" {
			t.Errorf("pong payload %q", p)
		}
	case err := <-clientRead:
		t.Fatalf("no pong after %v of quiet: %v", 3*timeout, err)
	case <-time.After(10 * time.Second):
		t.Fatal("no pong after 10 s")
	}
	time.Sleep(3 * timeout)
	go s.Close(CloseNormal, "bye")
	select {
	case err := <-clientRead:
		var ce *CloseError
		if !errors.As(err, &ce) || ce.Code != CloseNormal || !ce.Remote {
			t.Fatalf("client read %v, want the server's close 1000", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no close frame after 10 s")
	}
	<-serverRead
}
