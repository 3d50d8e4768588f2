package lab

import (
	"bufio"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/learnws/learnws/framing"
	"github.com/learnws/learnws/handshake"
)

// Issue 15 item 2: the lab never shows credentials.

func TestRedactRequest(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
		hidden         map[string]int // line as shown (without its ending) → value length
	}{
		{"nothing to hide", "GET / HTTP/1.1\r\nHost: a\r\n\r\n", "GET / HTTP/1.1\r\nHost: a\r\n\r\n", nil},
		{"cookie", "GET / HTTP/1.1\r\nCookie: sid=abc; theme=dark\r\nHost: a\r\n\r\n",
			"GET / HTTP/1.1\r\nCookie: <hidden: 19 bytes>\r\nHost: a\r\n\r\n",
			map[string]int{"Cookie: <hidden: 19 bytes>": 19}},
		{"any case, every instance, all three fields",
			"GET / HTTP/1.1\r\ncookie: a=1\r\nCOOKIE:b=22\r\nAuthorization: Bearer t0k3n\r\nproxy-authorization: Basic QUJD \r\n\r\n",
			"GET / HTTP/1.1\r\ncookie: <hidden: 3 bytes>\r\nCOOKIE:<hidden: 4 bytes>\r\nAuthorization: <hidden: 12 bytes>\r\nproxy-authorization: <hidden: 10 bytes>\r\n\r\n",
			map[string]int{"cookie: <hidden: 3 bytes>": 3, "COOKIE:<hidden: 4 bytes>": 4,
				"Authorization: <hidden: 12 bytes>": 12, "proxy-authorization: <hidden: 10 bytes>": 10}},
		{"folded lines go with their field", "GET / HTTP/1.1\r\nCookie: a=1;\r\n b=2\r\n\tc=3\r\nHost: a\r\n X: folded, kept\r\n\r\n",
			"GET / HTTP/1.1\r\nCookie: <hidden: 12 bytes>\r\nHost: a\r\n X: folded, kept\r\n\r\n",
			map[string]int{"Cookie: <hidden: 12 bytes>": 12}},
		{"LF line endings", "GET / HTTP/1.1\nCookie: s=1\n\n", "GET / HTTP/1.1\nCookie: <hidden: 3 bytes>\n\n",
			map[string]int{"Cookie: <hidden: 3 bytes>": 3}},
		{"an empty value is still shown as hidden", "GET / HTTP/1.1\r\nCookie:\r\n\r\n", "GET / HTTP/1.1\r\nCookie:<hidden: 0 bytes>\r\n\r\n",
			map[string]int{"Cookie:<hidden: 0 bytes>": 0}},
		{"look-alike names are not hidden", "GET / HTTP/1.1\r\nCookie2: x\r\nX-Cookie: y\r\nSet-Cookie: z\r\n\r\n",
			"GET / HTTP/1.1\r\nCookie2: x\r\nX-Cookie: y\r\nSet-Cookie: z\r\n\r\n", nil},
		{"the request line is never a field", "Cookie: / HTTP/1.1\r\n\r\n", "Cookie: / HTTP/1.1\r\n\r\n", nil},
		{"bytes after the head are kept", "GET / HTTP/1.1\r\nCookie: s\r\n\r\nCookie: frame bytes",
			"GET / HTTP/1.1\r\nCookie: <hidden: 1 bytes>\r\n\r\nCookie: frame bytes",
			map[string]int{"Cookie: <hidden: 1 bytes>": 1}},
		{"a head cut short", "GET / HTTP/1.1\r\nAuthorization: Basic QUJD", "GET / HTTP/1.1\r\nAuthorization: <hidden: 10 bytes>",
			map[string]int{"Authorization: <hidden: 10 bytes>": 10}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, hidden := redactRequest([]byte(tc.in))
			if string(out) != tc.want {
				t.Errorf("redactRequest(%q)\n got %q\nwant %q", tc.in, out, tc.want)
			}
			got := map[string]int{}
			for off, n := range hidden {
				line, _, _ := strings.Cut(string(out[off:]), "\n")
				got[strings.TrimRight(line, "\r")] = n
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.hidden) && (len(got) > 0 || len(tc.hidden) > 0) {
				t.Errorf("hidden lines %v, want %v", got, tc.hidden)
			}
		})
	}
}

