package realtime

import (
	"encoding/json"
	"net/http"

	"github.com/learnws/learnws/framing"
	"github.com/learnws/learnws/handshake"
)

// shutdownReason is the reason of the close 1001 a WebSocket receives when the
// server shuts down, here and in the rest of the site.
const shutdownReason = "server shutting down"

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
	ws := framing.NewConn(conn, br, framing.RoleServer, &framing.Options{
		MaxMessageSize: 4 * MaxChat,
		// Each frame (events, heartbeat pings, the pongs the reader sends,
		// close) gets a write deadline of its own: one set for an event must
		// not outlive it, or a ping arriving a little later could not be
		// answered.
		WriteTimeout: h.cfg.WriteTimeout,
	})
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

	emit := func(evs []Event) error {
		for _, e := range evs {
			b, _ := json.Marshal(e)
			if err := ws.WriteMessage(framing.OpText, b); err != nil {
				return err
			}
		}
		return nil
	}
	h.stream(gone, s, c, pos, emit, func() error { return ws.Ping(nil) })
	select {
	case <-gone:
		// The peer closed (the reader has answered its close) or the
		// connection failed: nothing more to say.
	case <-h.done:
		// Shutdown: the same goodbye as every other WebSocket of the server
		// (whichever of the two is sent first, the peer reads these words).
		ws.Close(framing.CloseGoingAway, shutdownReason)
	default:
		// StreamMax: the client reconnects and resumes from its last event.
		// The closing handshake is bounded by framing's own timeout.
		ws.Close(framing.CloseGoingAway, "stream ended")
	}
	conn.Close()
	<-gone
}
