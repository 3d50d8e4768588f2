// Package learnws is the site that teaches the WebSocket protocol (RFC 6455) by showing
// its bytes: Markdown lessons beside live demos, served by one binary.
//
// The protocol itself lives in the sub-packages handshake and framing, written from the
// standard library alone so that a learner can read them beside the lessons; this package
// ties them to HTTP (Gin), HTML and JSON.
package learnws

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/gorilla/websocket"

	"github.com/learnws/learnws/framing"
	"github.com/learnws/learnws/wire"
)

// Config configures a Server. The zero value is usable.
type Config struct {
	// Addr is the address the command line listens on (host:port). The Server itself
	// does not listen: Serve takes a net.Listener, so tests can use port 0.
	Addr string
	// Logger receives request failures, panics and lifecycle messages.
	// nil discards everything.
	Logger *slog.Logger
	// RecordLimit is how many bytes per direction each TCP connection keeps for the
	// byte-level views (wire.Options.RecordLimit): the live lab shows the upgrade
	// request exactly as it arrived from these bytes. 0 means DefaultRecordLimit;
	// a negative value keeps none (the lab then shows a rebuilt request and says so).
	RecordLimit int

	// The public echo services, /ws/echo and /ws/gorilla/echo (echo.go). A zero
	// field means its default (the Default* constants); a negative duration turns
	// that timer off.

	// EchoMaxMessage is the largest message an echo accepts, in bytes. A frame that
	// would take a message past it fails the connection with close 1009 before any
	// of its payload is stored.
	EchoMaxMessage int64
	// EchoMaxConns and EchoMaxConnsPerAddr cap the connections the two echo
	// services hold at once, all clients together and per client address. A
	// handshake over either cap is answered 503 with Retry-After, before the upgrade.
	EchoMaxConns        int
	EchoMaxConnsPerAddr int
	// EchoWriteTimeout bounds the write of each frame an echo sends (echo, pong,
	// ping, close): a peer that stops reading is dropped after that long.
	EchoWriteTimeout time.Duration
	// EchoPingInterval is the keepalive: a connection the server has heard nothing
	// from (no message, ping or pong) for this long gets a ping, and one that has
	// still not answered after another interval is closed with 1011.
	EchoPingInterval time.Duration
	// EchoIdleTimeout closes, with 1001, a connection that has completed no message
	// for this long. Pings and pongs keep a connection alive but do not count as
	// use: a client that only pings, or that drips a message that never ends, is
	// closed.
	EchoIdleTimeout time.Duration
}

// Defaults of the echo services' Config fields.
const (
	// DefaultEchoMaxMessage is 1 MiB, python-websockets' default max_size: more
	// than any lesson or demo sends (the lab's largest message is 256 KiB), and
	// what a public echo can afford to hold for each of its connections.
	DefaultEchoMaxMessage = 1 << 20
	// DefaultEchoMaxConns and DefaultEchoMaxConnsPerAddr: room for a classroom with
	// a few tabs each, while bounding the worst case — every connection holding a
	// message of the largest size both as read and as being written back — to
	// about 1 GiB in all and a fifth of that per address.
	DefaultEchoMaxConns        = 500
	DefaultEchoMaxConnsPerAddr = 100
	// DefaultEchoWriteTimeout is how long one frame may take to leave.
	DefaultEchoWriteTimeout = 10 * time.Second
	// DefaultEchoPingInterval, 30 s, is under the 60 s after which common proxies
	// (nginx's proxy_read_timeout) and NAT tables drop a quiet connection.
	// Browsers answer pings by themselves; python-websockets pings every 20 s, so
	// it never gets one.
	DefaultEchoPingInterval = 30 * time.Second
	// DefaultEchoIdleTimeout, 5 minutes, leaves a learner time to read between two
	// messages.
	DefaultEchoIdleTimeout = 5 * time.Minute
)

// withDefaults fills in the zero fields of the echo settings.
func (c Config) withDefaults() Config {
	if c.EchoMaxMessage <= 0 {
		c.EchoMaxMessage = DefaultEchoMaxMessage
	}
	if c.EchoMaxConns <= 0 {
		c.EchoMaxConns = DefaultEchoMaxConns
	}
	if c.EchoMaxConnsPerAddr <= 0 {
		c.EchoMaxConnsPerAddr = DefaultEchoMaxConnsPerAddr
	}
	if c.EchoWriteTimeout == 0 {
		c.EchoWriteTimeout = DefaultEchoWriteTimeout
	}
	if c.EchoPingInterval == 0 {
		c.EchoPingInterval = DefaultEchoPingInterval
	}
	if c.EchoIdleTimeout == 0 {
		c.EchoIdleTimeout = DefaultEchoIdleTimeout
	}
	return c
}

