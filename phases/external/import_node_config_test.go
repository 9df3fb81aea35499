package external

import (
	"context"
	"crypto/rand"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/phases"
	"github.com/certctl/certctl/pki"
)

// TestImportFirstInstallationNodeName: the import refused a request
// naming another node only once the certificates in force named this
// one, so on a first installation (only the CA certificates there) the
// CSR folder of node cp-2 was installed on cp-1, even with cp-1's
// --config, whose nodeRegistration.name says who the node is. With that
// name (ImportOptions.NodeName) the four certificates that name the node
// are refused, each saying whose they are, and the others installed;
// without it the import behaves as before. A --config naming another node
// than the certificates in force refuses them too, with a warning.
func TestImportFirstInstallationNodeName(t *testing.T) {
	n := newExtNode(t) // cp-1's CAs, signing as the external CA
	n.csrDir = otherNodeCSRs(t, n, "cp-2")
	n.signAll(t)
	refused := []string{"apiserver", "etcd-peer", "etcd-server", pki.KubeletKubeconfig}
	for _, tc := range []struct {
		name       string
		first      bool   // a first installation: only the CA certificates
		nodeName   string // ImportOptions.NodeName
		refused    []string
		want       []string // in the refusals
		warning    string
		unexpected string // in no refusal
	}{
		{name: "first installation, --config of cp-1", first: true, nodeName: "cp-1", refused: refused,
			want: []string{`asks for a certificate of node "cp-2" (CN=cp-2), but this node is "cp-1", as nodeRegistration.name of /etc/kubeadm.yaml says`,
				`asks for a certificate of node "cp-2" (CN=system:node:cp-2), but this node is "cp-1"`,
				`apiserver.request.json asks for the DNS names cp-2, `, `without this node's name "cp-1" (as nodeRegistration.name of /etc/kubeadm.yaml says), which certctl's inventory gives apiserver`,
				"the CSR folder is another node's", "certctl init-phase certs etcd-server --use-csr --csr-dir NEWDIR"}},
		{name: "first installation, no --config", first: true},
		{name: "first installation, --config of cp-2", first: true, nodeName: "cp-2"},
		{name: "node cp-1 in force, --config of cp-2", nodeName: "cp-2", refused: refused,
			want:    []string{`asks for a certificate of node "cp-2" (CN=cp-2), but this node is "cp-1", as ` + "KCDIR/pki/etcd/server.crt says"},
			warning: `nodeRegistration.name of /etc/kubeadm.yaml names the node "cp-2", but KCDIR/pki/etcd/server.crt says it is "cp-1": a request that names a node is refused; give the --config of this node`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := n.importOptions()
			if tc.first {
				o.CertDir, o.KubeconfigDir = firstInstallation(t, n)
			}
			o.NodeName, o.ConfigFile = tc.nodeName, "/etc/kubeadm.yaml"
			before := treetest.Snapshot(t, o.KubeconfigDir)
			res, err := Import(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			var names, reasons []string
			for _, r := range res.Refused {
				names, reasons = append(names, r.Name), append(reasons, r.Reason)
			}
			slices.Sort(names)
			if !slices.Equal(names, tc.refused) || len(res.Imported)+len(res.Refused) != 12 {
				t.Fatalf("refused %q, imported %d; want %q refused, the others of 12 imported\n%s", names, len(res.Imported), tc.refused, strings.Join(reasons, "\n"))
			}
			all := strings.Join(reasons, "\n")
			for _, w := range tc.want {
				if w = strings.ReplaceAll(w, "KCDIR", o.KubeconfigDir); !strings.Contains(all, w) {
					t.Errorf("refusals do not say %q:\n%s", w, all)
				}
			}
			warning := strings.ReplaceAll(tc.warning, "KCDIR", o.KubeconfigDir)
			if got := slices.Contains(res.Warnings, warning); tc.warning != "" && !got {
				t.Errorf("warnings %q lack %q", res.Warnings, warning)
			}
			if tc.refused == nil {
				return
			}
			// What was refused is left as it was.
			after := treetest.Snapshot(t, o.KubeconfigDir)
			for _, f := range []string{"pki/apiserver.crt", "pki/etcd/server.key", "kubelet.conf"} {
				if before[f] != after[f] {
					t.Errorf("%s changed, though refused", f)
				}
			}
		})
	}
}

// otherNodeCSRs writes, as `init-phase certs all --use-csr` and
// `init-phase kubeconfig all --use-csr` on node name (address
// 198.51.100.11) would, the CSR folder of that node, with n's CA
// certificates, and returns it.
func otherNodeCSRs(t *testing.T, n *extNode, name string) string {
	t.Helper()
	c := *n.Cluster
	c.NodeName, c.AdvertiseAddress = name, "198.51.100.11"
	c.CertificatesDir, _ = firstInstallation(t, n)
	node, err := c.Node()
	if err != nil {
		t.Fatal(err)
	}
	csrDir := filepath.Join(t.TempDir(), "csr-"+name)
	env := &phases.Env{Cluster: &c, KubeconfigDir: filepath.Dir(c.CertificatesDir), UseCSR: true, CSRDir: csrDir, Now: clock, Rand: rand.Reader, Out: io.Discard}
	for _, ps := range [][]phases.Phase{phases.CertPhases(pki.Kubeadm().Certificates(node)), phases.KubeconfigPhases(pki.Kubeadm().Kubeconfigs(node))} {
		if err := phases.Run(context.Background(), env, ps); err != nil {
			t.Fatal(err)
		}
	}
	return csrDir
}

// firstInstallation is a node's folders before anything runs, but for
// n's CA certificates (docs/external-ca.md, first installation, step 1):
// its certificate folder, and its kubeconfig folder above it.
func firstInstallation(t *testing.T, n *extNode) (certDir, kubeconfigDir string) {
	t.Helper()
	kubeconfigDir = t.TempDir()
	certDir = filepath.Join(kubeconfigDir, "pki")
	for _, base := range []string{"ca", "front-proxy-ca", "etcd/ca"} {
		if err := (pki.Store{Dir: certDir}).WriteCert(base, n.caCerts[base]); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(kubeconfigDir, 0o755); err != nil {
		t.Fatal(err)
	}
	return certDir, kubeconfigDir
}
