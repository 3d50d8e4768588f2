package handshake

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

// rfcRequest is the client handshake of RFC 6455 §1.3, as net/http's server
// hands it to a handler.
func rfcRequest() *http.Request {
	r := httptest.NewRequest(http.MethodGet, "http://server.example.com/chat", nil)
	r.Header.Set("Upgrade", "websocket")
	r.Header.Set("Connection", "Upgrade")
	r.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	r.Header.Set("Origin", "http://example.com")
	r.Header.Set("Sec-WebSocket-Protocol", "chat, superchat")
	r.Header.Set("Sec-WebSocket-Version", "13")
	return r
}

// rfcPolicy accepts the RFC's example: its page comes from example.com, its
// server is server.example.com.
var rfcPolicy = &Policy{Subprotocols: []string{"chat"}, Origins: []string{"http://example.com"}}

func TestRespondRFC(t *testing.T) {
	resp, err := rfcPolicy.Respond(rfcRequest())
	if err != nil {
		t.Fatal(err)
	}
	if resp.Accept != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" || resp.Subprotocol != "chat" {
		t.Errorf("Respond = %+v, want the §1.3 Accept and subprotocol chat", resp)
	}
}

// TestRespondRejections has one row per way a handshake is refused, in the
// order the checks run.
func TestRespondRejections(t *testing.T) {
	tests := []struct {
		name   string
		change func(r *http.Request)
		policy *Policy
		status int
		header string
		reason string
		extra  http.Header
	}{
		{"method POST", func(r *http.Request) { r.Method = http.MethodPost }, nil,
			405, "", "method is POST; the opening handshake must be a GET request", http.Header{"Allow": {"GET"}}},
		{"method HEAD", func(r *http.Request) { r.Method = http.MethodHead }, nil,
			405, "", "method is HEAD", http.Header{"Allow": {"GET"}}},
		{"HTTP/1.0", func(r *http.Request) { r.Proto, r.ProtoMajor, r.ProtoMinor = "HTTP/1.0", 1, 0 }, nil,
			400, "", "request is HTTP/1.0; the opening handshake needs HTTP/1.1 or later", nil},
		{"no Host", func(r *http.Request) { r.Host = "" }, nil,
			400, "Host", "no Host header", nil},
		{"no Upgrade", func(r *http.Request) { r.Header.Del("Upgrade") }, nil,
			400, "Upgrade", "the request has no Upgrade header", nil},
		{"Upgrade h2c", func(r *http.Request) { r.Header.Set("Upgrade", "h2c") }, nil,
			400, "Upgrade", `Upgrade is "h2c"; it must contain the token "websocket"`, nil},
		{"Upgrade websockets", func(r *http.Request) { r.Header.Set("Upgrade", "websockets") }, nil,
			400, "Upgrade", `Upgrade is "websockets"`, nil},
		{"Upgrade with Unicode long s", func(r *http.Request) { r.Header.Set("Upgrade", "webſocket") }, nil,
			400, "Upgrade", "Upgrade is", nil},
		{"no Connection", func(r *http.Request) { r.Header.Del("Connection") }, nil,
			400, "Connection", "the request has no Connection header", nil},
		{"Connection keep-alive", func(r *http.Request) { r.Header.Set("Connection", "keep-alive") }, nil,
			400, "Connection", `Connection is "keep-alive"; it must contain the token "Upgrade"`, nil},
		{"Connection upgraded", func(r *http.Request) { r.Header.Set("Connection", "keep-alive, upgraded") }, nil,
			400, "Connection", `Connection is "keep-alive, upgraded"`, nil},
		{"no key", func(r *http.Request) { r.Header.Del("Sec-WebSocket-Key") }, nil,
			400, "Sec-WebSocket-Key", "the request has no Sec-WebSocket-Key header", nil},
		{"two keys", func(r *http.Request) { r.Header.Add("Sec-WebSocket-Key", "x3JJHMbDL1EzLkh9GBhXDw==") }, nil,
			400, "Sec-WebSocket-Key", "Sec-WebSocket-Key appears 2 times; it must appear once", nil},
		{"key of 12 bytes", func(r *http.Request) { r.Header.Set("Sec-WebSocket-Key", "AAAAAAAAAAAAAAAA") }, nil,
			400, "Sec-WebSocket-Key", "Sec-WebSocket-Key decodes to 12 bytes; it must be 16", nil},
		{"key not base64", func(r *http.Request) { r.Header.Set("Sec-WebSocket-Key", "the sample nonce") }, nil,
			400, "Sec-WebSocket-Key", "not a base64 character", nil},
		{"no version", func(r *http.Request) { r.Header.Del("Sec-WebSocket-Version") }, nil,
			400, "Sec-WebSocket-Version", "the request has no Sec-WebSocket-Version header; it must be 13", http.Header{"Sec-Websocket-Version": {"13"}}},
		{"version 8", func(r *http.Request) { r.Header.Set("Sec-WebSocket-Version", "8") }, nil,
			426, "Sec-WebSocket-Version", `Sec-WebSocket-Version is "8"; this server speaks only version 13`,
			http.Header{"Sec-Websocket-Version": {"13"}, "Upgrade": {"websocket"}, "Connection": {"Upgrade"}}},
		{"version 25 (§4.4)", func(r *http.Request) { r.Header.Set("Sec-WebSocket-Version", "25") }, nil,
			426, "Sec-WebSocket-Version", `is "25"`, http.Header{"Sec-Websocket-Version": {"13"}, "Upgrade": {"websocket"}, "Connection": {"Upgrade"}}},
		{"version list", func(r *http.Request) { r.Header.Set("Sec-WebSocket-Version", "13, 8") }, nil,
			426, "Sec-WebSocket-Version", `is "13, 8"`, http.Header{"Sec-Websocket-Version": {"13"}, "Upgrade": {"websocket"}, "Connection": {"Upgrade"}}},
		{"two versions", func(r *http.Request) { r.Header.Add("Sec-WebSocket-Version", "13") }, nil,
			400, "Sec-WebSocket-Version", "appears 2 times", http.Header{"Sec-Websocket-Version": {"13"}}},
		{"origin of another site (same-host default)", func(r *http.Request) {}, nil,
			403, "Origin", `Origin "http://example.com" is another site: its host "example.com" is not this server's host "server.example.com"`, nil},
		{"origin not in allow-list", func(r *http.Request) { r.Header.Set("Origin", "https://evil.example") }, rfcPolicy,
			403, "Origin", `Origin "https://evil.example" is neither this server's host "server.example.com" nor in its allow-list`, nil},
		{"origin null", func(r *http.Request) { r.Header.Set("Origin", "null") }, nil,
			403, "Origin", `Origin "null" names no host`, nil},
		{"two origins", func(r *http.Request) { r.Header.Add("Origin", "http://server.example.com") }, rfcPolicy,
			403, "Origin", "Origin appears 2 times", nil},
		{"custom check refuses", func(r *http.Request) {}, &Policy{CheckOrigin: func(*http.Request) bool { return false }},
			403, "Origin", "refused by the server's origin check", nil},
		// The order of checks: with everything wrong, the method is named first.
		{"everything wrong", func(r *http.Request) {
			r.Method = http.MethodPut
			r.Header = http.Header{}
		}, nil, 405, "", "method is PUT", http.Header{"Allow": {"GET"}}},
		{"Upgrade and key wrong: Upgrade first", func(r *http.Request) {
			r.Header.Del("Upgrade")
			r.Header.Del("Sec-WebSocket-Key")
		}, nil, 400, "Upgrade", "no Upgrade header", nil},
	}
	rules := map[string]Rule{}
	for _, r := range ServerRules() {
		rules[r.Name] = r
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rfcRequest()
			tt.change(r)
			resp, err := tt.policy.Respond(r)
			var herr *Error
			if !errors.As(err, &herr) {
				t.Fatalf("Respond = %+v, %v; want *Error", resp, err)
			}
			// The error is the first of the table's problems, with its rule's
			// status, section and header.
			rule, ok := rules[herr.Rule]
			if !ok || herr.Status != rule.Status || herr.Section != rule.Section || herr.Header != rule.Header {
				t.Errorf("error %+v does not match its rule %+v", herr, rule)
			}
			seen[herr.Rule] = true
			if all := tt.policy.Problems(r); len(all) == 0 || all[0].Reason != herr.Reason || all[0].Rule != herr.Rule {
				t.Errorf("Problems()[0] = %+v; Respond = %+v", all, herr)
			}
			if resp != nil {
				t.Errorf("Respond returned a response with the error: %+v", resp)
			}
			if herr.Status != tt.status || herr.Header != tt.header || !strings.Contains(herr.Reason, tt.reason) {
				t.Errorf("got %d %q %q; want %d %q containing %q", herr.Status, herr.Header, herr.Reason, tt.status, tt.header, tt.reason)
			}
			if !strings.HasPrefix(err.Error(), "handshake: ") || herr.Section == "" {
				t.Errorf("error %q: want the handshake: prefix and a section (got %q)", err, herr.Section)
			}
			if !equalHeader(herr.Extra, tt.extra) {
				t.Errorf("Extra = %v, want %v", herr.Extra, tt.extra)
			}
		})
	}
	for _, r := range ServerRules() {
		if !seen[r.Name] {
			t.Errorf("no row refuses a request for rule %q", r.Name)
		}
	}
}

