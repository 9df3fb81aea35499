package expiration

import (
	"os"
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/pkitest"
)

// TestUnparsableKubeconfigSaysHowToMakeIt: a kubeconfig file that is empty
// or not YAML gives both ways out: a backup, or the init-phase that makes
// it again, on the node's folders. An empty one said `current context ""
// not found`, and a corrupt one only "restore it from a backup", which
// leaves an SRE without backups nowhere to go.
func TestUnparsableKubeconfigSaysHowToMakeIt(t *testing.T) {
	for _, tt := range []struct{ name, data, want string }{
		{"empty", "", "the file is empty"},
		{"not YAML", "garbage: [", "parse kubeconfig"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			n := pkitest.NewNode(t, nil)
			if err := os.WriteFile(n.Path("scheduler.conf"), []byte(tt.data), 0o600); err != nil {
				t.Fatal(err)
			}
			flags := " --cert-dir " + n.CertDir() + " --kubeconfig-dir " + n.Dir
			info := check(t, n, func(o *Options) { o.FolderFlags = flags })
			p := info.Problems()
			if len(p) != 1 {
				t.Fatalf("problems %q, want one for scheduler.conf", p)
			}
			for _, want := range []string{n.Path("scheduler.conf"), tt.want, "restore it from a backup", "`certctl init-phase kubeconfig scheduler" + flags + "`"} {
				if !strings.Contains(p[0], want) {
					t.Errorf("problem %q does not say %q", p[0], want)
				}
			}
		})
	}
}
