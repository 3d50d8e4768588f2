package handshake

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// Upgrade performs the server's side of the opening handshake inside an HTTP
// handler and takes the TCP connection over from net/http.
//
// It runs p.Respond(r) (a nil p is the zero Policy). If the handshake is
// refused, it answers with the error's status, its Extra header fields and a
// one-line plain-text body saying why, and returns the [*Error]; the handler
// should simply return.
//
// Otherwise it hijacks the connection with http.NewResponseController, which
// also works through wrapping writers such as gin's (they expose Hijack or
// Unwrap), writes the 101 response bytes itself, and returns:
//
//   - the connection, with any deadline that http.Server set cleared;
//   - the buffered reader net/http was reading the request from. It may
//     already hold bytes the client sent right after its request (a client
//     that does not wait for the 101 may have sent its first frame), so read
//     frames from it, never from the connection directly;
//   - the Response that was sent.
//
// From then on the connection belongs to the caller: http.Server neither
// closes it nor waits for it on Shutdown. Header fields set on w before the
// call are not copied into the 101.
func Upgrade(w http.ResponseWriter, r *http.Request, p *Policy) (net.Conn, *bufio.Reader, *Response, error) {
	resp, err := p.Respond(r)
	if err != nil {
		var herr *Error
		if errors.As(err, &herr) {
			writeRefusal(w, herr)
		}
		return nil, nil, nil, err
	}
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		http.Error(w, "handshake: the server cannot take over this connection", http.StatusInternalServerError)
		return nil, nil, nil, fmt.Errorf("handshake: taking over the connection from net/http: %w", err)
	}
	// http.Server's ReadTimeout and WriteTimeout are deadlines on this very
	// connection; a WebSocket lives far longer than one HTTP request.
	if err := conn.SetDeadline(time.Time{}); err != nil {
		conn.Close()
		return nil, nil, nil, fmt.Errorf("handshake: clearing the connection's deadline: %w", err)
	}
	if _, err := conn.Write(resp.AppendTo(nil)); err != nil {
		conn.Close()
		return nil, nil, nil, fmt.Errorf("handshake: writing the 101 response: %w", err)
	}
	return conn, brw.Reader, resp, nil
}

// writeRefusal answers a refused handshake: the status, the error's Extra
// header fields, and the reason as one line of plain text.
func writeRefusal(w http.ResponseWriter, e *Error) {
	h := w.Header()
	for name, values := range e.Extra {
		h[rfcName(name)] = values
	}
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(e.Status)
	fmt.Fprintln(w, e.Error())
}
