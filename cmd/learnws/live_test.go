package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/learnws/learnws"
)

// syncBuffer is a bytes.Buffer that a command writes while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor polls out until re matches, for at most 10 seconds.
func waitFor(t *testing.T, out *syncBuffer, re *regexp.Regexp) []string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			return m
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("output never matched %s:\n%s", re, out.String())
	return nil
}

func echoServer(t *testing.T) *httptest.Server {
	t.Helper()
	s, err := learnws.NewServer(learnws.Config{})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return ts
}

// TestServe runs "learnws serve" on a free port, talks to it, and stops it the way
// SIGINT does: an open WebSocket receives close 1001.
func TestServe(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb syncBuffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0"}, nil, &out, &errb) }()
	m := waitFor(t, &out, regexp.MustCompile(`http://(127\.0\.0\.1:\d+)/`))
	host := m[1]

	resp, err := http.Get("http://" + host + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(string(body), "ok") {
		t.Fatalf("/healthz: %d %q", resp.StatusCode, body)
	}
	ws, _, err := websocket.DefaultDialer.Dial("ws://"+host+"/ws/echo", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	ws.SetReadDeadline(time.Now().Add(10 * time.Second))

	cancel() // what SIGINT does through signal.NotifyContext
	_, _, err = ws.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != 1001 || ce.Text != "server shutting down" {
		t.Errorf("open socket got %v, want close 1001 \"server shutting down\"", err)
	}
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("serve exited %d; stderr %s", code, errb.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop")
	}
}

func TestServeBadAddr(t *testing.T) {
	code, _, errs := runCmd(t, "", "serve", "--addr", "127.0.0.1:99999")
	wantOneLineError(t, code, errs, "serve", "invalid port")
}

// TestDial sends two lines through "learnws dial" to both echo endpoints and checks the
// annotated output: the handshake, each frame both ways, and the closing handshake.
func TestDial(t *testing.T) {
	ts := echoServer(t)
	for _, path := range []string{"/ws/echo", "/ws/gorilla/echo"} {
		t.Run(path, func(t *testing.T) {
			url := "ws" + strings.TrimPrefix(ts.URL, "http") + path
			code, out, errs := runCmd(t, "hello\nsecond line\n", "dial", url)
			if code != 0 {
				t.Fatalf("exit %d, stderr %q\n%s", code, errs, out)
			}
			for _, want := range []string{
				"GET " + path + " HTTP/1.1", "Sec-WebSocket-Key:", "HTTP/1.1 101 Switching Protocols", "Sec-WebSocket-Accept:",
				"→ out", "← in", `"hello"`, `"second line"`, "masked_payload", "masking_key",
				"1000 Normal Closure",
			} {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q", want)
				}
			}
		})
	}

	url := "ws" + strings.TrimPrefix(ts.URL, "http") + "/ws/echo"
	code, out, errs := runCmd(t, "hello\n", "dial", "--json", url)
	if code != 0 {
		t.Fatalf("--json: exit %d, %q", code, errs)
	}
	events := map[string]int{}
	sawEcho := false
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var v map[string]any
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("not one JSON object per line: %q", sc.Text())
		}
		ev, _ := v["event"].(string)
		events[ev]++
		if ev == "frame" && v["dir"] == "in" {
			if f, ok := v["frame"].(map[string]any); ok && f["text"] == "hello" {
				sawEcho = true
			}
		}
	}
	if events["request"] != 1 || events["response"] != 1 || events["frame"] < 4 || events["close"] != 1 || !sawEcho {
		t.Errorf("events %v, echo seen %v\n%s", events, sawEcho, out)
	}
}

func TestDialErrors(t *testing.T) {
	ts := echoServer(t)
	code, _, errs := runCmd(t, "", "dial", "http://example.com/")
	wantOneLineError(t, code, errs, "dial", "ws://")
	code, _, errs = runCmd(t, "", "dial")
	wantOneLineError(t, code, errs, "dial", "want one ws:// URL")
	// A path that does not upgrade: the response is shown, then the error.
	code, out, errs := runCmd(t, "", "dial", "ws"+strings.TrimPrefix(ts.URL, "http")+"/healthz")
	wantOneLineError(t, code, errs, "dial", "")
	if !strings.Contains(out, "GET /healthz HTTP/1.1") {
		t.Errorf("the request was not shown:\n%s", out)
	}
}

// TestProxy puts "learnws proxy" between gorilla's client and our echo server.
func TestProxy(t *testing.T) {
	ts := echoServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb syncBuffer
	done := make(chan int, 1)
	upstream := "ws" + strings.TrimPrefix(ts.URL, "http") + "/ws/echo"
	go func() {
		done <- run(ctx, []string{"proxy", "--listen", "127.0.0.1:0", "--upstream", upstream}, nil, &out, &errb)
	}()
	m := waitFor(t, &out, regexp.MustCompile(`proxying ws://(127\.0\.0\.1:\d+)/`))

	ws, _, err := websocket.DefaultDialer.Dial("ws://"+m[1]+"/anything", nil)
	if err != nil {
		t.Fatal(err)
	}
	ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	big := bytes.Repeat([]byte("x"), 100000)
	for _, msg := range [][]byte{[]byte("through the proxy"), big} {
		if err := ws.WriteMessage(websocket.TextMessage, msg); err != nil {
			t.Fatal(err)
		}
		_, p, err := ws.ReadMessage()
		if err != nil || !bytes.Equal(p, msg) {
			t.Fatalf("echo through the proxy: %d bytes, %v", len(p), err)
		}
	}
	ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(1000, "bye"))
	ws.ReadMessage()
	ws.Close()

	waitFor(t, &out, regexp.MustCompile(`(?s)server → client.*"bye"`))
	text := out.String()
	// gorilla's client sends the 100,000 bytes in fragments of 4 KiB: each
	// continuation is judged as continuing its message, and nothing that
	// crossed is against the rules.
	if !strings.Contains(text, "continuation") || strings.Contains(text, "problem:") {
		t.Errorf("the proxy shows no continuation, or a problem:\n%s", text)
	}
	for _, want := range []string{"GET /ws/echo HTTP/1.1", "client → server", "server → client",
		`"through the proxy"`, "masked_payload", "100000-byte payload", "first 65536 of 100000", "1000 Normal Closure"} {
		if !strings.Contains(text, want) {
			t.Errorf("proxy output lacks %q", want)
		}
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("proxy exited %d: %s", code, errb.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("proxy did not stop")
	}
}
