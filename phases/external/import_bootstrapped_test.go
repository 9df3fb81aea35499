package external

import (
	"context"
	"crypto/rand"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/certctl/certctl/internal/output"
	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/phases"
	"github.com/certctl/certctl/pki"
)

// TestImportBootstrappedKubelet: a kubelet.conf CSR (written before the
// kubelet's TLS bootstrap, or by a certctl that wrote one over a
// bootstrapped kubelet.conf) imported on a node whose kubelet.conf now
// names the files the kubelet rotates was refused with "certctl installs
// embedded client certificates only", and no next step. The refusal now
// gives both: keep it and remove the request (rm, the files named), or
// move kubelet.conf away and import again, which installs the CSR
// folder's kubeconfig; the second is followed here.
func TestImportBootstrappedKubelet(t *testing.T) {
	n := newExtNode(t)
	node, err := n.Cluster.Node()
	if err != nil {
		t.Fatal(err)
	}
	var kcs []phases.Phase
	for _, p := range phases.KubeconfigPhases(pki.Kubeadm().Kubeconfigs(node)) {
		if p.Name == "kubeconfig/kubelet" {
			kcs = append(kcs, p)
		}
	}
	env := &phases.Env{Cluster: n.Cluster, KubeconfigDir: n.Dir, UseCSR: true, CSRDir: n.csrDir, Now: clock, Rand: rand.Reader, Out: io.Discard}
	if err := phases.Run(context.Background(), env, kcs); err != nil {
		t.Fatal(err)
	}
	n.signAll(t)
	n.BootstrappedKubelet(t, 0o600)

	before := treetest.Snapshot(t, n.Dir)
	res, err := Import(context.Background(), n.importOptions())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Refused) != 1 || res.Refused[0].Name != pki.KubeletKubeconfig || len(res.Imported) != 0 {
		t.Fatalf("refused %+v, imported %+v; want kubelet.conf refused", res.Refused, res.Imported)
	}
	kubelet := filepath.Join(n.Dir, pki.KubeletKubeconfig)
	csr := func(f string) string { return output.ShellQuote(filepath.Join(n.csrDir, f)) }
	assertMentions(t, res.Refused[0].Reason,
		"refers to certificate files (client-certificate, client-key): certctl installs embedded client certificates only",
		"to keep it as it is (the kubelet renews those files itself), remove this request from the CSR folder (rm "+
			csr("kubelet.conf")+" "+csr("kubelet.conf.csr")+" "+csr("kubelet.conf.request.json")+" "+csr("kubelet.conf.crt")+")",
		"`certctl init-phase kubeconfig --use-csr` writes none for such a file",
		"to replace it with this certificate, move "+kubelet+" out of "+n.Dir+" and import again, which installs the kubeconfig of the CSR folder in its place")
	treetest.AssertSame(t, before, treetest.Snapshot(t, n.Dir))

	// The second way, as the refusal says.
	if err := os.Rename(kubelet, filepath.Join(t.TempDir(), "kubelet.conf")); err != nil {
		t.Fatal(err)
	}
	res, err = Import(context.Background(), n.importOptions())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Refused) != 0 || len(res.Imported) != 1 || res.Imported[0].Name != pki.KubeletKubeconfig {
		t.Errorf("after moving kubelet.conf away: refused %+v, imported %+v; want kubelet.conf imported", res.Refused, res.Imported)
	}
}
