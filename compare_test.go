package learnws

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/learnws/learnws/framing"
	"github.com/learnws/learnws/handshake"
	"github.com/learnws/learnws/realtime"
)

func TestRealtimePages(t *testing.T) {
	_, base := serveSite(t, Config{})
	paths := []string{"/en/realtime", "/zh/realtime", "/en/realtime/race", "/zh/realtime/race?embed=1"}
	for _, tq := range realtime.Techniques {
		paths = append(paths, "/en/realtime/"+string(tq), "/zh/realtime/"+string(tq))
	}
	for _, p := range paths {
		resp, err := http.Get(base + p)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("%s: %s", p, resp.Status)
		}
		if strings.Contains(string(body), "realtime.") && regexp.MustCompile(`>realtime\.[a-z.-]+<`).Match(body) {
			t.Errorf("%s: an untranslated key shows", p)
		}
	}
	resp, err := http.Get(base + "/en/realtime/carrier-pigeon")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("unknown technique: %s, want 404", resp.Status)
	}
}

// The forever frame is the one response allowed to run inline script: only
// its own scripts, each carrying the nonce its policy names.
func TestForeverFrameCSPNonce(t *testing.T) {
	_, base := serveSite(t, Config{})
	sid := "nonce-test-1"
	resp, err := http.Get(base + "/realtime/api/iframe?sid=" + sid + "&after=0")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	csp := resp.Header.Get("Content-Security-Policy")
	m := regexp.MustCompile(`script-src 'nonce-([A-Za-z0-9+/=]{20,})'`).FindStringSubmatch(csp)
	if m == nil || strings.Contains(csp, "unsafe-inline") {
		t.Fatalf("policy %q: want script-src with a nonce only", csp)
	}
	if resp.Header.Get("X-Frame-Options") != "SAMEORIGIN" {
		t.Errorf("X-Frame-Options %q", resp.Header.Get("X-Frame-Options"))
	}
	post, err := http.Post(base+"/realtime/api/send?sid="+sid+"&via=iframe-streaming", "text/plain", strings.NewReader("hi </script><script>alert(1)</script>"))
	if err != nil {
		t.Fatal(err)
	}
	post.Body.Close()
	br := bufio.NewReader(resp.Body)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(line, "<script") {
			continue
		}
		if !strings.HasPrefix(line, `<script nonce="`+m[1]+`">`) {
			t.Fatalf("chunk %q lacks the nonce %s", line, m[1])
		}
		if strings.Count(line, "</script>") != 1 {
			t.Fatalf("a posted message broke out of its script: %q", line)
		}
		if strings.Contains(line, `"kind":"chat"`) {
			return
		}
	}
}

// Bytes are charged to the technique that used the connection, from the
// connection itself: one short poll is exactly its request and response.
func TestRealtimeCountsTheWire(t *testing.T) {
	_, base := serveSite(t, Config{})
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	req := "GET /realtime/api/poll?sid=wire-count-1 HTTP/1.1\r\nHost: x\r\n\r\n"
	io.WriteString(conn, req)
	br := bufio.NewReader(conn)
	var raw strings.Builder
	resp, err := http.ReadResponse(bufio.NewReader(io.TeeReader(br, &raw)), nil)
	if err != nil {
		t.Fatal(err)
	}
	io.ReadAll(resp.Body)
	// Ask for the figures on the same keep-alive connection: that request
	// must not be charged to short polling.
	io.WriteString(conn, "GET /realtime/api/stats?sid=wire-count-1 HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err = http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	var st realtime.SessionStats
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	sp := st.Techniques[0]
	if sp.Technique != realtime.ShortPolling || sp.Requests != 1 || sp.Connections != 1 || sp.EmptyResponses != 1 {
		t.Fatalf("short polling figures %+v", sp)
	}
	if sp.BytesUp != int64(len(req)) || sp.BytesDown != int64(raw.Len()) {
		t.Errorf("counted up %d down %d; the wire carried %d and %d", sp.BytesUp, sp.BytesDown, len(req), raw.Len())
	}
}

// Shutdown ends long polls and streams, and says goodbye (1001) to WebSockets.
func TestRealtimeShutdown(t *testing.T) {
	s, err := NewServer(Config{})
	if err != nil {
		t.Fatal(err)
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	go s.Serve(ln)
	base := "http://" + ln.Addr().String()
	sid := "shutdown-test"
	var bodies []io.ReadCloser
	for _, p := range []string{"long", "sse", "iframe"} {
		resp, err := http.Get(base + "/realtime/api/" + p + "?sid=" + sid)
		if err != nil && p != "long" {
			t.Fatal(err)
		}
		if resp != nil {
			bodies = append(bodies, resp.Body)
		}
	}
	cc, err := handshake.Dial(context.Background(), "ws://"+ln.Addr().String()+"/realtime/api/ws?sid="+sid, nil)
	if err != nil {
		t.Fatal(err)
	}
	ws := framing.NewConn(cc.Conn, cc.Reader, framing.RoleClient, nil)
	wsErr := make(chan error, 1)
	go func() {
		for {
			if _, _, err := ws.ReadMessage(); err != nil {
				wsErr <- err // a browser reads all the time, and answers the close at once
				return
			}
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
	defer cancel()
	start := time.Now()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("shutdown took %v", d)
	}
	err = <-wsErr
	var ce *framing.CloseError
	if !errors.As(err, &ce) || ce.Code != framing.CloseGoingAway {
		t.Errorf("websocket ended with %v, want close 1001", err)
	}
	for _, b := range bodies {
		b.Close()
	}
}
