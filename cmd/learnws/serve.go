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

// runServe is "learnws serve [--addr HOST:PORT] [flags]": the site, until ctx is cancelled
// (SIGINT, SIGTERM), then a graceful shutdown in which every open WebSocket receives
// close 1001 "server shutting down".
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	e := newEnv("serve", nil, stdout, stderr)
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8080", "listen on `HOST:PORT` (0.0.0.0:8080 to let a classroom join over the LAN)")
	verbose := fs.Bool("v", false, "log every WebSocket that opens or closes (debug level)")
	var cfg learnws.Config
	fs.Int64Var(&cfg.EchoMaxMessage, "echo-max-message", learnws.DefaultEchoMaxMessage,
		"largest message the echo services take, in `BYTES`; a bigger one is refused with close 1009")
	fs.IntVar(&cfg.EchoMaxConns, "echo-max-conns", learnws.DefaultEchoMaxConns,
		"connections the echo services hold at once, in all (more: 503)")
	fs.IntVar(&cfg.EchoMaxConnsPerAddr, "echo-max-conns-per-addr", learnws.DefaultEchoMaxConnsPerAddr,
		"echo connections one client address may hold at once (more: 503)")
	fs.DurationVar(&cfg.EchoWriteTimeout, "echo-write-timeout", learnws.DefaultEchoWriteTimeout,
		"how long one frame an echo sends may take (a peer that stops reading is dropped); -1s: no limit")
	fs.DurationVar(&cfg.EchoPingInterval, "echo-ping-interval", learnws.DefaultEchoPingInterval,
		"ping an echo peer heard nothing from for this long, close it if still silent after as long again; -1s: no keepalive")
	fs.DurationVar(&cfg.EchoIdleTimeout, "echo-idle-timeout", learnws.DefaultEchoIdleTimeout,
		"close (1001) an echo connection that completes no message for this long; -1s: never")
	pos, err := parseFlags(e, fs, args, "serve [--addr HOST:PORT] [-v] [--echo-… flags]")
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
	switch {
	case cfg.EchoMaxMessage < 1:
		return e.failf("--echo-max-message must be at least 1 byte, not %d", cfg.EchoMaxMessage)
	case cfg.EchoMaxConns < 1 || cfg.EchoMaxConnsPerAddr < 1:
		return e.failf("--echo-max-conns and --echo-max-conns-per-addr must be at least 1")
	}
	cfg.Addr, cfg.Logger = *addr, logger
	srv, err := learnws.NewServer(cfg)
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
