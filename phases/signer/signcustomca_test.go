package signer

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"testing"
	"time"

	certv1 "k8s.io/api/certificates/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/pki"
)

// TestSignRefusesNodeCAForCustomName: `signer run` refuses a custom
// --signer whose CA is one of the node's (checkCustomCA), but `certctl
// sign` signed an approved CSR of a custom signer name with
// --ca-cert /etc/kubernetes/pki/ca.crt: it learned the certificate folder
// only for certctl's names. A certificate the control plane trusts, with
// any subject (system:kube-controller-manager), skipped the control-plane
// profile. With the folder given (--cert-dir), a node CA is refused for a
// custom name, whether it is the folder's ca.crt or its etcd CA, and the
// CSR gets no certificate; a CA of its own signs.
func TestSignRefusesNodeCAForCustomName(t *testing.T) {
	later := time.Now().Add(30 * 24 * time.Hour)
	clusterCA, etcdCA, ownCA := newTestCA(t, "kubernetes", later), newTestCA(t, "etcd-ca", later), newTestCA(t, "example CA", later)
	certDir := t.TempDir()
	store := pki.Store{Dir: certDir}
	inv := pki.Kubeadm()
	for name, ca := range map[string]*CA{pki.CAName: clusterCA, pki.EtcdCAName: etcdCA} {
		if err := store.WriteCert(inv.BaseName(name), ca.Cert); err != nil {
			t.Fatal(err)
		}
		if err := store.WriteKey(inv.BaseName(name), ca.Key); err != nil {
			t.Fatal(err)
		}
	}
	inter := pki.Store{Dir: t.TempDir()}
	writePair(t, inter, intermediateCA(t, clusterCA, "example intermediate", later))
	// A certificate for the cluster CA's key that another CA issued.
	root := newTestCA(t, "unrelated root", later)
	onKey, err := pki.Sign(rand.Reader, pki.Profile{Name: "example CA", CommonName: "example CA", IsCA: true}, clusterCA.Key.Public(), root.Cert, root.Key,
		pki.Validity{NotBefore: root.Cert.NotBefore, NotAfter: later})
	if err != nil {
		t.Fatal(err)
	}
	sameKey := pki.Store{Dir: t.TempDir()}
	writePair(t, sameKey, &CA{Cert: onKey, Key: clusterCA.Key})
	kcm := &x509.CertificateRequest{Subject: pkix.Name{CommonName: "system:kube-controller-manager"}}
	const custom = "example.com/client"
	for _, c := range []struct {
		name, cert, key string
		mention         []string // nil: signed
	}{
		{"the node's cluster CA", store.CertPath("ca"), store.KeyPath("ca"), []string{"sign CSR", custom, `"kubernetes"`, "ca", store.CertPath("ca"), "a CA of its own"}},
		{"the node's etcd CA", store.CertPath("etcd/ca"), store.KeyPath("etcd/ca"), []string{custom, `"etcd-ca"`, "etcd-ca", store.CertPath("etcd/ca")}},
		{"a CA of its own", "", "", nil},
		{"an intermediate CA the node's cluster CA issued", inter.CertPath("ca"), inter.KeyPath("ca"), []string{"sign CSR", custom, `"example intermediate"`, `"kubernetes"`, store.CertPath("ca"), "a CA of its own"}},
		{"another CA's certificate for the cluster CA's key", sameKey.CertPath("ca"), sameKey.KeyPath("ca"), []string{"sign CSR", custom, `"example CA"`, "key", `"kubernetes"`, store.CertPath("ca"), "a CA of its own key"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.cert == "" {
				s := pki.Store{Dir: t.TempDir()}
				writePair(t, s, ownCA)
				c.cert, c.key = s.CertPath("ca"), s.KeyPath("ca")
			}
			client := fake.NewClientset([]runtime.Object{apiCSR("r", custom, csrWith(t, kcm, nil), []certv1.KeyUsage{certv1.UsageDigitalSignature, certv1.UsageClientAuth}, true)}...)
			var out, errOut bytes.Buffer
			err := SignWith(context.Background(), func() (kubernetes.Interface, error) { return client, nil },
				func() (*config.Cluster, error) {
					t.Fatal("the node's settings read for a custom name")
					return nil, nil
				},
				NodeRules{}, "r", SignFiles{CACert: c.cert, CAKey: c.key, CertDir: certDir, Now: time.Now(), Out: &out, ErrOut: &errOut})
			if c.mention == nil {
				if err != nil || certificateOf(t, client, "r") == "" {
					t.Fatalf("signing with a CA of its own: %v\n%s", err, errOut.String())
				}
				return
			}
			treetest.ErrMentions(t, err, c.mention...)
			if got := certificateOf(t, client, "r"); got != "" {
				t.Errorf("the CSR signed with a node CA got a certificate")
			}
		})
	}
}
