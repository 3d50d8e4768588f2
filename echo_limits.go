package learnws

import (
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/learnws/learnws/framing"
)

// What keeps the public echo services up when anyone may connect to them (RFC 6455
// §10.4, "Implementation-Specific Limits": a peer may try to exhaust the server's
// memory): a cap on connections, in total and per client address, checked before the
// upgrade; a message size limit (Config.EchoMaxMessage, in the handlers); a write
// deadline per frame; and a keepalive that pings quiet peers and closes dead and idle
// ones.

// echoRetryAfter is the Retry-After, in seconds, of a handshake refused for a cap.
const echoRetryAfter = 10

// closeWait is how long an echo that sent a close frame waits for the peer's before
// dropping the connection (framing.Conn's own wait is the same).
const closeWait = 5 * time.Second

// admitEcho takes one of the echo services' connection slots for this request, or
// answers 503 Service Unavailable with Retry-After and a readable reason, before any
// handshake, and returns false. release gives the slot back.
func (s *Server) admitEcho(c *gin.Context) (release func(), ok bool) {
	release, err := s.echoConns.acquire(clientAddr(c.Request))
	if err != nil {
		s.log.Debug("echo: refused", "remote", c.Request.RemoteAddr, "err", err)
		h := c.Writer.Header()
		h.Set("Retry-After", strconv.Itoa(echoRetryAfter))
		h.Set("Cache-Control", "no-store")
		c.String(http.StatusServiceUnavailable, "%s\n", err)
		return nil, false
	}
	return release, true
}

// clientAddr is the client's IP address: the TCP peer (no proxy is trusted).
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// echoWriteDeadline is the write deadline of a frame an echo starts writing now.
func (s *Server) echoWriteDeadline() time.Time {
	if s.cfg.EchoWriteTimeout <= 0 {
		return time.Time{}
	}
	return time.Now().Add(s.cfg.EchoWriteTimeout)
}

// connLimit counts open connections, in total and per client address.
type connLimit struct {
	max, perAddr int

	mu     sync.Mutex
	total  int
	byAddr map[string]int
}

func newConnLimit(max, perAddr int) *connLimit {
	return &connLimit{max: max, perAddr: perAddr, byAddr: make(map[string]int)}
}

// acquire takes a slot for a connection from addr; release gives it back (once).
func (l *connLimit) acquire(addr string) (release func(), err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.total >= l.max:
		return nil, fmt.Errorf("learnws: the echo services are at their connection limit (%d); try again in %d s", l.max, echoRetryAfter)
	case l.byAddr[addr] >= l.perAddr:
		return nil, fmt.Errorf("learnws: your address is at its limit of echo connections (%d); close one, or try again in %d s", l.perAddr, echoRetryAfter)
	}
	l.total++
	l.byAddr[addr]++
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			defer l.mu.Unlock()
			l.total--
			if l.byAddr[addr]--; l.byAddr[addr] <= 0 {
				delete(l.byAddr, addr)
			}
		})
	}, nil
}

// keepalive watches one echo connection:
//
//   - when the server has heard nothing from the peer (no message, ping or pong) for
//     the ping interval, it sends a ping; RFC 6455 §5.5.2: "A Ping frame MAY serve
//     either as a keepalive or as a means to verify that the remote endpoint is still
//     responsive";
//   - when still nothing has come an interval after that ping, the peer is gone or
//     stuck: close 1011 "keepalive ping timeout", as python-websockets says it;
//   - when the peer has completed no message for the idle timeout, close 1001: it
//     may answer pings, or drip a message that never ends, but it uses nothing.
//
// It runs on a timer, not on a goroutine of its own, so a server holding thousands
// of quiet connections pays a timer for each, not a stack. Nothing is done once the
// server is shutting down: Shutdown says goodbye to everyone itself.
type keepalive struct {
	interval, idle time.Duration
	ping           func() error
	closeWith      func(framing.CloseCode, string)
	shutdown       <-chan struct{}

	lastHeard atomic.Int64 // unix nanoseconds: the last frame of any kind heard
	lastUsed  atomic.Int64 // the last message completed

	pingSent atomic.Int64 // when the outstanding ping was sent, 0 if none

	mu      sync.Mutex
	timer   *time.Timer
	stopped bool
}

// startKeepalive starts the keepalive of a connection with the server's settings;
// ping sends a ping, closeWith starts the closing handshake. A nil *keepalive
// (before it starts) ignores heard and used.
func (s *Server) startKeepalive(ping func() error, closeWith func(framing.CloseCode, string)) *keepalive {
	k := &keepalive{interval: s.cfg.EchoPingInterval, idle: s.cfg.EchoIdleTimeout,
		ping: ping, closeWith: closeWith, shutdown: s.done}
	now := time.Now().UnixNano()
	k.lastHeard.Store(now)
	k.lastUsed.Store(now)
	if next, ok := k.next(now); ok {
		k.mu.Lock()
		k.timer = time.AfterFunc(time.Duration(next-now), k.check)
		k.mu.Unlock()
	}
	return k
}

// heard notes that a frame came from the peer.
func (k *keepalive) heard() {
	if k != nil {
		k.lastHeard.Store(time.Now().UnixNano())
	}
}

// used notes that the peer completed a message.
func (k *keepalive) used() {
	if k != nil {
		now := time.Now().UnixNano()
		k.lastHeard.Store(now)
		k.lastUsed.Store(now)
	}
}

// stop ends the keepalive (the connection is over).
func (k *keepalive) stop() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.stopped = true
	if k.timer != nil {
		k.timer.Stop()
	}
}

// next is when check must run next (unix nanoseconds); false if never.
func (k *keepalive) next(now int64) (int64, bool) {
	at, ok := int64(0), false
	earliest := func(t int64) {
		if !ok || t < at {
			at, ok = t, true
		}
	}
	if k.idle > 0 {
		earliest(k.lastUsed.Load() + int64(k.idle))
	}
	if k.interval > 0 {
		if sent := k.pingSent.Load(); sent != 0 {
			earliest(sent + int64(k.interval))
		} else {
			earliest(k.lastHeard.Load() + int64(k.interval))
		}
	}
	return max(at, now+int64(time.Millisecond)), ok
}

// check runs on the timer: ping, close, or nothing yet; then sets the timer again.
func (k *keepalive) check() {
	select {
	case <-k.shutdown:
		return
	default:
	}
	now := time.Now().UnixNano()
	heard := k.lastHeard.Load()
	if k.idle > 0 && now-k.lastUsed.Load() >= int64(k.idle) {
		k.closeWith(framing.CloseGoingAway, fmt.Sprintf("idle: no message for %s", k.idle))
		return
	}
	if k.interval > 0 {
		sent := k.pingSent.Load()
		if sent != 0 && heard > sent {
			sent = 0 // answered
			k.pingSent.Store(0)
		}
		switch {
		case sent != 0 && now-sent >= int64(k.interval):
			k.closeWith(framing.CloseInternalError, "keepalive ping timeout")
			return
		case sent == 0 && now-heard >= int64(k.interval):
			if k.ping() != nil {
				return // the connection is ending anyway
			}
			k.pingSent.Store(now)
		}
	}
	next, _ := k.next(now)
	k.mu.Lock()
	defer k.mu.Unlock()
	if !k.stopped {
		k.timer.Reset(time.Duration(next - now))
	}
}
