package cli

import (
	"strings"
	"testing"
)

// TestCAStatusDocsAfterRotation: docs/ca-rotation.md's first example
// rotates ca in three stages, then runs ca status. The stages are run
// here on the node alone, with --restarted in place of the restarts
// (TestDocumentedRotationWithoutRestarts runs that form as written); ca
// status then prints what the document shows.
func TestCAStatusDocsAfterRotation(t *testing.T) {
	bin := certctlBin(t)
	n := makeRotationNode(t, bin)
	block := docBlockIn(t, "ca-rotation.md", "console", "$ sudo certctl ca status\n")
	i := strings.Index(block, "$ sudo certctl ca status\n")
	stages := strings.Count(block[:i], "$ sudo certctl ca rotate ca --restart-control-plane")
	if stages != 3 {
		t.Fatalf("docs/ca-rotation.md's example runs %d stages before ca status, want trust, reissue and finish", stages)
	}
	// The last call records the restarts after finish, which
	// --restart-control-plane would have made.
	for range stages + 1 {
		run(t, bin, n.rotateArgs("ca", false)...)
	}
	want, got := runConsole(t, bin, block[i:], n.dir, append([]string{"--manifest-dir", n.manifestDir}, n.flags()...)...)
	checkConsole(t, "ca-rotation.md", want, got)
}
