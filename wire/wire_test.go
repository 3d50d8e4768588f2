package wire

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

func listen(t testing.TB, opt Options) *Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := NewListener(ln, opt)
	t.Cleanup(func() { l.Close() })
	return l
}

func TestCountsAndRecords(t *testing.T) {
	l := listen(t, Options{RecordLimit: 8})
	g0 := Global.Snapshot()
	done := make(chan *Conn)
	go func() {
		c, err := l.Accept()
		if err != nil {
			close(done)
			return
		}
		wc := c.(*Conn)
		buf := make([]byte, 5)
		io.ReadFull(wc, buf)
		wc.Write([]byte("hello, world"))
		wc.Close()
		done <- wc
	}()
	cc, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	cc.Write([]byte("abcde"))
	got, _ := io.ReadAll(cc)
	cc.Close()
	wc := <-done
	if string(got) != "hello, world" {
		t.Fatalf("client got %q", got)
	}
	st := wc.Stats()
	if st.BytesIn != 5 || st.BytesOut != 12 || !st.Closed {
		t.Fatalf("stats %+v", st)
	}
	in, out := wc.Recorded()
	if string(in) != "abcde" || string(out) != "hello, w" {
		t.Fatalf("recorded in=%q out=%q (limit 8)", in, out)
	}
	ch := wc.Chunks()
	if len(ch) < 2 || ch[0].Dir != In || ch[len(ch)-1].Dir != Out || ch[len(ch)-1].Time.Before(ch[0].Time) {
		t.Fatalf("chunks out of order: %+v", ch)
	}
	lt := l.Totals()
	if lt.Opened != 1 || lt.Closed != 1 || lt.BytesIn != 5 || lt.BytesOut != 12 || lt.Active() != 0 {
		t.Fatalf("listener totals %+v", lt)
	}
	if d := Global.Snapshot().Sub(g0); d.BytesIn < 5 || d.BytesOut < 12 {
		t.Fatalf("global delta %+v", d)
	}
}

// The bytes an HTTP client sends and receives, headers and all, are the
// bytes the server's listener counted — and a handler finds its Conn.
func TestHTTPExchangeMatchesWire(t *testing.T) {
	l := listen(t, Options{RecordLimit: 4096})
	var mu sync.Mutex
	var seen []uint64
	srv := &http.Server{
		ConnContext: ConnContext,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c := FromContext(r.Context())
			if c == nil {
				t.Error("FromContext = nil")
				return
			}
			mu.Lock()
			seen = append(seen, c.ID())
			mu.Unlock()
			io.WriteString(w, "ok")
		}),
	}
	go srv.Serve(l)
	defer srv.Close()

	client := Wrap(mustDial(t, l.Addr().String()), Options{})
	br := bufio.NewReader(client)
	req := "GET /x HTTP/1.1\r\nHost: a\r\n\r\n"
	for i := 0; i < 3; i++ {
		io.WriteString(client, req)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	client.Close()
	waitFor(t, func() bool { return l.Totals().Closed == 1 })
	lt := l.Totals()
	cs := client.Stats()
	if lt.BytesIn != cs.BytesOut || lt.BytesOut != cs.BytesIn {
		t.Fatalf("server counted in=%d out=%d; client sent %d received %d", lt.BytesIn, lt.BytesOut, cs.BytesOut, cs.BytesIn)
	}
	if lt.BytesIn != int64(3*len(req)) {
		t.Fatalf("server read %d bytes, want %d", lt.BytesIn, 3*len(req))
	}
	if len(seen) != 3 || seen[0] != seen[2] {
		t.Fatalf("conn IDs %v: want one keep-alive conn", seen)
	}
}

