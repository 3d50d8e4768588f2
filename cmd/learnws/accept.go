package main

import (
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/learnws/learnws/handshake"
)

// acceptJSON is the --json output of accept, as DESIGN.md names it.
type acceptJSON struct {
	Key          string `json:"key"`
	GUID         string `json:"guid"`
	Concatenated string `json:"concatenated"`
	SHA1Hex      string `json:"sha1_hex"`
	Accept       string `json:"accept"`
}

// runAccept is "learnws accept [--json] KEY": the Sec-WebSocket-Accept derivation of
// RFC 6455 §4.2.2, one step per line. A key that is not base64 is an error (exit 2);
// a key that is base64 but does not decode to 16 bytes is still derived, then reported
// (exit 2), since a server would refuse it.
func runAccept(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := newEnv("accept", stdin, stdout, stderr)
	fs := flag.NewFlagSet("accept", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print a JSON object {key, guid, concatenated, sha1_hex, accept}")
	pos, err := parseFlags(e, fs, args, "accept [--json] KEY")
	if err != nil {
		return e.flagExit(err)
	}
	switch len(pos) {
	case 0:
		return e.failf("missing KEY (the Sec-WebSocket-Key, e.g. dGhlIHNhbXBsZSBub25jZQ==)")
	case 1:
	default:
		return e.failf("want one KEY, got %d arguments", len(pos))
	}
	key := pos[0]
	d := handshake.Derive(key)
	keyErr := handshake.CheckKey(key)
	if d.KeyBytes == nil {
		// Not base64 at all: nothing sensible to show.
		return e.fail(trimPrefix(keyErr))
	}
	if *asJSON {
		if err := e.writeJSON(acceptJSON{Key: d.Key, GUID: d.GUID, Concatenated: d.Concatenated,
			SHA1Hex: hex.EncodeToString(d.SHA1[:]), Accept: d.Accept}); err != nil {
			return e.fail(err)
		}
	} else {
		printDerivation(e, d)
	}
	if keyErr != nil {
		return e.fail(trimPrefix(keyErr))
	}
	return 0
}

// trimPrefix drops the package prefix of an error message ("handshake: "): the command
// name already says where the line comes from.
func trimPrefix(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	for _, p := range []string{"handshake: ", "framing: ", "pastedhex: "} {
		msg = strings.TrimPrefix(msg, p)
	}
	return fmt.Errorf("%s", msg)
}

func printDerivation(e *env, d handshake.Derivation) {
	nonce := hexSpaced(d.KeyBytes, 0)
	if q := printableASCII(d.KeyBytes); q != "" {
		nonce += "  " + q
	}
	t := &table{head: []string{"step", "what", "value"}}
	st := []string{sDim, sBold, ""}
	t.add(st, "1", "Sec-WebSocket-Key (as sent)", d.Key)
	t.add([]string{sDim, sDim, sDim}, "", fmt.Sprintf("decodes to %d bytes", len(d.KeyBytes)), nonce)
	t.add(st, "2", "append the GUID", d.GUID)
	t.add(st, "3", "key + GUID (hashed as text)", d.Concatenated)
	t.add(st, "4", "SHA-1 (20 bytes)", hex.EncodeToString(d.SHA1[:]))
	t.add([]string{sDim, sBold, sGreen + sBold}, "5", "base64 = Sec-WebSocket-Accept", d.Accept)
	t.print(e, "")
	fmt.Fprintln(e.stdout)
	fmt.Fprintln(e.stdout, e.paint(sDim, "The key is hashed as the string the client sent, not as the bytes it decodes to (RFC 6455 §4.2.2)."))
}

// printableASCII quotes b when every byte is printable ASCII ("the sample nonce").
func printableASCII(b []byte) string {
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			return ""
		}
	}
	return fmt.Sprintf("%q", b)
}
