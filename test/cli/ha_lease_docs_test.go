package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHADocsDryRunLeases: the dry-run lines docs/ha.md shows for
// `renew --dry-run --restart-control-plane` (the components, the Leases the
// real run would take) are what the command prints, word for word.
func TestHADocsDryRunLeases(t *testing.T) {
	bin := certctlBin(t)
	data, err := os.ReadFile(filepath.Join("..", "..", "docs", "ha.md"))
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for l := range strings.Lines(string(data)) {
		if l = strings.TrimSpace(l); strings.HasPrefix(l, "[dry-run] ") {
			want = append(want, l)
		}
	}
	if len(want) != 2 {
		t.Fatalf("docs/ha.md has %d [dry-run] lines, want the components' and the Leases': %q", len(want), want)
	}
	n := makeNode(t, bin, "ECDSA-P256")
	manifests := filepath.Join(n.dir, "manifests")
	if err := os.Mkdir(manifests, 0o755); err != nil {
		t.Fatal(err)
	}
	out := run(t, bin, append([]string{"renew", "all", "--dry-run", "--restart-control-plane", "--manifest-dir", manifests}, n.flags()...)...)
	for _, w := range want {
		if !strings.Contains(out, w+"\n") {
			t.Errorf("renew all --dry-run --restart-control-plane does not print docs/ha.md's line\n%s\nit prints:\n%s", w, out)
		}
	}
}