// TestProblems: a request that breaks several rules has them all listed,
// in the order of the table, and a good one none.
func TestProblems(t *testing.T) {
	if errs := rfcPolicy.Problems(rfcRequest()); errs != nil {
		t.Errorf("the RFC's request: %v", errs)
	}
	r := rfcRequest()
	r.Method = http.MethodPost
	r.Header.Del("Connection")
	r.Header.Add("Sec-WebSocket-Key", "x3JJHMbDL1EzLkh9GBhXDw==")
	r.Header.Set("Sec-WebSocket-Version", "8")
	r.Header.Set("Origin", "https://evil.example")
	var names []string
	for _, e := range rfcPolicy.Problems(r) {
		names = append(names, e.Rule)
	}
	want := "method connection sec-websocket-key-once sec-websocket-version-13 origin"
	if strings.Join(names, " ") != want {
		t.Errorf("Problems: %v; want %s", names, want)
	}
}

// TestRuleTables: every rule has a unique name, a section and the status of
// its side; the order of the server's table is the order Respond documents.
func TestRuleTables(t *testing.T) {
	names := map[string]bool{}
	for _, side := range []struct {
		rules    []Rule
		statuses []int
	}{
		{ServerRules(), []int{400, 403, 405, 426}},
		{ClientRules(), []int{0}},
	} {
		seen := map[string]bool{}
		for _, r := range side.rules {
			if r.Name == "" || seen[r.Name] || r.Section == "" || !slices.Contains(side.statuses, r.Status) {
				t.Errorf("rule %+v", r)
			}
			seen[r.Name] = true
			names[r.Name] = true
		}
	}
	var order []string
	for _, r := range ServerRules() {
		order = append(order, r.Name)
	}
	want := "method http-version host upgrade connection sec-websocket-key-once sec-websocket-key " +
		"sec-websocket-version-once sec-websocket-version sec-websocket-version-13 origin"
	if strings.Join(order, " ") != want {
		t.Errorf("server rules in order %v; want %s", order, want)
	}
}

