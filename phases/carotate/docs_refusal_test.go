package carotate

import (
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/client-go/kubernetes/fake"

	"github.com/certctl/certctl/internal/doctest"
)

// TestDocsFinishRefusal: docs/ca-rotation.md's example of a refusal,
// finish on node 1 while node 2 is still at trust, is the one line
// certctl prints (it needs a cluster record, so no test of the binary
// reaches it without an API server).
func TestDocsFinishRefusal(t *testing.T) {
	block, err := doctest.Block(filepath.Join("..", "..", "docs"), "ca-rotation.md", "console", "refused: every node must")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(block), "\n")
	if len(lines) != 2 || !strings.HasSuffix(lines[0], "$ sudo certctl ca rotate ca --restart-control-plane") {
		t.Fatalf("docs/ca-rotation.md's refusal block is no longer node 1's finish and its error:\n%s", block)
	}
	cs := fake.NewClientset()
	a := clusterNode{fixture: newFixture(t), name: "node-1", cs: cs}
	b := clusterNode{fixture: cloneFixture(t, a.fixture), name: "node-2", cs: cs}
	key := keyLine.FindStringSubmatch(a.rotate(t, "ca", nil))[1]                      // trust
	b.rotate(t, "ca", func(o *Options, c *ClusterOptions) { c.CertificateKey = key }) // trust
	// node-2's reissue, refused (node-1 has not restarted yet), records that node-2's components restarted.
	b.refused(t, "ca", nil, "node node-1 is at stage trust")
	a.rotate(t, "ca", nil)          // reissue
	out, err := a.try(t, "ca", nil) // finish
	if err == nil {
		t.Fatalf("finish on node-1 with node-2 at trust was not refused:\n%s", out)
	}
	if got := "error: " + err.Error(); got != lines[1] {
		t.Errorf("finish on node-1 with node-2 at trust says\n%s\ndocs/ca-rotation.md shows\n%s", got, lines[1])
	}
}