// FuzzRedactRequest: whatever the bytes, no hidden field of the redacted head (as
// the lab's annotator reads it) shows anything but the placeholder, and a second
// pass finds the same hidden lines (none was missed, none made up).
func FuzzRedactRequest(f *testing.F) {
	f.Add([]byte("GET / HTTP/1.1\r\nCookie: a=1\r\n b\r\nAuthorization: x\r\n\r\n"))
	f.Add([]byte("GET / HTTP/1.1\ncookie:\n\n"))
	f.Add([]byte("\r\nCookie: x"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		out, hidden := redactRequest(raw)
		for _, l := range handshake.AnnotateRequest(out) {
			if !isHidden([]byte(l.Name)) || l.Kind == handshake.KindMalformed || l.Offset == 0 {
				continue
			}
			n, ok := hidden[l.Offset]
			if !ok || l.Value != hiddenValue(n) {
				t.Fatalf("%q: line %q at %d shows %q (hidden %v)", raw, l.Name, l.Offset, l.Value, hidden)
			}
		}
		again, hiddenAgain := redactRequest(out)
		if len(hiddenAgain) != len(hidden) {
			t.Fatalf("%q: %d hidden lines in %q, then %d in %q", raw, len(hidden), out, len(hiddenAgain), again)
		}
	})
}

// The credentials the owner's browser sends, and how each might be spelled in a
// leak: as text, as hex (the events carry the bytes in hex), as base64.
var secrets = []string{"SECRET-COOKIE-1", "SECRET-COOKIE-2", "SECRET-TOKEN-3", "SECRET-PROXY-4"}

func leaks(s string) []string {
	var found []string
	for _, sec := range secrets {
		for _, form := range []string{sec, hex.EncodeToString([]byte(sec)), base64.StdEncoding.EncodeToString([]byte(sec))} {
			if strings.Contains(s, form) {
				found = append(found, form)
			}
		}
	}
	return found
}

// TestSpectatorsNeverSeeCredentials is issue 15 item 2, end to end: a lab socket
// opened with cookies and credentials; a spectator on /api/lab/events/ID, and a
// reconnecting one replaying the trace, see that each field is present and how long
// it is, and nowhere — raw text, hex, line annotations, any byte of the stream — its
// value.
func TestSpectatorsNeverSeeCredentials(t *testing.T) {
	_, srv := newTestServer(t, Limits{})
	u, _ := url.Parse(srv.URL)
	c, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	key, _ := handshake.NewKey(nil)
	req := "GET /ws/lab HTTP/1.1\r\nHost: " + u.Host + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\n" +
		"Cookie: session=SECRET-COOKIE-1; theme=dark\r\n" +
		"cookie: other-app=SECRET-COOKIE-2\r\n" +
		"Authorization: Bearer SECRET-TOKEN-3\r\n" +
		"Proxy-Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte("SECRET-PROXY-4")) + "\r\n\r\n"
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	if _, _, err := handshake.ReadResponse(br, key, nil); err != nil {
		t.Fatal(err)
	}
	conn := framing.NewConn(c, br, framing.RoleClient, nil)
	_, welcome, err := conn.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	var w struct{ ID string }
	json.Unmarshal(welcome, &w)
	conn.WriteMessage(framing.OpText, []byte("a message after the handshake"))
	conn.ReadMessage()

	wantHidden := map[string]int{
		"Cookie":              len("session=SECRET-COOKIE-1; theme=dark"),
		"cookie":              len("other-app=SECRET-COOKIE-2"),
		"Authorization":       len("Bearer SECRET-TOKEN-3"),
		"Proxy-Authorization": len("Basic " + base64.StdEncoding.EncodeToString([]byte("SECRET-PROXY-4"))),
	}
	for _, replay := range []bool{false, true} {
		// The raw stream, every byte of it, up to the echo of the message.
		target := srv.URL + "/api/lab/events/" + w.ID
		r, _ := http.NewRequest("GET", target, nil)
		if replay {
			r.Header.Set("Last-Event-ID", "0") // a reconnecting EventSource: the whole trace again
		}
		resp, err := srv.Client().Do(r)
		if err != nil {
			t.Fatal(err)
		}
		var raw strings.Builder
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		timer := time.AfterFunc(10*time.Second, func() { resp.Body.Close() })
		var hs *HandshakeJSON
		for sc.Scan() {
			line := sc.Text()
			raw.WriteString(line + "\n")
			data, ok := strings.CutPrefix(line, "data: ")
			if !ok {
				continue
			}
			var ev Event
			if json.Unmarshal([]byte(data), &ev) != nil {
				continue
			}
			if ev.Kind == "handshake" && ev.Dir == "in" {
				hs = ev.Handshake
			}
			if ev.Kind == "frame" && ev.Dir == "out" && ev.Frame.Text != nil && *ev.Frame.Text == "a message after the handshake" {
				break
			}
		}
		timer.Stop()
		resp.Body.Close()
		if found := leaks(raw.String()); len(found) > 0 {
			t.Errorf("replay=%v: the event stream carries %q", replay, found)
		}
		if hs == nil {
			t.Fatalf("replay=%v: no handshake event", replay)
		}
		got := map[string]int{}
		for _, l := range hs.Lines {
			if l.Hidden > 0 {
				got[l.Name] = l.Hidden
				if strings.Contains(l.Value, "SECRET") {
					t.Errorf("line %s shows %q", l.Name, l.Value)
				}
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(wantHidden) {
			t.Errorf("replay=%v: hidden lines %v, want %v", replay, got, wantHidden)
		}
	}
}
