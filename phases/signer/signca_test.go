package signer

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/pki"
)

// TestSignRefusesAnotherCAForCertctlName: each of certctl's signer names
// signs with one CA (docs/signer.md, "certctl's signer names"). `certctl
// sign` signed an approved certctl.io/kube-apiserver-serving CSR with
// whatever --ca-cert it was given, the etcd CA included: a certificate no
// client trusts, which the CSR can never lose again. With the node's
// certificate folder known, a CA other than the name's is refused and the
// CSR gets no certificate; the name's own CA signs; where the name's CA
// file is absent, another CA of the folder is still refused, and so is a
// CA of the name's subject on the key of another CA of the folder.
func TestSignRefusesAnotherCAForCertctlName(t *testing.T) {
	clusterCA := newTestCA(t, "kubernetes", testNow.Add(30*24*time.Hour))
	etcdCA := newTestCA(t, "etcd-ca", testNow.Add(30*24*time.Hour))
	dir := t.TempDir()
	store := pki.Store{Dir: dir}
	if err := store.WriteCert(pki.Kubeadm().BaseName(pki.CAName), clusterCA.Cert); err != nil {
		t.Fatal(err)
	}
	if err := store.WriteCert(pki.Kubeadm().BaseName(pki.EtcdCAName), etcdCA.Cert); err != nil {
		t.Fatal(err)
	}
	apiserver := profile(t, "apiserver")
	const serving = "certctl.io/kube-apiserver-serving"
	client := fake.NewClientset([]runtime.Object{
		apiCSR("wrong", serving, csrFor(t, apiserver), usagesOf(apiserver), true),
		apiCSR("right", serving, csrFor(t, apiserver), usagesOf(apiserver), true),
		apiCSR("nofile", serving, csrFor(t, apiserver), usagesOf(apiserver), true),
		apiCSR("samekey", serving, csrFor(t, apiserver), usagesOf(apiserver), true),
	}...)
	ctx := context.Background()
	o := SignOptions{Now: func() time.Time { return testNow },
		ControlPlane: func(context.Context) (*Policy, error) { return testPolicy(t, PolicyOptions{}), nil },
		CertDir:      func() string { return dir }}

	o.CA = etcdCA
	_, err := Sign(ctx, client, "wrong", o)
	treetest.ErrMentions(t, err, "sign CSR wrong", serving, "etcd-ca", filepath.Join(dir, "ca.crt"), "--ca-cert")
	if got := certificateOf(t, client, "wrong"); got != "" {
		t.Errorf("the CSR signed by the wrong CA got a certificate")
	}

	o.CA = clusterCA
	if _, err := Sign(ctx, client, "right", o); err != nil {
		t.Fatalf("the name's own CA: %v", err)
	}

	if err := os.Remove(store.CertPath(pki.Kubeadm().BaseName(pki.CAName))); err != nil {
		t.Fatal(err)
	}
	o.CA = etcdCA
	_, err = Sign(ctx, client, "nofile", o)
	treetest.ErrMentions(t, err, "sign CSR nofile", serving, "etcd-ca", "--ca-cert")
	if got := certificateOf(t, client, "nofile"); got != "" {
		t.Errorf("the CSR signed by another CA of the folder got a certificate")
	}

	// "kubernetes" on the etcd CA's key: not etcd/ca.crt's certificate, its key.
	o.CA = &CA{Cert: pkitest.SelfSigned(t, etcdCA.Key, &x509.Certificate{SerialNumber: big.NewInt(9), Subject: pkix.Name{CommonName: "kubernetes"},
		BasicConstraintsValid: true, IsCA: true, KeyUsage: x509.KeyUsageCertSign, NotBefore: testNow.Add(-time.Hour), NotAfter: testNow.Add(24 * time.Hour)}), Key: etcdCA.Key}
	_, err = Sign(ctx, client, "samekey", o)
	treetest.ErrMentions(t, err, "sign CSR samekey", serving, filepath.Join(dir, "etcd", "ca.crt"), "key", "--ca-cert")
	if got := certificateOf(t, client, "samekey"); got != "" {
		t.Errorf("the CSR signed with the key of another CA of the folder got a certificate")
	}
}