func equalHeader(a, b http.Header) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if strings.Join(v, "\n") != strings.Join(b[k], "\n") {
			return false
		}
	}
	return true
}

// TestRespondTokenLists: Upgrade and Connection are lists of tokens matched
// case-insensitively, possibly split over several header lines.
func TestRespondTokenLists(t *testing.T) {
	tests := []struct{ upgrade, connection []string }{
		{[]string{"websocket"}, []string{"Upgrade"}},
		{[]string{"WebSocket"}, []string{"upgrade"}},
		{[]string{"WEBSOCKET"}, []string{"UPGRADE"}},
		{[]string{"h2c, websocket"}, []string{"keep-alive, Upgrade"}}, // Firefox sends "keep-alive, Upgrade"
		{[]string{"websocket"}, []string{"keep-alive,Upgrade"}},
		{[]string{"h2c", "websocket"}, []string{"keep-alive", "Upgrade"}},
		{[]string{" websocket "}, []string{"\tUpgrade ,"}},
	}
	for _, tt := range tests {
		r := rfcRequest()
		r.Header["Upgrade"] = tt.upgrade
		r.Header["Connection"] = tt.connection
		if _, err := rfcPolicy.Respond(r); err != nil {
			t.Errorf("Upgrade %q, Connection %q: %v", tt.upgrade, tt.connection, err)
		}
	}
}

func TestRespondSubprotocol(t *testing.T) {
	tests := []struct {
		name    string
		server  []string
		offered []string // header lines
		want    string
	}{
		{"RFC: chat, superchat → chat", []string{"chat"}, []string{"chat, superchat"}, "chat"},
		{"server prefers superchat", []string{"superchat", "chat"}, []string{"chat, superchat"}, "superchat"},
		{"server order wins over client order", []string{"chat", "superchat"}, []string{"superchat, chat"}, "chat"},
		{"repeated header", []string{"superchat"}, []string{"chat", "superchat"}, "superchat"},
		{"no spaces", []string{"superchat"}, []string{"chat,superchat"}, "superchat"},
		{"none in common", []string{"mqtt"}, []string{"chat, superchat"}, ""},
		{"client offers none", []string{"chat"}, nil, ""},
		{"server speaks none", nil, []string{"chat, superchat"}, ""},
		{"case matters", []string{"Chat"}, []string{"chat"}, ""},
		{"empty elements skipped", []string{"chat"}, []string{", ,chat,"}, "chat"},
	}
	for _, tt := range tests {
		r := rfcRequest()
		r.Header.Del("Origin")
		r.Header["Sec-Websocket-Protocol"] = tt.offered
		resp, err := (&Policy{Subprotocols: tt.server}).Respond(r)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if resp.Subprotocol != tt.want {
			t.Errorf("%s: chose %q, want %q", tt.name, resp.Subprotocol, tt.want)
		}
		// The header is sent only when a subprotocol was chosen.
		if got := strings.Contains(string(resp.AppendTo(nil)), "Sec-WebSocket-Protocol"); got != (tt.want != "") {
			t.Errorf("%s: response has Sec-WebSocket-Protocol: %v, want %v", tt.name, got, tt.want != "")
		}
	}
}

