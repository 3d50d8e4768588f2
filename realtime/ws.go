package realtime

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/learnws/learnws/framing"
	"github.com/learnws/learnws/handshake"
)

// wsWriteTimeout bounds one frame's write to a client that stopped reading.
const wsWriteTimeout = 10 * time.Second

// serveWS upgrades with our own handshake (same-origin policy) and speaks our
// own framing: one text message per event down; a text message up is a chat
// message. The connection stays charged to the technique after the upgrade:
// the hijacked net.Conn is the counting wire.Conn.
func (h *Handler) serveWS(w http.ResponseWriter, r *http.Request) {
	s, c, end := h.begin(w, r, WebSocket)
	if s == nil {
		return
	}
	defer end()
	pos := after(r, s.feed)
	conn, br, _, err := handshake.Upgrade(w, r, nil)
	if err != nil {
		return // Upgrade has answered with the reason
	}
	defer conn.Close()
	ws := framing.NewConn(conn, br, framing.RoleServer, &framing.Options{MaxMessageSize: 4 * MaxChat})
	if h.cfg.Track != nil {
		defer h.cfg.Track(ws)()
	}

	gone := make(chan struct{}) // closed when the read side ends: peer closed, failed, or vanished
	go func() {
		defer close(gone)
		for {
			op, p, err := ws.ReadMessage()
			if err != nil {
				return
			}
			if op != framing.OpText {
				continue
			}
			if text, ok := CleanChat(string(p)); ok {
				s.feed.Publish("chat", text)
				c.sent.Add(1)
			}
		}
	}()

	write := func(f func() error) error {
		ws.SetWriteDeadline(time.Now().Add(wsWriteTimeout))
		return f()
	}
	emit := func(evs []Event) error {
		for _, e := range evs {
			b, _ := json.Marshal(e)
			if err := write(func() error { return ws.WriteMessage(framing.OpText, b) }); err != nil {
				return err
			}
		}
		return nil
	}
	h.stream(gone, s, c, pos, emit, func() error {
		return write(func() error { return ws.Ping(nil) })
	})
	select {
	case <-gone:
		// The peer closed (the reader has answered its close) or the
		// connection failed: nothing more to say.
	default:
		// We end the stream (shutdown or StreamMax): closing handshake,
		// bounded by framing's own timeout.
		ws.SetWriteDeadline(time.Now().Add(wsWriteTimeout))
		ws.Close(framing.CloseGoingAway, "stream ended")
	}
	conn.Close()
	<-gone
}
