package main

import (
	"context"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// TestServeEchoFlags: the echo services' limits are set from the command line, and
// the request log says 101 for an upgraded request (issue 15).
func TestServeEchoFlags(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0",
			"--echo-max-message", "100", "--echo-max-conns-per-addr", "1"}, nil, &out, &errb)
	}()
	host := waitFor(t, &out, regexp.MustCompile(`http://(127\.0\.0\.1:\d+)/`))[1]

	ws, _, err := websocket.DefaultDialer.Dial("ws://"+host+"/ws/echo", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	// A second connection from this address is over --echo-max-conns-per-addr.
	_, resp, err := websocket.DefaultDialer.Dial("ws://"+host+"/ws/echo", nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("second connection: %v %v; want 503", resp, err)
	}
	ws.WriteMessage(websocket.BinaryMessage, make([]byte, 100))
	if _, p, err := ws.ReadMessage(); err != nil || len(p) != 100 {
		t.Fatalf("100 bytes: %d %v", len(p), err)
	}
	ws.WriteMessage(websocket.BinaryMessage, make([]byte, 101))
	if _, _, err := ws.ReadMessage(); !websocket.IsCloseError(err, websocket.CloseMessageTooBig) {
		t.Errorf("101 bytes over --echo-max-message 100: %v, want close 1009", err)
	}
	waitFor(t, &errb, regexp.MustCompile(`msg=request method=GET path=/ws/echo status=101 `))
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("serve exited %d; stderr %s", code, errb.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop")
	}
}

func TestServeBadEchoFlags(t *testing.T) {
	code, _, errs := runCmd(t, "", "serve", "--echo-max-message", "0")
	wantOneLineError(t, code, errs, "serve", "--echo-max-message must be at least 1 byte")
	code, _, errs = runCmd(t, "", "serve", "--echo-max-conns", "-3")
	wantOneLineError(t, code, errs, "serve", "at least 1")
	code, _, errs = runCmd(t, "", "serve", "--echo-idle-timeout", "soon")
	wantOneLineError(t, code, errs, "serve", "echo-idle-timeout")
}
