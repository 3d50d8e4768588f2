package learnws

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// The lab's routes, without a browser.
func TestLabRoutes(t *testing.T) {
	base := startSite(t)
	get := func(path string, h map[string]string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", base+path, nil)
		for k, v := range h {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, p := range []string{"/en/lab", "/zh/lab", "/en/decoder", "/zh/decoder", "/en/handshake-checker", "/zh/handshake-checker", "/en/lab?embed=1"} {
		if code, body := get(p, nil); code != 200 || !strings.Contains(body, `id="lab-app"`) {
			t.Errorf("%s: %d", p, code)
		}
	}
	if code, body := get("/en/watch/nosuchsession", nil); code != 404 || !strings.Contains(body, "session is over") {
		t.Errorf("expired watch link: %d", code)
	}
	if code, _ := get("/api/lab/events/nosuchsession", nil); code != 404 {
		t.Errorf("events of no session: %d", code)
	}
	// The lab socket keeps the same-origin default: another site's page
	// cannot open it in a visitor's browser.
	ws := map[string]string{"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}
	ws["Origin"] = "https://attacker.example"
	if code, _ := get("/ws/lab", ws); code != http.StatusForbidden {
		t.Errorf("cross-site lab socket: %d, want 403", code)
	}
	// The decoder's endpoint.
	resp, err := http.Post(base+"/api/lab/decode", "application/json", strings.NewReader(`{"hex":"81 85 37 fa 21 3d 7f 9f 4d 51 58"}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `"text":"Hello"`) {
		t.Errorf("decode: %s", b)
	}
}
