package learnws

import (
	"context"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"
)

// serveSite runs the whole site on a loopback port through Server.Serve, the path
// production takes (so package wire counts and records every connection), and shuts
// it down when the test ends. It returns the server and its http:// base URL.
func serveSite(t testing.TB, cfg Config) (*Server, string) {
	t.Helper()
	s, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s.Shutdown(ctx)
		if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serve: %v", err)
		}
	})
	return s, "http://" + ln.Addr().String()
}

// startSite is serveSite with room to record whole upgrade requests, for the
// browser tests of the live lab; it returns the base URL.
func startSite(t testing.TB) string {
	_, base := serveSite(t, Config{RecordLimit: 64 << 10})
	return base
}