// DefaultRecordLimit is Config.RecordLimit when none is given: enough for an upgrade
// request with a browser's headers and cookies, small enough that a classroom's
// connections cost little (the bytes are kept only as they arrive).
const DefaultRecordLimit = 16 << 10

// Server is the learnws site: one Gin engine holding every route, plus the bookkeeping
// that lets Shutdown say goodbye (close 1001) to every WebSocket it upgraded.
type Server struct {
	cfg    Config
	log    *slog.Logger
	engine *gin.Engine
	http   *http.Server

	echoConns *connLimit // the echo services' connection caps

	done     chan struct{} // closed when Shutdown starts
	doneOnce sync.Once

	mu         sync.Mutex
	closing    bool
	conns      map[*tracked]struct{}
	drained    chan struct{} // closed when closing and conns is empty
	onShutdown []func()
	setupErrs  []error
}

// tracked is one upgraded connection: goAway sends close 1001 and lets the connection's
// own handler finish the close handshake; kill drops the TCP connection when waiting
// for that took too long.
type tracked struct {
	goAway func()
	kill   func()
}

// Timeouts of the HTTP side. WebSockets have no read timeout: after the upgrade they are
// hijacked and belong to their handler.
const (
	readHeaderTimeout = 10 * time.Second
	idleTimeout       = 2 * time.Minute
	maxHeaderBytes    = 64 << 10
	// closeWriteTimeout bounds writing a close frame to a peer that does not read.
	closeWriteTimeout = 2 * time.Second
)

// NewServer builds the site: the Gin engine with every route registered.
func NewServer(cfg Config) (*Server, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	gin.SetMode(gin.ReleaseMode)
	cfg = cfg.withDefaults()
	s := &Server{
		cfg:       cfg,
		log:       log,
		echoConns: newConnLimit(cfg.EchoMaxConns, cfg.EchoMaxConnsPerAddr),
		done:      make(chan struct{}),
		conns:     make(map[*tracked]struct{}),
		drained:   make(chan struct{}),
	}
	r := gin.New()
	// No proxy is trusted: c.ClientIP() is the TCP peer. A teacher's laptop on a LAN
	// has no reverse proxy in front of it.
	if err := r.SetTrustedProxies(nil); err != nil {
		return nil, err
	}
	r.Use(s.recovery, upgradeStatus)
	// Security headers, request logs and the readable 500 page, for every route (site.go).
	s.siteMiddleware(r)
	s.echoRoutes(r)
	s.siteRoutes(r)
	s.labRoutes(r)
	s.compareRoutes(r)
	if err := errors.Join(s.setupErrs...); err != nil {
		return nil, err
	}
	s.engine = r
	s.http = &http.Server{
		Handler:           r,
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ConnContext:       wire.ConnContext,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	return s, nil
}

// Handler returns the site as an http.Handler (for httptest.NewServer).
func (s *Server) Handler() http.Handler { return s.engine }

// Logger returns the server's logger, never nil.
func (s *Server) Logger() *slog.Logger { return s.log }

// Done is closed when Shutdown starts. Long-lived handlers that are not WebSockets
// (streaming, long polling, Server-Sent Events) select on it and return, because
// http.Server.Shutdown waits for them.
func (s *Server) Done() <-chan struct{} { return s.done }

// OnShutdown registers f to run (in its own goroutine) when Shutdown starts.
func (s *Server) OnShutdown(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onShutdown = append(s.onShutdown, f)
}

// setupError records an error met while registering routes (a lesson that does not
// parse, a template that does not compile); NewServer returns all of them.
func (s *Server) setupError(err error) {
	if err != nil {
		s.setupErrs = append(s.setupErrs, err)
	}
}

// Serve accepts connections on ln until Shutdown. Every connection is wrapped by
// wire.NewListener, so handlers can count and show the bytes that really crossed it
// (wire.FromContext(c.Request.Context())). Like http.Server.Serve it returns
// http.ErrServerClosed after Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	limit := s.cfg.RecordLimit
	switch {
	case limit == 0:
		limit = DefaultRecordLimit
	case limit < 0:
		limit = 0
	}
	return s.http.Serve(wire.NewListener(ln, wire.Options{RecordLimit: limit}))
}

