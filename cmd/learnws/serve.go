package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/learnws/learnws"
)

// shutdownGrace is how long serve waits, after SIGINT or SIGTERM, for open requests and
// WebSocket close handshakes before it drops what is left.
const shutdownGrace = 10 * time.Second

// runServe is "learnws serve [--addr HOST:PORT]": the site, until ctx is cancelled
// (SIGINT, SIGTERM), then a graceful shutdown in which every open WebSocket receives
// close 1001 "server shutting down".
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	e := newEnv("serve", nil, stdout, stderr)
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8080", "listen on `HOST:PORT` (0.0.0.0:8080 to let a classroom join over the LAN)")
	verbose := fs.Bool("v", false, "log every WebSocket that opens or closes (debug level)")
	pos, err := parseFlags(e, fs, args, "serve [--addr HOST:PORT] [-v]")
	if err != nil {
		return e.flagExit(err)
	}
	if len(pos) > 0 {
		return e.failf("unexpected argument %q (did you mean --addr %s?)", pos[0], pos[0])
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	srv, err := learnws.NewServer(learnws.Config{Addr: *addr, Logger: logger})
	if err != nil {
		return e.fail(err)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return e.fail(err)
	}
	fmt.Fprintln(stdout, "learnws is serving the site on:")
	for _, u := range learnws.ServeURLs(ln.Addr().(*net.TCPAddr), learnws.InterfaceIPs()) {
		fmt.Fprintf(stdout, "  %s\n", e.paint(sBold, u))
	}
	fmt.Fprintln(stdout, "Press Ctrl-C to stop.")

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		if !errors.Is(err, http.ErrServerClosed) {
			return e.fail(err)
		}
		return 0
	case <-ctx.Done():
	}
	fmt.Fprintln(stdout, "Shutting down: closing WebSockets with 1001 (going away)…")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return e.failf("shutdown: %v", err)
	}
	<-served
	return 0
}