func TestRespondOrigin(t *testing.T) {
	allow := []string{"https://app.example", "other.example:8443"}
	tests := []struct {
		name   string
		policy *Policy
		host   string
		origin []string // nil = no Origin header
		ok     bool
	}{
		{"same host, no port", nil, "server.example.com", []string{"http://server.example.com"}, true},
		{"same host with port", nil, "localhost:8080", []string{"http://localhost:8080"}, true},
		{"same host, https", nil, "localhost:8080", []string{"https://localhost:8080"}, true},
		{"same host, different case", nil, "Server.Example.com", []string{"http://server.EXAMPLE.com"}, true},
		{"same host, other port", nil, "localhost:8080", []string{"http://localhost:3000"}, false},
		{"same host, default port written in Host", nil, "example.com:80", []string{"http://example.com"}, true},
		{"same host, default https port written in Host", nil, "example.com:443", []string{"https://example.com"}, true},
		{"same host, default port written in Origin", nil, "example.com", []string{"http://example.com:80"}, true},
		{"same host, IPv6 with default port", nil, "[::1]:80", []string{"http://[::1]"}, true},
		{"port 443 is not http's default", nil, "example.com:443", []string{"http://example.com"}, false},
		{"port 80 is not https's default", nil, "example.com:80", []string{"https://example.com"}, false},
		{"other host", nil, "server.example.com", []string{"http://evil.example"}, false},
		{"host as suffix", nil, "example.com", []string{"http://evilexample.com"}, false},
		{"missing Origin (non-browser client)", nil, "server.example.com", nil, true},
		{"null origin", nil, "server.example.com", []string{"null"}, false},
		{"allow-list: full origin", &Policy{Origins: allow}, "server.example.com", []string{"https://app.example"}, true},
		{"allow-list: full origin, other scheme", &Policy{Origins: allow}, "server.example.com", []string{"http://app.example"}, false},
		{"allow-list: host and port", &Policy{Origins: allow}, "server.example.com", []string{"https://other.example:8443"}, true},
		{"allow-list: same host still allowed", &Policy{Origins: allow}, "server.example.com", []string{"http://server.example.com"}, true},
		{"allow-list: not listed", &Policy{Origins: allow}, "server.example.com", []string{"https://evil.example"}, false},
		{"allow-list: missing Origin", &Policy{Origins: allow}, "server.example.com", nil, true},
		{"any", &Policy{AnyOrigin: true}, "server.example.com", []string{"https://evil.example"}, true},
		{"any: null", &Policy{AnyOrigin: true}, "server.example.com", []string{"null"}, true},
		{"any: missing Origin", &Policy{AnyOrigin: true}, "server.example.com", nil, true},
		{"custom yes", &Policy{CheckOrigin: func(r *http.Request) bool { return r.Header.Get("Origin") == "https://x" }}, "s", []string{"https://x"}, true},
		{"custom no", &Policy{CheckOrigin: func(r *http.Request) bool { return r.Header.Get("Origin") == "https://x" }}, "s", []string{"https://y"}, false},
		{"custom decides even without Origin", &Policy{CheckOrigin: func(r *http.Request) bool { return false }}, "s", nil, false},
	}
	for _, tt := range tests {
		r := rfcRequest()
		r.Host = tt.host
		r.Header["Origin"] = tt.origin
		_, err := tt.policy.Respond(r)
		if (err == nil) != tt.ok {
			t.Errorf("%s (policy %v): err = %v, want ok=%v", tt.name, tt.policy.OriginPolicy(), err, tt.ok)
		}
	}
}

func TestOriginPolicy(t *testing.T) {
	tests := []struct {
		p    *Policy
		want OriginPolicy
		name string
	}{
		{nil, OriginSameHost, "same host"},
		{&Policy{}, OriginSameHost, "same host"},
		{&Policy{Origins: []string{"a"}}, OriginAllowList, "same host or allow-list"},
		{&Policy{AnyOrigin: true, Origins: []string{"a"}}, OriginAny, "any origin"},
		{&Policy{CheckOrigin: func(*http.Request) bool { return true }, AnyOrigin: true}, OriginCustom, "custom check"},
	}
	for _, tt := range tests {
		if got := tt.p.OriginPolicy(); got != tt.want || got.String() != tt.name {
			t.Errorf("%+v: OriginPolicy() = %v, want %v", tt.p, got, tt.want)
		}
	}
}
