package carotate

import (
	"os"
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

// TestDocsForgottenRefusal: docs/ca-rotation.md's example of the refusal
// of a node forgotten with --forget-node that comes back is the one line
// certctl prints.
func TestDocsForgottenRefusal(t *testing.T) {
	// The block is in a list item: indented, which doctest.Block does not read.
	data, err := os.ReadFile(filepath.Join("..", "..", "docs", "ca-rotation.md"))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	doc := strings.Split(string(data), "\n")
	for i, l := range doc {
		if strings.Contains(l, "was taken out of the rotation of ca with --forget-node") && i > 0 {
			lines = []string{strings.TrimSpace(doc[i-1]), strings.TrimSpace(l)}
			break
		}
	}
	if len(lines) != 2 || lines[0] != "node-3$ sudo certctl ca rotate ca" {
		t.Fatalf("docs/ca-rotation.md's example is no longer node 3's stage and its error: %q", lines)
	}
	cs := fake.NewClientset()
	a := clusterNode{fixture: newFixture(t), name: "node-1", cs: cs}
	c := clusterNode{fixture: cloneFixture(t, a.fixture), name: "node-3", cs: cs}
	key := keyLine.FindStringSubmatch(a.rotate(t, "ca", nil))[1]                        // trust
	c.rotate(t, "ca", func(o *Options, cc *ClusterOptions) { cc.CertificateKey = key }) // trust
	a.rotate(t, "ca", func(o *Options, cc *ClusterOptions) { o.Restarted, cc.ForgetNode = false, "node-3" })
	out, err := c.try(t, "ca", nil)
	if err == nil {
		t.Fatalf("node-3's stage after --forget-node node-3 was not refused:\n%s", out)
	}
	if got := "error: " + err.Error(); got != lines[1] {
		t.Errorf("node-3's stage after --forget-node node-3 says\n%s\ndocs/ca-rotation.md shows\n%s", got, lines[1])
	}
}
