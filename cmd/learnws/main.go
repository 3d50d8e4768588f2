// Command learnws serves the learnws site and shows the WebSocket protocol's bytes from
// the command line.
//
//	learnws [serve] [--addr HOST:PORT]       run the site (default 127.0.0.1:8080)
//	learnws accept [--json] KEY              derive Sec-WebSocket-Accept step by step
//	learnws decode [--json] HEX|-            annotate every byte of one or more frames
//	learnws frame [--json] [flags] PAYLOAD   build a frame and annotate it
//	learnws dial [--json] ws://…             our own client: handshake and frames annotated
//	learnws proxy --listen HOST:PORT --upstream ws://…   annotate a real conversation
//	learnws compare [--json] …               the real-time techniques measured
//
// Output is a readable table (coloured on a terminal); --json gives machine-readable
// output. Bad input gets one line on standard error and exit status 2.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// After the first signal, restore the default: a second Ctrl-C ends the process
	// at once instead of waiting for the graceful shutdown.
	go func() { <-ctx.Done(); stop() }()
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `learnws teaches the WebSocket protocol (RFC 6455) by showing its bytes.

Usage:
  learnws [serve] [--addr HOST:PORT]        run the site (default 127.0.0.1:8080)
  learnws accept [--json] KEY               Sec-WebSocket-Accept, step by step
  learnws decode [--json] HEX|-             annotate the bytes of one or more frames
  learnws frame [--json] [--opcode OP] [--fin=false] [--mask HEX8|--no-mask]
                [--rsv1] [--hex] PAYLOAD    build a frame and annotate it
  learnws dial [--json] [--origin O] [--protocol P] ws://HOST/PATH
                                            our client: each line of input is sent
  learnws proxy --listen HOST:PORT --upstream ws://HOST/PATH
                                            annotate every frame both ways
  learnws compare [--json] ...              the real-time techniques, measured

Run "learnws COMMAND --help" for a command's flags.
`

// run is the whole program behind main, with its streams passed in so tests can drive it.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return runServe(ctx, args, stdout, stderr)
	case "accept":
		return runAccept(args, stdin, stdout, stderr)
	case "decode":
		return runDecode(args, stdin, stdout, stderr)
	case "frame":
		return runFrame(args, stdin, stdout, stderr)
	case "dial":
		return runDial(ctx, args, stdin, stdout, stderr)
	case "proxy":
		return runProxy(ctx, args, stdout, stderr)
	case "compare":
		return runCompare(args, stdout, stderr)
	case "help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "learnws: unknown command %q (run \"learnws help\")\n", cmd)
	return 2
}

// parseFlags parses args with fs, allowing flags after the positional arguments
// ("learnws decode 81 05 --json"), and returns the positional arguments. Everything after
// "--" is positional. On -h/--help it prints the usage and returns flag.ErrHelp.
func parseFlags(e *env, fs *flag.FlagSet, args []string, synopsis string) ([]string, error) {
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	var pos []string
	for {
		err := fs.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(e.stdout, "Usage: learnws %s\n\nFlags:\n", synopsis)
			fs.SetOutput(e.stdout)
			fs.PrintDefaults()
			return nil, err
		}
		if err != nil {
			return nil, err
		}
		rest := fs.Args()
		consumed := len(args) - len(rest)
		if consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// flagExit turns a parseFlags error into an exit status: 0 after --help, else 2 with
// the one-line error.
func (e *env) flagExit(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	return e.fail(err)
}
