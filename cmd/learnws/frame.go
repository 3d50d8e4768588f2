package main

import (
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/learnws/learnws/framing"
	"github.com/learnws/learnws/internal/framejson"
	"github.com/learnws/learnws/internal/pastedhex"
)

// frameOutput is the --json output of frame: the bytes built, and their annotation in
// the shape decode prints.
type frameOutput struct {
	Hex string `json:"hex"`
	framejson.Annotation
}

// runFrame is "learnws frame [--json] [--opcode OP] [--fin=false] [--mask HEX8|--no-mask]
// [--rsv1] [--hex] PAYLOAD".
//
// By default the frame is built the way a client must send it (RFC 6455 §5.3): masked,
// with a fresh masking key from crypto/rand, so two runs print different bytes. --mask
// fixes the key (reproducible output, as in the lessons); --no-mask builds what a
// server sends. For a close frame, PAYLOAD "1000 bye" means status code 1000 and reason
// "bye" (an empty PAYLOAD is a close frame without a body); --hex takes PAYLOAD as hex
// for any opcode. frame builds what it is asked, even frames that break the protocol
// (a fragmented ping, RSV1 without an extension): the annotation names the problems.
func runFrame(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := newEnv("frame", stdin, stdout, stderr)
	fs := flag.NewFlagSet("frame", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print JSON: {hex, frames:[…], rest, error}")
	opName := fs.String("opcode", "text", "text, binary, ping, pong, close or continuation")
	fin := fs.Bool("fin", true, "set FIN (use --fin=false for a fragment that is not the last)")
	maskHex := fs.String("mask", "", "masking key as 8 hex digits (default: a random key)")
	noMask := fs.Bool("no-mask", false, "do not mask (a server-to-client frame)")
	rsv1 := fs.Bool("rsv1", false, "set RSV1")
	rsv2 := fs.Bool("rsv2", false, "set RSV2")
	rsv3 := fs.Bool("rsv3", false, "set RSV3")
	isHex := fs.Bool("hex", false, "PAYLOAD is hex bytes, not text")
	pos, err := parseFlags(e, fs, args, "frame [--json] [--opcode OP] [--fin=false] [--mask HEX8|--no-mask] [--rsv1] [--hex] PAYLOAD")
	if err != nil {
		return e.flagExit(err)
	}
	if len(pos) > 1 {
		return e.failf("want one PAYLOAD, got %d arguments (quote a payload that has spaces)", len(pos))
	}
	payloadArg := ""
	if len(pos) == 1 {
		payloadArg = pos[0]
	}
	op, err := framing.ParseOpcode(*opName)
	if err != nil {
		return e.fail(trimPrefix(err))
	}
	h := framing.Header{Fin: *fin, Rsv1: *rsv1, Rsv2: *rsv2, Rsv3: *rsv3, Opcode: op}
	switch {
	case *noMask && *maskHex != "":
		return e.failf("--mask and --no-mask contradict each other")
	case *noMask:
	case *maskHex != "":
		k, err := parseMaskKey(*maskHex)
		if err != nil {
			return e.fail(err)
		}
		h.Masked, h.MaskingKey = true, k
	default:
		h.Masked = true
		if _, err := io.ReadFull(rand.Reader, h.MaskingKey[:]); err != nil {
			return e.failf("reading a random masking key: %v", err)
		}
	}
	payload, err := framePayload(op, payloadArg, *isHex)
	if err != nil {
		return e.fail(err)
	}
	raw := framing.AppendFrame(nil, h, payload)
	if *asJSON {
		if err := e.writeJSON(frameOutput{Hex: hex.EncodeToString(raw), Annotation: framejson.FromAnnotation(framing.Annotate(raw))}); err != nil {
			return e.fail(err)
		}
		return 0
	}
	fmt.Fprintf(e.stdout, "%s %s\n\n", e.paint(sBold, "bytes:"), hexSpaced(raw, 64))
	a := framing.Annotate(raw)
	e.printFrames(raw, a, "")
	return 0
}

// parseMaskKey reads a masking key written as 8 hex digits ("37fa213d", "37 fa 21 3d").
func parseMaskKey(s string) ([4]byte, error) {
	var k [4]byte
	b, err := pastedhex.Parse(s)
	if err != nil {
		return k, fmt.Errorf("--mask: %v", trimPrefix(err))
	}
	if len(b) != 4 {
		return k, fmt.Errorf("--mask: a masking key is 4 bytes (8 hex digits); got %d bytes", len(b))
	}
	copy(k[:], b)
	return k, nil
}

// framePayload turns the PAYLOAD argument into payload bytes.
func framePayload(op framing.Opcode, arg string, isHex bool) ([]byte, error) {
	switch {
	case isHex:
		if strings.TrimSpace(arg) == "" {
			return nil, nil
		}
		b, err := pastedhex.Parse(arg)
		if err != nil {
			return nil, fmt.Errorf("PAYLOAD: %v", trimPrefix(err))
		}
		return b, nil
	case op == framing.OpClose:
		if arg == "" {
			return nil, nil
		}
		codeText, reason, _ := strings.Cut(arg, " ")
		code, err := strconv.ParseUint(codeText, 10, 16)
		if err != nil {
			return nil, fmt.Errorf("a close PAYLOAD is \"CODE [REASON]\", e.g. \"1000 bye\"; %q is not a status code", codeText)
		}
		return framing.AppendClosePayload(nil, framing.CloseCode(code), reason), nil
	}
	return []byte(arg), nil
}
