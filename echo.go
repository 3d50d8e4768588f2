package learnws

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"github.com/gorilla/websocket"

	"github.com/learnws/learnws/framing"
	"github.com/learnws/learnws/handshake"
)

// echoRoutes registers the health check and the two public echo services.
//
// Both echo endpoints accept any Origin, on purpose: like the well-known public echo
// servers they carry no credentials and act on nothing, so a page from another origin
// that opens one (Cross-Site WebSocket Hijacking) can learn nothing and do nothing it
// could not do by connecting directly. Every other endpoint that upgrades keeps the
// same-origin default.
func (s *Server) echoRoutes(r *gin.Engine) {
	r.GET("/healthz", s.healthz)
	r.HEAD("/healthz", s.healthz)
	// Any method reaches the handlers, so that a POST gets the handshake's own answer,
	// 405 with "Allow: GET" (RFC 6455 §4.2.1 item 1), not the router's 404.
	r.Any("/ws/echo", s.echo)
	r.Any("/ws/gorilla/echo", s.gorillaEcho)
}

// healthz answers 200 "ok" (or {"status":"ok"} to a client that asks for JSON).
func (s *Server) healthz(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	if strings.Contains(c.GetHeader("Accept"), "application/json") {
		c.JSON(http.StatusOK, gin.H{"status": "ok"})
		return
	}
	c.String(http.StatusOK, "ok\n")
}

// echoPolicy is the handshake policy of /ws/echo: no subprotocol, any Origin (see
// echoRoutes for why that is safe here and nowhere else).
var echoPolicy = handshake.Policy{AnyOrigin: true}

// echo is /ws/echo, built on our own handshake and framing packages: every complete
// text or binary message is sent back once, same type, same bytes. framing.Conn
// reassembles fragments, answers pings, validates UTF-8 and close codes, and fails the
// connection with the RFC's close code on any violation.
func (s *Server) echo(c *gin.Context) {
	release, ok := s.admitEcho(c)
	if !ok {
		return
	}
	defer release()
	nc, br, _, err := handshake.Upgrade(c.Writer, c.Request, &echoPolicy)
	if err != nil {
		// Upgrade has already answered (400/403/405/426 with a readable reason).
		s.log.Debug("echo: handshake refused", "remote", c.Request.RemoteAddr, "err", err)
		return
	}
	var ka *keepalive // set before the first read, which is the first to call it
	conn := framing.NewConn(nc, br, framing.RoleServer, &framing.Options{
		// RFC 6455 §10.4: "Such an implementation SHOULD impose a limit on frame
		// sizes and the total message size after reassembly from multiple frames".
		MaxMessageSize: s.cfg.EchoMaxMessage,
		// An echo service moves whole messages both ways: a bigger read buffer
		// takes a client's small fragments (gorilla writes 4 KiB) in fewer reads.
		ReadBufferSize: 32 << 10,
		// Each frame, the pongs sent from inside AppendMessage included, gets a
		// write deadline of its own: a peer that stops reading cannot hold this
		// handler, and a quiet connection can still answer a ping.
		WriteTimeout: s.cfg.EchoWriteTimeout,
		OnPing:       func([]byte) { ka.heard() },
		OnPong:       func([]byte) { ka.heard() },
	})
	untrack := s.TrackConn(conn)
	defer untrack()
	defer nc.Close()
	ka = s.startKeepalive(func() error { return conn.Ping(nil) },
		func(code framing.CloseCode, reason string) { conn.Close(code, reason) })
	defer ka.stop()
	// One buffer per connection, reused for every message (AppendMessage appends to
	// it), so that echoing costs no allocation once the buffer has grown to the size
	// of the messages; the same as gorillaEcho does with its NextReader.
	var buf []byte
	for {
		op, p, err := conn.AppendMessage(buf[:0])
		if err != nil {
			s.endEcho(conn, err)
			return
		}
		ka.used()
		if err := conn.WriteMessage(op, p); err != nil {
			if errors.Is(err, framing.ErrClosed) {
				// Close (Shutdown's 1001, or the keepalive's) has sent its close
				// frame and is waiting for the peer's. Returning would close the
				// TCP connection under it (the deferred nc.Close) and cut the
				// closing handshake short (§7.1.2): keep reading instead, which
				// discards what the peer still sends and ends when Close has the
				// reply. Close bounds the wait (its timeout closes the connection,
				// and the read fails).
				buf = p
				continue
			}
			s.log.Debug("echo: write", "err", err)
			return
		}
		buf = p
		if cap(buf) > 1<<20 {
			buf = nil // do not keep a big buffer for an idle connection
		}
	}
}

