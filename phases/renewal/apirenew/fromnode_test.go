package apirenew

import (
	"crypto/rand"
	"crypto/x509"
	"net"
	"slices"
	"strings"
	"testing"

	certv1 "k8s.io/api/certificates/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/certctl/certctl/phases/renewal"
	"github.com/certctl/certctl/pki"
)

// renewCSR is the CSR `certctl renew --use-api` makes on node for the
// certificate target when kubeadm made that certificate on node certNode
// (usually node itself): a new key, CSRName, the subject and SANs of the
// certificate (pki's profile on certNode), its usages (Usages) and its
// default signer name.
func renewCSR(t *testing.T, node, certNode, target string) *certv1.CertificateSigningRequest {
	t.Helper()
	e, ok := pki.Kubeadm().Find(target)
	if !ok {
		t.Fatalf("no certificate %s", target)
	}
	prof := pki.Node{Name: certNode, AdvertiseAddress: net.IPv4(192, 0, 2, 10), ServiceVIP: net.IPv4(10, 96, 0, 1), DNSDomain: "cluster.local"}.Profile(e)
	key := newKey(t)
	req, err := pki.NewCSR(rand.Reader, prof, key)
	if err != nil {
		t.Fatal(err)
	}
	usages, err := Usages(&x509.Certificate{KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment, ExtKeyUsage: prof.ExtKeyUsages})
	if err != nil {
		t.Fatal(err)
	}
	signerName, err := DefaultSignerName(renewal.TargetOf(pki.Kubeadm(), target))
	if err != nil {
		t.Fatal(err)
	}
	name, err := CSRName(node, target, key.Public())
	if err != nil {
		t.Fatal(err)
	}
	return &certv1.CertificateSigningRequest{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: certv1.CertificateSigningRequestSpec{Request: pki.EncodeCSR(req), SignerName: signerName, Usages: usages}}
}

// TestFromNode: `approve|deny --all-from-node NODE` picks exactly the CSRs
// renew --use-api made on NODE, where CSR names alone are ambiguous:
//   - node cp's super-admin.conf and node cp-super's admin.conf are both
//     certctl-cp-super-admin.conf-KEYHASH: the subject tells them apart;
//   - two node names of more than 220 characters that differ only past
//     that are cut to the same CSR names: the CN of etcd-server and
//     etcd-peer tells them apart, admin.conf's cannot and is left alone;
//   - CP_1 is cp-1 in CSR names: for --all-from-node CP_1 a certificate
//     that does not name its node is left alone;
//
// and a CSR whose name reads as a node's but whose request fits no
// reading is left alone with the reason, for every node it reads as.
func TestFromNode(t *testing.T) {
	long := strings.Repeat(strings.Repeat("n", 62)+".", 4) // 252 characters, a valid node name prefix
	longA, longB := long[:230]+".a", long[:230]+".b"
	csrs := map[string]*certv1.CertificateSigningRequest{
		"cp/admin.conf":             renewCSR(t, "cp", "cp", "admin.conf"),
		"cp/super-admin.conf":       renewCSR(t, "cp", "cp", "super-admin.conf"),
		"cp-super/admin.conf":       renewCSR(t, "cp-super", "cp-super", "admin.conf"),
		"cp-super/super-admin.conf": renewCSR(t, "cp-super", "cp-super", "super-admin.conf"),
		"cp/etcd-server":            renewCSR(t, "cp", "cp", "etcd-server"),
		"cp-super/etcd-peer":        renewCSR(t, "cp-super", "cp-super", "etcd-peer"),
		"A/etcd-server":             renewCSR(t, longA, longA, "etcd-server"),
		"A/etcd-peer":               renewCSR(t, longA, longA, "etcd-peer"),
		"A/admin.conf":              renewCSR(t, longA, longA, "admin.conf"),
		"B/etcd-server":             renewCSR(t, longB, longB, "etcd-server"),
		"B/admin.conf":              renewCSR(t, longB, longB, "admin.conf"),
		"cp-1/admin.conf":           renewCSR(t, "cp-1", "cp-1", "admin.conf"),
		"cp-1/etcd-server":          renewCSR(t, "cp-1", "CP_1", "etcd-server"),
		// Named as cp's super-admin.conf and cp-super's admin.conf, asking
		// for the apiserver's subject: neither.
		"odd": renewCSR(t, "cp", "cp", "apiserver"),
	}
	odd := renewCSR(t, "cp", "cp", "super-admin.conf")
	csrs["odd"].Name = odd.Name
	if csrs["cp/super-admin.conf"].Name[:len("certctl-cp-super-admin.conf-")] != csrs["cp-super/admin.conf"].Name[:len("certctl-cp-super-admin.conf-")] {
		t.Fatalf("names %s and %s do not collide: the test is wrong", csrs["cp/super-admin.conf"].Name, csrs["cp-super/admin.conf"].Name)
	}
	for _, tc := range []struct {
		label, node string
		mine        []string
		unclear     map[string]string // CSR -> what the reason says
	}{
		{label: "cp", node: "cp", mine: []string{"cp/admin.conf", "cp/super-admin.conf", "cp/etcd-server"},
			unclear: map[string]string{"odd": `its name reads as node cp's super-admin.conf or node cp-super's admin.conf, and its request (subject "CN=kube-apiserver", usages digital signature, key encipherment, server auth) fits none of them`}},
		{label: "cp-super", node: "cp-super", mine: []string{"cp-super/admin.conf", "cp-super/super-admin.conf", "cp-super/etcd-peer"},
			unclear: map[string]string{"odd": "fits none of them"}},
		{label: "A", node: longA, mine: []string{"A/etcd-server", "A/etcd-peer"},
			unclear: map[string]string{"A/admin.conf": "and admin.conf does not name its node", "B/admin.conf": "does not name its node",
				"B/etcd-server": `request (subject "CN=` + longB + `", usages digital signature, key encipherment, server auth, client auth) does not fit it`}},
		{label: "B", node: longB, mine: []string{"B/etcd-server"},
			unclear: map[string]string{"A/admin.conf": "does not name its node", "B/admin.conf": "does not name its node",
				"A/etcd-server": "does not fit it", "A/etcd-peer": "does not fit it"}},
		{label: "cp-1", node: "cp-1", mine: []string{"cp-1/admin.conf", "cp-1/etcd-server"}},
		{label: "CP_1", node: "CP_1", mine: []string{"cp-1/etcd-server"},
			unclear: map[string]string{"cp-1/admin.conf": `CSR names carry node CP_1 as "cp-1", as they carry every node name that certctl cuts or changes to it`}},
		{label: "c", node: "c", mine: nil},
	} {
		t.Run(tc.label, func(t *testing.T) {
			of := FromNode(tc.node, nil)
			var mine []string
			for label, csr := range csrs {
				got, err := of(csr)
				want, unclear := tc.unclear[label]
				switch {
				case unclear && (err == nil || !strings.Contains(err.Error(), want)):
					t.Errorf("%s: %v, %v; want it left alone because %q", label, got, err, want)
				case !unclear && err != nil:
					t.Errorf("%s: left alone: %v", label, err)
				case got != "":
					mine = append(mine, label)
				}
			}
			slices.Sort(mine)
			want := slices.Sorted(slices.Values(tc.mine))
			if !slices.Equal(mine, want) {
				t.Errorf("--all-from-node %s picks %q, want %q", tc.label, mine, want)
			}
		})
	}
}
