package clusterview

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"math/big"
	"net"
	"os"
	"slices"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes/fake"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/pki"
)

// TestServedDuringRotation: during a CA rotation the CA files hold two
// CAs (docs/ca-rotation.md: at trust OLD then NEW, from reissue NEW then
// OLD), and every client trusts both. A node at another stage than this
// host (or a component this host has not restarted yet) serves a
// certificate of the other CA: it is trusted, not a problem. The served
// certificates were checked against the first CA of the file only, and
// were each not-signed-by-ca, exit 3, saying that clients reject them.
func TestServedDuringRotation(t *testing.T) {
	for _, base := range []string{"ca", "etcd/ca"} {
		t.Run(base, func(t *testing.T) {
			f := newFixture(t)
			old, _ := f.node.CA(t, base)
			key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			tmpl := *old
			tmpl.SerialNumber, tmpl.PublicKey, tmpl.SubjectKeyId, tmpl.AuthorityKeyId = big.NewInt(4242), key.Public(), nil, nil
			nw := pkitest.SelfSigned(t, key, &tmpl)
			// This host at reissue: NEW then OLD; what is served is still OLD's.
			if err := os.WriteFile(f.node.Path("pki/"+base+".crt"), slices.Concat(pki.EncodeCert(nw), pki.EncodeCert(old)), 0o644); err != nil {
				t.Fatal(err)
			}
			o := Options{Client: fake.NewClientset(cpNode("cp-1", "127.0.0.1"), mirrorPod("kube-apiserver", "cp-1", APIServerEndpointAnnotation, f.apiserver),
				mirrorPod("etcd", "cp-1", EtcdClientURLsAnnotation, "https://"+f.etcd)), CertDir: f.node.CertDir(), Now: pkitest.Made, LocalIPs: []net.IP{}}
			info, err := Check(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			if len(info.Nodes) != 1 || len(info.Nodes[0].Endpoints) != 3 {
				t.Fatalf("nodes %+v, want cp-1 with 3 endpoints", info.Nodes)
			}
			for _, e := range info.Nodes[0].Endpoints {
				if len(e.Problems) != 0 || !e.SignedByCA {
					t.Errorf("%s: signedByCA %v, problems %+v; want signed, none", e.Component, e.SignedByCA, e.Problems)
				}
			}
		})
	}
}

// TestMemberListDuringRotationOneTimeout: during a CA rotation etcd's
// member list was asked trusting etcd/ca.crt's first CA, then, when a
// member's certificate was the other CA's, asked again trusting that one:
// a member that hangs cost its timeout twice, beyond the bound that
// docs/ha.md gives. Both CAs are now trusted in one ask.
func TestMemberListDuringRotationOneTimeout(t *testing.T) {
	f := newFixture(t)
	old, _ := f.node.CA(t, "etcd/ca")
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := *old
	tmpl.SerialNumber, tmpl.PublicKey, tmpl.SubjectKeyId, tmpl.AuthorityKeyId = big.NewInt(4242), key.Public(), nil, nil
	nw := pkitest.SelfSigned(t, key, &tmpl)
	// This host at reissue: NEW then OLD; the etcd member serves OLD's.
	if err := os.WriteFile(f.node.Path("pki/etcd/ca.crt"), slices.Concat(pki.EncodeCert(nw), pki.EncodeCert(old)), 0o644); err != nil {
		t.Fatal(err)
	}
	// The etcd pod names a client URL that hangs before the member's own.
	const timeout = time.Second
	o := Options{Client: fake.NewClientset(cpNode("cp-1", "127.0.0.1"), mirrorPod("kube-apiserver", "cp-1", APIServerEndpointAnnotation, f.apiserver),
		mirrorPod("etcd", "cp-1", EtcdClientURLsAnnotation, "https://"+blackHole(t, "127.0.0.1")+",https://"+f.etcd)),
		CertDir: f.node.CertDir(), Now: pkitest.Made, Timeout: timeout, LocalIPs: []net.IP{}}
	start := time.Now()
	info, err := Check(context.Background(), o)
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(info.Sources, "etcd members https://"+f.etcd) {
		t.Fatalf("sources %q, warnings %q: the member list was not read from https://%s", info.Sources, info.Warnings, f.etcd)
	}
	// One timeout for the member that hangs, plus slack for a loaded machine.
	if took > timeout*16/10 {
		t.Errorf("took %v, want one timeout of %v (and slack): the member list must not wait for a member that hangs once per CA", took, timeout)
	}
}
