package expiration

import (
	"os"
	"strings"
	"testing"

	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/pki"
)

// TestPrintedInitPhaseNamesFolders: the `certctl init-phase` a problem
// prints acts on the node's folders as printed; without them it acted on
// /etc/kubernetes.
func TestPrintedInitPhaseNamesFolders(t *testing.T) {
	t.Run("kubeconfig key does not match", func(t *testing.T) {
		n := pkitest.NewNode(t, nil)
		pkitest.EditKubeconfig(t, n.Path("scheduler.conf"), func(cfg *clientcmdapi.Config) {
			for _, u := range cfg.AuthInfos {
				u.ClientKeyData = must(os.ReadFile(n.Path("pki/front-proxy-client.key")))
			}
		})
		flags := " --cert-dir " + n.CertDir() + " --kubeconfig-dir " + n.Dir
		info := check(t, n, func(o *Options) { o.FolderFlags = flags })
		want := "`certctl init-phase kubeconfig scheduler" + flags + "`"
		if p := info.Problems(); len(p) != 1 || !strings.Contains(p[0], want) {
			t.Errorf("problems %q, want one saying %s", p, want)
		}
	})
	t.Run("sa.pub unreadable", func(t *testing.T) {
		n := pkitest.NewNode(t, nil)
		if err := os.WriteFile(n.Path("pki/sa.pub"), []byte("garbage"), 0o600); err != nil {
			t.Fatal(err)
		}
		e := serviceAccountEntry(pki.Store{Dir: n.CertDir()})
		want := "`certctl init-phase certs sa --cert-dir " + n.CertDir() + "`"
		if len(e.Problems) != 1 || !strings.Contains(e.Problems[0].Message, want) {
			t.Errorf("problems %+v, want one saying %s", e.Problems, want)
		}
	})
}
