package cli

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/doctest"
)

// TestDocumentedRotationWithoutRestarts runs the etcd-ca example of
// docs/ca-rotation.md as written, on a node made by certctl (its folders
// in place of /etc/kubernetes), and compares what certctl prints with the
// document, but for the [config] line that says where the settings came
// from and the folder flags the test adds.
func TestDocumentedRotationWithoutRestarts(t *testing.T) {
	bin := certctlBin(t)
	n := makeRotationNode(t, bin)
	block := docBlockIn(t, "ca-rotation.md", "console", "certctl ca rotate etcd-ca")
	var got, want []string
	for _, line := range strings.Split(strings.TrimSpace(block), "\n") {
		cmdline, ok := strings.CutPrefix(line, "$ sudo certctl ")
		if !ok {
			want = append(want, strings.ReplaceAll(line, "/etc/kubernetes", n.dir))
			continue
		}
		got = append(got, line)
		want = append(want, line)
		folders := append([]string{"--manifest-dir", n.manifestDir}, n.flags()...)
		args, err := doctest.Words(cmdline)
		if err != nil {
			t.Fatalf("docs/ca-rotation.md: %v", err)
		}
		out, _ := exec.Command(bin, append(args, folders...)...).CombinedOutput()
		for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			if strings.HasPrefix(l, "[config]") {
				continue
			}
			// The commands certctl prints carry the folder flags the
			// test adds, which the document's commands do not need.
			for i := 0; i < len(folders); i += 2 {
				l = strings.ReplaceAll(l, " "+folders[i]+" "+folders[i+1], "")
			}
			got = append(got, l)
		}
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("docs/ca-rotation.md's example prints\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
