package phases

import (
	"os"
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/treetest"
)

// TestCABundleKeyNotFirst: a ca.crt bundle whose first certificate is not
// ca.key's (another CA's put before it) was refused as "ca.crt does not
// match ca.key: restore the matching pair", though the pair is there.
// kubeadm v1.37 signs with the first certificate of the file whatever the
// key (TryLoadCertFromDisk), so certctl does not take the matching one
// either: every init-phase phase that reads the key refuses, naming the
// certificate of the key and saying to put it first, and writes nothing.
func TestCABundleKeyNotFirst(t *testing.T) {
	for _, phase := range []string{"certs/ca", "certs/apiserver", "kubeconfig/admin"} {
		t.Run(phase, func(t *testing.T) {
			e := newTestEnv(t)
			e.mustRun(t, "certs", "ca")
			other := newTestEnv(t)
			other.mustRun(t, "certs", "ca")
			otherCA, err := os.ReadFile(other.pki("ca.crt"))
			if err != nil {
				t.Fatal(err)
			}
			own, err := os.ReadFile(e.pki("ca.crt"))
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, e.pki("ca.crt"), string(otherCA)+string(own))
			before := treetest.Snapshot(t, e.dir)
			g, n, _ := strings.Cut(phase, "/")
			err = e.run(t, g, n)
			treetest.ErrMentions(t, err, e.pki("ca.key"), "certificate 2 of its 2", "kubeadm and certctl sign with the first", "put that certificate first in "+e.pki("ca.crt"))
			treetest.AssertSame(t, before, treetest.Snapshot(t, e.dir))
		})
	}
}
