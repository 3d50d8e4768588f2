package handshake

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
)

// Seeds: the RFC 6455 §1.3 exchange and the published key vectors.
func addRequestSeeds(f *testing.F) {
	f.Add([]byte(rfcRequestBytes))
	f.Add([]byte(rfcRequestBytes + "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58"))
	f.Add([]byte("GET / HTTP/1.1\nHost: a\n\n"))
	f.Add([]byte("GET / HTTP/1.1\r\nHost : a\r\n  folded\r\n\r\n"))
	f.Add([]byte("POST /x HTTP/1.0\r\nSec-WebSocket-Key: AAAAAAAAAAAAAAAA\r\n"))
}

func FuzzParseRequest(f *testing.F) {
	addRequestSeeds(f)
	f.Fuzz(func(t *testing.T, raw []byte) {
		req, err := ParseRequest(raw)
		if req == nil {
			t.Fatal("ParseRequest returned no Request")
		}
		checkCoverage(t, "request", raw, req.Lines)
		checkCoverage(t, "as response", raw, AnnotateResponse(raw))
		if err != nil {
			return
		}
		if !bytes.HasSuffix(raw, req.Rest) {
			t.Fatalf("Rest %q is not the end of the input", req.Rest)
		}
		hr, err := req.HTTPRequest()
		if err != nil {
			return
		}
		// The annotation and the server agree (one table): a refusal's reason
		// is some line's problem; an accepted request's lines have none but
		// a bare LF.
		if _, err := (&Policy{AnyOrigin: true}).Respond(hr); err != nil {
			found := false
			for _, l := range req.Lines {
				found = found || strings.Contains(l.Problem, err.(*Error).Reason)
			}
			if !found {
				t.Fatalf("Respond refuses (%v) but no line says so: %+v", err, req.Lines)
			}
		} else {
			for _, l := range req.Lines {
				if l.Problem != "" && !strings.Contains(l.Problem, "LF alone") {
					t.Fatalf("Respond accepts, but line %q has problem %q", l.Value, l.Problem)
				}
			}
		}
		resp, err := (&Policy{Subprotocols: []string{"chat"}}).Respond(hr)
		if err == nil {
			// Accepted: then the key is valid and the answer is its Accept.
			key := strings.Trim(hr.Header.Get("Sec-WebSocket-Key"), " \t")
			if CheckKey(key) != nil || resp.Accept != Accept(key) {
				t.Fatalf("accepted key %q with Accept %q", key, resp.Accept)
			}
			if _, _, err := ReadResponse(bufio.NewReader(bytes.NewReader(resp.AppendTo(nil))), key, headerList(hr.Header, "Sec-WebSocket-Protocol")); err != nil {
				t.Fatalf("our own response fails our client's check: %v", err)
			}
		} else if e, ok := err.(*Error); !ok || e.Status < 400 || !strings.HasPrefix(e.Error(), "handshake: ") {
			t.Fatalf("Respond error %#v", err)
		}
	})
}

func FuzzReadResponse(f *testing.F) {
	f.Add([]byte(rfcResponseBytes), rfcKey, "chat")
	f.Add([]byte(rfcResponseBytes+"\x81\x05Hello"), rfcKey, "chat")
	f.Add([]byte("HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\nContent-Length: 5\r\n\r\nhello"), rfcKey, "")
	f.Add([]byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: 5WQdLwdYf0ahB70uBxPU8tJ9lxE=\r\n\r\n"), "RCYYiihv1c5j+qglR6C5oA==", "")
	f.Add([]byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: QEFMhxzLTip8aJkbmocIGNEeOB8=\r\n\r\n"), "RCYYiihv1c5j+qglR6C5oA==", "")
	f.Fuzz(func(t *testing.T, raw []byte, key, offered string) {
		var protos []string
		if offered != "" {
			protos = strings.Split(offered, ",")
		}
		br := bufio.NewReaderSize(bytes.NewReader(raw), 16)
		resp, got, err := ReadResponse(br, key, protos)
		if !bytes.HasPrefix(raw, got) {
			t.Fatalf("raw bytes %q are not what was received", got)
		}
		checkCoverage(t, "response", got, AnnotateResponse(got))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "handshake: ") {
				t.Fatalf("error without prefix: %v", err)
			}
			return
		}
		if resp.StatusCode != 101 || Accept(key) != strings.Trim(resp.Header.Get("Sec-WebSocket-Accept"), " \t") {
			t.Fatalf("accepted status %d, Accept %q for key %q", resp.StatusCode, resp.Header.Get("Sec-WebSocket-Accept"), key)
		}
		// Only the head was consumed: the rest is still in the reader.
		rest := make([]byte, len(raw))
		n, _ := br.Read(rest)
		if !bytes.Equal(append(got, rest[:n]...), raw[:len(got)+n]) {
			t.Fatal("bytes after the head were lost")
		}
	})
}

func FuzzCheckKey(f *testing.F) {
	for _, v := range acceptVectors {
		f.Add(v.key)
	}
	for _, k := range []string{"AQIDBAUGBwgJCgsMDQ4PEC==", "", "AAAAAAAAAAAAAAAA", "dGhl-HNhbXBsZSBub25jZQ==", "dGhlIHNh\nbXBsZSBub25jZQ=="} {
		f.Add(k)
	}
	f.Fuzz(func(t *testing.T, key string) {
		err := CheckKey(key)
		d := Derive(key)
		// CheckKey agrees with encoding/base64, except that it refuses the
		// CR and LF that the standard decoder skips.
		b, stdErr := base64.StdEncoding.DecodeString(key)
		stdOK := stdErr == nil && len(b) == NonceSize && !strings.ContainsAny(key, "\r\n")
		if (err == nil) != stdOK {
			t.Fatalf("CheckKey(%q) = %v, but encoding/base64 decodes %d bytes (%v)", key, err, len(b), stdErr)
		}
		if err == nil && (len(d.KeyBytes) != NonceSize || !bytes.Equal(d.KeyBytes, b)) {
			t.Fatalf("Derive(%q).KeyBytes = %x, want %x", key, d.KeyBytes, b)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "handshake: Sec-WebSocket-Key") {
			t.Fatalf("error %q", err)
		}
		if d.Accept != Accept(key) || ExplainAccept(key, d.Accept) != "" {
			t.Fatalf("Derive and Accept disagree for %q", key)
		}
		for _, m := range CommonMistakes(key) {
			if m.Accept == d.Accept || ExplainAccept(key, m.Accept) == "" {
				t.Fatalf("mistake %s accepted for %q", m.Name, key)
			}
		}
	})
}
