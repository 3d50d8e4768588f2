package learnws

import (
	"os/exec"
	"strings"
	"testing"
)

// TestProtocolPackagesUseOnlyTheStandardLibrary: handshake/ and framing/ are the
// subject of the course and must be readable alone, so everything they import,
// directly or not, is in the standard library (GOROOT's own vendored packages,
// such as vendor/golang.org/x/net/dns/dnsmessage, count as standard).
func TestProtocolPackagesUseOnlyTheStandardLibrary(t *testing.T) {
	for _, pkg := range []string{"./handshake", "./framing"} {
		out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list %s: %v\n%s", pkg, err, out)
		}
		self := "github.com/learnws/learnws/" + strings.TrimPrefix(pkg, "./")
		for _, dep := range strings.Fields(string(out)) {
			if dep != self {
				t.Errorf("%s depends on %s, which is not in the standard library", pkg, dep)
			}
		}
	}
}
