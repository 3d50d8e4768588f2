package handshake_test

// Tests against outside code live in package handshake_test, so that
// package handshake itself stays standard library only: gin as the web
// framework whose ResponseWriter Upgrade must see through, and
// gorilla/websocket as an independent client and server.

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/gorilla/websocket"

	"github.com/learnws/learnws/handshake"
)

// ginServer serves /ws with handshake.Upgrade inside a gin handler, behind
// a middleware that wraps the request like real ones do.
func ginServer(t *testing.T, p *handshake.Policy) (*httptest.Server, chan error) {
	gin.SetMode(gin.TestMode)
	r := gin.New()
	r.Use(gin.Recovery(), func(c *gin.Context) {
		c.Header("X-Middleware", "ran")
		c.Next()
	})
	errs := make(chan error, 4)
	r.GET("/ws", func(c *gin.Context) {
		conn, br, _, err := handshake.Upgrade(c.Writer, c.Request, p)
		errs <- err
		if err != nil {
			return
		}
		defer conn.Close()
		// Echo raw bytes: enough to see the connection is ours.
		io.Copy(conn, br)
	})
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return srv, errs
}

func TestUpgradeThroughGin(t *testing.T) {
	srv, errs := ginServer(t, &handshake.Policy{Subprotocols: []string{"chat"}})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cc, err := handshake.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/ws", &handshake.DialOptions{Protocols: []string{"chat"}})
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Conn.Close()
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
	if cc.Subprotocol != "chat" || strings.Contains(string(cc.ResponseBytes), "X-Middleware") {
		t.Errorf("response:\n%s", cc.ResponseBytes)
	}
	cc.Conn.Write([]byte("hello"))
	got := make([]byte, 5)
	if _, err := io.ReadFull(cc.Reader, got); err != nil || string(got) != "hello" {
		t.Errorf("echo through gin = %q, %v", got, err)
	}
}

func TestRefusalThroughGin(t *testing.T) {
	srv, errs := ginServer(t, nil)
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/ws", nil)
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	req.Header.Set("Sec-WebSocket-Version", "8")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 426 || resp.Header.Get("Sec-WebSocket-Version") != "13" || resp.Header.Get("X-Middleware") != "ran" ||
		string(body) != "handshake: Sec-WebSocket-Version is \"8\"; this server speaks only version 13\n" {
		t.Errorf("got %d %v %q", resp.StatusCode, resp.Header, body)
	}
	if err := <-errs; err == nil {
		t.Error("Upgrade returned no error")
	}
}

// gorilla's client against our server.
func TestGorillaClientOurServer(t *testing.T) {
	srv, errs := ginServer(t, &handshake.Policy{Subprotocols: []string{"superchat", "chat"}})
	d := websocket.Dialer{Subprotocols: []string{"chat", "superchat"}, HandshakeTimeout: 5 * time.Second}
	conn, resp, err := d.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"/ws", http.Header{"Origin": {srv.URL}})
	if err != nil {
		t.Fatalf("gorilla Dial: %v (%v)", err, resp)
	}
	defer conn.Close()
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
	if conn.Subprotocol() != "superchat" {
		t.Errorf("gorilla sees subprotocol %q", conn.Subprotocol())
	}
	// The connection is open: gorilla's masked frame reaches our server,
	// which echoes it back byte for byte; gorilla must refuse a masked frame
	// from a server (RFC 6455 §5.1), which proves the bytes went through.
	if err := conn.WriteMessage(websocket.TextMessage, []byte("Hello")); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, _, err := conn.ReadMessage(); err == nil || !strings.Contains(strings.ToLower(err.Error()), "mask") {
		t.Errorf("gorilla read %v, want it to refuse the masked echo", err)
	}
}

// Our client against gorilla's server.
func TestOurClientGorillaServer(t *testing.T) {
	up := websocket.Upgrader{Subprotocols: []string{"chat"}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		c.WriteMessage(websocket.TextMessage, []byte("Hello"))
		c.ReadMessage()
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cc, err := handshake.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/", &handshake.DialOptions{
		Protocols: []string{"superchat", "chat"}, Origin: srv.URL,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Conn.Close()
	if cc.Subprotocol != "chat" {
		t.Errorf("subprotocol %q", cc.Subprotocol)
	}
	// RFC 6455 §5.7: a single-frame unmasked text message "Hello".
	got := make([]byte, 7)
	if _, err := io.ReadFull(cc.Reader, got); err != nil || string(got) != "\x81\x05Hello" {
		t.Errorf("first frame = % x, %v", got, err)
	}
	// The response gorilla wrote, line by line.
	for _, l := range handshake.AnnotateResponse(cc.ResponseBytes) {
		if l.Problem != "" {
			t.Errorf("gorilla's response line %q: %s", l.Value, l.Problem)
		}
	}
}
