package apirenew

import (
	"crypto/rand"
	"testing"

	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/phases/renewal"
	"github.com/certctl/certctl/phases/signer"
	"github.com/certctl/certctl/pki"
)

// TestDefaultSignerNamesFitApprover: the CSR renew --use-api makes for
// each certificate, with its default signer name, is one `certctl approve`
// accepts (and `certctl signer run` signs): the two sides agree on names,
// subjects and usages.
func TestDefaultSignerNamesFitApprover(t *testing.T) {
	c := config.Default()
	c.NodeName, c.AdvertiseAddress = "cp-1", "198.51.100.10"
	policy, err := signer.NewPolicy(signer.PolicyOptions{Nodes: []*config.Cluster{&c}, AllowSystemMasters: true})
	if err != nil {
		t.Fatal(err)
	}
	n, err := c.Node()
	if err != nil {
		t.Fatal(err)
	}
	profiles := pki.Kubeadm().Certificates(n)
	for _, k := range pki.Kubeadm().Kubeconfigs(n) {
		k.Profile.Name = k.BaseName
		profiles = append(profiles, k.Profile)
	}
	ca := newTestCA(t)
	for _, name := range renewal.Names()[1:] {
		p, ok := pki.Find(profiles, name)
		if !ok {
			t.Fatalf("no profile %s", name)
		}
		req := ca.request(t, name, p)
		s, err := DefaultSignerName(renewal.TargetOf(pki.Kubeadm(), name))
		if err != nil {
			t.Fatal(err)
		}
		usages, err := Usages(req.Current)
		if err != nil {
			t.Fatal(err)
		}
		csr, err := pki.NewCSR(rand.Reader, req.Profile, newKey(t))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := policy.Check(s, csr, usages); err != nil {
			t.Errorf("%s (signer %s): certctl approve would refuse it: %v", name, s, err)
		}
	}
}
