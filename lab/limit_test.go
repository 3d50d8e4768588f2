package lab

import (
	"testing"
	"time"

	"github.com/learnws/learnws/framing"
)

// Sessions whose socket closed no longer count against the address's cap.
func TestClosedSocketsFreeTheAddressCap(t *testing.T) {
	l, srv := newTestServer(t, Limits{MaxSessionsPerAddr: 2})
	for i := 0; i < 5; i++ {
		c := dialLab(t, srv)
		if err := c.conn.Close(framing.CloseGoingAway, ""); err != nil {
			t.Logf("close %d: %v", i, err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for l.Session(c.id).Live() {
			if time.Now().After(deadline) {
				t.Fatalf("session %d still live", i)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
}