// endEcho finishes a connection whose ReadMessage failed. A *framing.CloseError means
// the close handshake has been done (the peer closed, or we failed the connection and
// told the peer why); anything else is a broken TCP connection or a deadline, and the
// best left to do is to try to say so and drop the connection.
func (s *Server) endEcho(conn *framing.Conn, err error) {
	var ce *framing.CloseError
	if errors.As(err, &ce) {
		s.log.Debug("echo: closed", "code", ce.Code, "reason", ce.Reason, "remote", ce.Remote)
		return
	}
	s.log.Debug("echo: read", "err", err)
}

// gorillaUpgrader is the reference implementation behind /ws/gorilla/echo.
var gorillaUpgrader = websocket.Upgrader{
	ReadBufferSize:  4096,
	WriteBufferSize: 4096,
	// A public echo service: any Origin (see echoRoutes). Never copy this line into an
	// endpoint that acts with the user's cookies.
	CheckOrigin: func(*http.Request) bool { return true },
}

// gorillaEcho is /ws/gorilla/echo: the same behaviour as /ws/echo, on gorilla/websocket.
func (s *Server) gorillaEcho(c *gin.Context) {
	release, ok := s.admitEcho(c)
	if !ok {
		return
	}
	defer release()
	ws, err := gorillaUpgrader.Upgrade(c.Writer, c.Request, nil)
	if err != nil {
		// gorilla has already written the HTTP error.
		s.log.Debug("gorilla echo: handshake refused", "err", err)
		return
	}
	untrack := s.trackGorilla(ws)
	defer untrack()
	defer ws.Close()
	ws.SetReadLimit(s.cfg.EchoMaxMessage)
	ka := s.startKeepalive(
		func() error {
			return ws.WriteControl(websocket.PingMessage, nil, s.echoWriteDeadline())
		},
		func(code framing.CloseCode, reason string) {
			msg := websocket.FormatCloseMessage(int(code), reason)
			if ws.WriteControl(websocket.CloseMessage, msg, s.echoWriteDeadline()) == nil {
				// The reader below gets the peer's reply; a peer that never sends
				// one is dropped when this deadline passes.
				ws.SetReadDeadline(time.Now().Add(closeWait))
			}
		})
	defer ka.stop()
	// gorilla's own ping handler, plus noting that the peer was heard from.
	ws.SetPingHandler(func(data string) error {
		ka.heard()
		err := ws.WriteControl(websocket.PongMessage, []byte(data), s.echoWriteDeadline())
		if errors.Is(err, websocket.ErrCloseSent) {
			return nil
		}
		return err
	})
	ws.SetPongHandler(func(string) error { ka.heard(); return nil })
	// Each message is read whole and written with WriteMessage, which puts a server's
	// message in a single frame: the bytes on the wire are then the same as those of
	// /ws/echo, which the lesson comparing the two shows. (A NextWriter would stream,
	// cutting messages larger than the write buffer into fragments.)
	var buf []byte
	for {
		mt, r, err := ws.NextReader()
		if err != nil {
			s.log.Debug("gorilla echo: closed", "err", err)
			return
		}
		if buf, err = readAll(buf[:0], r); err != nil {
			return // gorilla has sent the close frame (1009 for a message too big)
		}
		ka.used()
		// gorilla does not check that text is UTF-8; RFC 6455 §8.1 says to fail.
		if mt == websocket.TextMessage && !utf8.Valid(buf) {
			failGorilla(ws, websocket.CloseInvalidFramePayloadData, "text message is not valid UTF-8")
			return
		}
		// gorilla applies this deadline to data frames only; WriteControl (pongs,
		// pings, close) takes its own.
		ws.SetWriteDeadline(s.echoWriteDeadline())
		if err := ws.WriteMessage(mt, buf); err != nil {
			return
		}
		if cap(buf) > 1<<20 {
			buf = nil // do not keep a big buffer for an idle connection
		}
	}
}

// readAll appends everything r yields to dst (io.ReadAll that reuses a buffer).
func readAll(dst []byte, r io.Reader) ([]byte, error) {
	for {
		if len(dst) == cap(dst) {
			dst = append(dst, 0)[:len(dst)]
		}
		n, err := r.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+n]
		if err == io.EOF {
			return dst, nil
		}
		if err != nil {
			return dst, err
		}
	}
}

// failGorilla sends a close frame with code and reason, as RFC 6455 §7.1.7 "Fail the
// WebSocket Connection" asks; the caller then drops the TCP connection.
func failGorilla(ws *websocket.Conn, code int, reason string) {
	msg := websocket.FormatCloseMessage(code, reason)
	_ = ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(closeWriteTimeout))
}