// Attribute moves the request already read to the new target, so two
// "techniques" sharing one keep-alive connection are each charged their own
// exchanges exactly.
func TestAttributeSplitsKeepAlive(t *testing.T) {
	l := listen(t, Options{})
	var a, b Counters
	srv := &http.Server{
		ConnContext: ConnContext,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			target := &a
			if strings.HasPrefix(r.URL.Path, "/b") {
				target = &b
			}
			FromContext(r.Context()).Attribute(target)
			io.WriteString(w, strings.Repeat("x", len(r.URL.Path)*10))
		}),
	}
	go srv.Serve(l)
	defer srv.Close()

	var sent, recv [2]int64
	cc := mustDial(t, l.Addr().String())
	br := bufio.NewReader(cc)
	for i, path := range []string{"/a", "/bb", "/a", "/b"} {
		_ = i
		req := fmt.Sprintf("GET %s HTTP/1.1\r\nHost: h\r\n\r\n", path)
		k := 0
		if strings.HasPrefix(path, "/b") {
			k = 1
		}
		io.WriteString(cc, req)
		sent[k] += int64(len(req))
		var raw bytes.Buffer
		resp, err := http.ReadResponse(bufio.NewReader(io.TeeReader(br, &raw)), nil)
		if err != nil {
			t.Fatal(err)
		}
		io.ReadAll(resp.Body)
		recv[k] += int64(raw.Len())
	}
	cc.Close()
	waitFor(t, func() bool { return l.Totals().Closed == 1 })
	at, bt := a.Snapshot(), b.Snapshot()
	if at.BytesIn != sent[0] || bt.BytesIn != sent[1] {
		t.Errorf("bytes in: a=%d b=%d, sent a=%d b=%d", at.BytesIn, bt.BytesIn, sent[0], sent[1])
	}
	if at.BytesOut != recv[0] || bt.BytesOut != recv[1] {
		t.Errorf("bytes out: a=%d b=%d, received a=%d b=%d", at.BytesOut, bt.BytesOut, recv[0], recv[1])
	}
	if at.Opened != 1 || bt.Opened != 1 || at.Closed != 1 || bt.Closed != 1 {
		t.Errorf("opened/closed a=%+v b=%+v", at, bt)
	}
}

func TestHijackedConnIsWrapped(t *testing.T) {
	l := listen(t, Options{})
	got := make(chan bool, 1)
	srv := &http.Server{
		ConnContext: ConnContext,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, _, err := http.NewResponseController(w).Hijack()
			if err != nil {
				got <- false
				return
			}
			_, ok := c.(*Conn)
			got <- ok && c == net.Conn(FromContext(r.Context()))
			c.Write([]byte("HTTP/1.1 101 Switching Protocols\r\n\r\n"))
			c.Close()
		}),
	}
	go srv.Serve(l)
	defer srv.Close()
	cc := mustDial(t, l.Addr().String())
	io.WriteString(cc, "GET / HTTP/1.1\r\nHost: h\r\n\r\n")
	io.ReadAll(cc)
	cc.Close()
	if !<-got {
		t.Fatal("hijacked conn is not the *wire.Conn from the context")
	}
}

func mustDial(t testing.TB, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(2 * time.Millisecond)
	}
}

type nopConn struct{ net.Conn }

func (nopConn) Read(p []byte) (int, error)  { return len(p), nil }
func (nopConn) Write(p []byte) (int, error) { return len(p), nil }

// BenchmarkWrapper compares Read+Write of 512 bytes on a bare conn with the
// same on a wrapped one (no recording), isolating the wrapper's cost.
func BenchmarkWrapper(b *testing.B) {
	buf := make([]byte, 512)
	run := func(b *testing.B, c net.Conn) {
		b.SetBytes(int64(2 * len(buf)))
		for i := 0; i < b.N; i++ {
			c.Read(buf)
			c.Write(buf)
		}
	}
	b.Run("bare", func(b *testing.B) { run(b, nopConn{}) })
	b.Run("wrapped", func(b *testing.B) {
		c := newConn(nopConn{}, 0, []*Counters{new(Counters), new(Counters)})
		c.Attribute(new(Counters))
		run(b, c)
	})
	b.Run("wrapped-parallel", func(b *testing.B) {
		shared := []*Counters{new(Counters), new(Counters)}
		b.SetBytes(int64(2 * len(buf)))
		b.RunParallel(func(pb *testing.PB) {
			c := newConn(nopConn{}, 0, shared)
			buf := make([]byte, 512)
			for pb.Next() {
				c.Read(buf)
				c.Write(buf)
			}
		})
	})
	b.Run("loopback-bare", func(b *testing.B) { benchLoop(b, false) })
	b.Run("loopback-wrapped", func(b *testing.B) { benchLoop(b, true) })
}

// benchLoop echoes 512 bytes over real loopback TCP, so the wrapper's cost
// can be seen against the cost of a system call.
func benchLoop(b *testing.B, wrap bool) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		if wrap {
			c = NewListener(nil, Options{}).wrapForBench(c)
		}
		io.Copy(c, c)
	}()
	c := mustDial(b, ln.Addr().String())
	defer c.Close()
	buf := make([]byte, 512)
	b.SetBytes(1024)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c.Write(buf)
		io.ReadFull(c, buf)
	}
}