// Shutdown stops the server gracefully: it stops accepting, lets plain HTTP requests
// finish (http.Server.Shutdown), and sends close 1001 "server shutting down" to every
// WebSocket, waiting until each has finished its close handshake. http.Server.Shutdown
// alone would neither close nor wait for hijacked connections. When ctx ends first, the
// remaining connections are dropped and ctx's error is returned.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	first := !s.closing
	s.closing = true
	entries := make([]*tracked, 0, len(s.conns))
	for t := range s.conns {
		entries = append(entries, t)
	}
	if len(s.conns) == 0 && first {
		close(s.drained)
	}
	hooks := s.onShutdown
	s.mu.Unlock()

	s.doneOnce.Do(func() { close(s.done) })
	var goingAway sync.WaitGroup
	if first {
		for _, f := range hooks {
			go f()
		}
		for _, t := range entries {
			goingAway.Go(t.goAway)
		}
	}
	wsDone := make(chan struct{})
	go func() {
		<-s.drained
		goingAway.Wait() // each close handshake finished or timed out
		close(wsDone)
	}()

	httpErr := s.http.Shutdown(ctx)
	if httpErr != nil && !errors.Is(httpErr, context.Canceled) && !errors.Is(httpErr, context.DeadlineExceeded) {
		s.log.Warn("http shutdown", "err", httpErr)
	}
	select {
	case <-wsDone:
		return httpErr
	case <-ctx.Done():
		s.mu.Lock()
		left := make([]*tracked, 0, len(s.conns))
		for t := range s.conns {
			left = append(left, t)
		}
		s.mu.Unlock()
		for _, t := range left {
			t.kill()
		}
		return ctx.Err()
	}
}

// TrackConn registers an upgraded from-scratch WebSocket so that Shutdown sends it close
// 1001 and waits for it. The handler calls untrack when the connection is finished
// (usually deferred right after the upgrade). If the server is already shutting down,
// the connection is told to go away at once.
func (s *Server) TrackConn(c *framing.Conn) (untrack func()) {
	return s.track(&tracked{
		// Close bounds its own wait (framing's close timeout), also for a peer that
		// neither reads nor answers.
		goAway: func() { _ = c.Close(framing.CloseGoingAway, shutdownReason) },
		kill:   func() { _ = c.NetConn().Close() },
	})
}

// trackGorilla is TrackConn for a gorilla/websocket connection. WriteControl may be
// called concurrently with the handler's reads and writes.
func (s *Server) trackGorilla(c *websocket.Conn) (untrack func()) {
	return s.track(&tracked{
		goAway: func() {
			msg := websocket.FormatCloseMessage(websocket.CloseGoingAway, shutdownReason)
			if c.WriteControl(websocket.CloseMessage, msg, time.Now().Add(closeWriteTimeout)) == nil {
				// As framing.Conn.Close does: wait so long for the peer's close
				// reply, then the handler's read fails and the connection ends.
				c.SetReadDeadline(time.Now().Add(closeWait))
			}
		},
		kill: func() { _ = c.NetConn().Close() },
	})
}

const shutdownReason = "server shutting down"

func (s *Server) track(t *tracked) (untrack func()) {
	s.mu.Lock()
	s.conns[t] = struct{}{}
	closing := s.closing
	s.mu.Unlock()
	if closing {
		go t.goAway()
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			delete(s.conns, t)
			if s.closing && len(s.conns) == 0 {
				select {
				case <-s.drained:
				default:
					close(s.drained)
				}
			}
		})
	}
}

// upgradeStatus lets the request log (and any middleware that asks c.Writer.Status)
// see 101 for a request whose connection a WebSocket handshake took over. The 101
// response is written on the hijacked connection itself, past gin's ResponseWriter,
// which would go on reporting the 200 it starts with.
func upgradeStatus(c *gin.Context) {
	c.Writer = &upgradeWriter{ResponseWriter: c.Writer}
	c.Next()
}

// upgradeWriter is a gin.ResponseWriter that remembers a successful Hijack. Every
// upgrading handler here hijacks only once the handshake is accepted, then writes 101.
type upgradeWriter struct {
	gin.ResponseWriter
	hijacked bool
}

func (w *upgradeWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, rw, err := w.ResponseWriter.Hijack()
	if err == nil {
		w.hijacked = true
	}
	return conn, rw, err
}

func (w *upgradeWriter) Status() int {
	if w.hijacked {
		return http.StatusSwitchingProtocols
	}
	return w.ResponseWriter.Status()
}

// Unwrap lets http.ResponseController reach the connection's deadlines and flushing.
func (w *upgradeWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// recovery turns a panicking handler into a plain 500 and a log line. The client never
// sees the panic value or a stack: those can carry internals.
func (s *Server) recovery(c *gin.Context) {
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		if v == http.ErrAbortHandler {
			panic(v) // net/http's own signal to drop the connection quietly
		}
		s.log.Error("handler panic", "method", c.Request.Method, "path", c.Request.URL.Path,
			"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
		if !c.Writer.Written() {
			c.Header("Content-Type", "text/plain; charset=utf-8")
			c.String(http.StatusInternalServerError, "500 internal server error\n")
		}
		c.Abort()
	}()
	c.Next()
}
