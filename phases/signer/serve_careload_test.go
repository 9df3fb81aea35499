package signer

import (
	"io"
	"testing"
	"time"

	certv1 "k8s.io/api/certificates/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/pki"
)

// TestServeReloadChecksCAs: signer run checks its --*-ca-cert files at
// start (checkFlagCAs) and refuses a --signer on a node CA
// (checkCustomCA), but a reload (CASource.Check) took whatever valid CA
// the files came to hold: --ca-cert replaced by the etcd CA's pair signed
// certctl's kube-apiserver names with the etcd CA, and a --signer's files
// replaced by the cluster CA's signed any subject the API server trusts. A
// reload now makes the checks of the start; a refused pair is not signed
// with, nor is the last good one the files no longer hold (as cert-manager's
// CA issuer stops issuing while its CA Secret is not acceptable): Signing
// fails, and CSRs wait, until the files hold an accepted pair or the last
// good one again. A rotation's new CA, in the folder's bundle, is taken.
func TestServeReloadChecksCAs(t *testing.T) {
	later := time.Now().Add(24 * time.Hour)
	clusterCA, etcdCA, fresh, own := newTestCA(t, "kubernetes", later), newTestCA(t, "etcd-ca", later), newTestCA(t, "kubernetes-2", later), newTestCA(t, "example CA", later)
	for _, c := range []struct {
		name    string
		source  string // the name of the source whose files are replaced
		replace *CA
		bundle  bool     // the folder's ca.crt holds clusterCA and fresh, a rotation's trust stage
		mention []string // nil: taken
	}{
		{"--ca-cert replaced by the etcd CA", pki.CAName, etcdCA, false, []string{"--ca-cert", `"etcd-ca"`, "not ca"}},
		{"--signer replaced by the cluster CA", "example.com/serving", clusterCA, false, []string{"example.com/serving", `"kubernetes"`, "a CA of its own"}},
		{"--ca-cert replaced by a rotation's new CA", pki.CAName, fresh, true, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			certDir := pki.Store{Dir: t.TempDir()}
			inv := pki.Kubeadm()
			folderCA := []*CA{clusterCA}
			if c.bundle {
				folderCA = append(folderCA, fresh)
			}
			if err := certDir.WriteCert(inv.BaseName(pki.CAName), folderCA[0].Cert, folderCA[len(folderCA)-1].Cert); err != nil {
				t.Fatal(err)
			}
			if err := certDir.WriteCert(inv.BaseName(pki.EtcdCAName), etcdCA.Cert); err != nil {
				t.Fatal(err)
			}
			flagDir, ownDir := pki.Store{Dir: t.TempDir()}, pki.Store{Dir: t.TempDir()}
			writePair(t, flagDir, clusterCA)
			writePair(t, ownDir, own)
			o := ServeOptions{Cluster: &config.Cluster{CertificatesDir: certDir.Dir},
				CAFiles: map[string][2]string{pki.CAName: {flagDir.CertPath("ca"), flagDir.KeyPath("ca")}},
				Custom:  []string{"example.com/serving=" + ownDir.CertPath("ca") + "," + ownDir.KeyPath("ca")},
				Out:     io.Discard, ErrOut: io.Discard}
			providers, _, sources, err := o.loadSources(CASourceOptions{})
			if err != nil {
				t.Fatal(err)
			}
			name := c.source
			var src *CASource
			for _, s := range sources {
				if s.name == name {
					src = s
				}
			}
			was := src.Current()
			files := map[string]pki.Store{pki.CAName: flagDir, "example.com/serving": ownDir}[name]
			writePair(t, files, c.replace)
			_, err = src.Check()
			if c.mention == nil {
				if got, serr := src.Signing(); err != nil || serr != nil || !got.Cert.Equal(c.replace.Cert) {
					t.Fatalf("reload of %s: %v, %v; want it taken", name, err, serr)
				}
				return
			}
			treetest.ErrMentions(t, err, c.mention...)
			if _, serr := src.Signing(); serr == nil {
				t.Errorf("signing with a refused CA's last good one")
			}
			if !src.Current().Cert.Equal(was.Cert) {
				t.Errorf("the refused CA became current")
			}
			if name == pki.CAName {
				// The controller leaves the CSRs of its names waiting, neither
				// signed nor failed, and signs them once the files are back.
				p := profile(t, "apiserver")
				client := fake.NewClientset(apiCSR("r", KubeAPIServerServing, csrFor(t, p), usagesOf(p), true))
				startController(t, ControllerOptions{Client: client, CAs: providers, Policy: testPolicy(t, PolicyOptions{}), Now: time.Now})
				time.Sleep(500 * time.Millisecond)
				if s := State(getCSR(t, client, "r")); s != "Approved" {
					t.Errorf("with the --ca-cert files refused, the CSR is %s, want it waiting (Approved)", s)
				}
				writePair(t, files, was)
				if _, err := src.Check(); err != nil {
					t.Fatal(err)
				}
				for deadline := time.Now().Add(15 * time.Second); State(getCSR(t, client, "r")) != "Issued"; time.Sleep(20 * time.Millisecond) {
					if time.Now().After(deadline) {
						t.Fatalf("the files back to the last good CA: the CSR is %s, want Issued", State(getCSR(t, client, "r")))
					}
				}
			}
		})
	}
}

func getCSR(t *testing.T, client *fake.Clientset, name string) *certv1.CertificateSigningRequest {
	t.Helper()
	csr, err := client.CertificatesV1().CertificateSigningRequests().Get(t.Context(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return csr
}
