package expiration

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/pki"
)

// rotatingNode is a node at stage trust of a rotation of ca, made by hand
// (phases/carotate imports this package): ca.crt holds OLD then NEW,
// ca.old.crt and ca.new.crt each one, the record says trust, and
// kube-controller-manager's manifest (beside the certificate folder, as on
// a kubeadm node) signs with signs. The kubeconfigs trust OLD alone, as
// `kubeadm certs renew` writes them.
func rotatingNode(t *testing.T, signs string) *pkitest.Node {
	t.Helper()
	n := pkitest.NewNode(t, nil)
	old, _ := n.CA(t, "ca")
	key, err := pki.GenerateKey(rand.Reader, pki.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	e, _ := pki.Kubeadm().Find(pki.CAName)
	nw, err := pki.NewSelfSignedCA(rand.Reader, pki.Node{}.Profile(e), key, pki.Validity{NotBefore: pkitest.Made, NotAfter: pkitest.Made.Add(87600 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	fp := func(b []byte) string { return fmt.Sprintf("%x", sha256.Sum256(b)) }
	files := map[string][]byte{
		"pki/ca.crt": pki.EncodeCerts(old, nw), "pki/ca.old.crt": pki.EncodeCert(old), "pki/ca.new.crt": pki.EncodeCert(nw),
		"pki/.certctl-rotation-ca.json": fmt.Appendf(nil, `{"version":1,"ca":"ca","stage":"trust","oldCA":%q,"newCA":%q,"history":[],"restarted":true}`, fp(old.Raw), fp(nw.Raw)),
	}
	manifest, err := os.ReadFile("../../manifests/staticpods/testdata/kubeadm/kube-controller-manager.yaml")
	if err != nil {
		t.Fatal(err)
	}
	manifest = bytes.ReplaceAll(manifest, []byte("/etc/kubernetes/"), []byte(n.Dir+"/"))
	files["manifests/kube-controller-manager.yaml"] = bytes.ReplaceAll(manifest, []byte("--cluster-signing-cert-file="+n.Path("pki/ca.crt")), []byte("--cluster-signing-cert-file="+n.Path("pki/"+signs)))
	if err := os.Mkdir(n.Path("manifests"), 0o700); err != nil {
		t.Fatal(err)
	}
	for rel, data := range files {
		if err := os.WriteFile(n.Path(rel), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return n
}

// TestRotationProblems: during a rotation of ca, after `kubeadm upgrade`
// wrote kube-controller-manager's manifest with ca.crt (two CAs: it
// refuses to start) and `kubeadm certs renew` wrote the first CA alone
// into the kubeconfigs, `certctl ca status` reported both and
// check-expiration, which cron and monitoring run, nothing. They are now
// problems of the ca row and of each kubeconfig, in ca status's words,
// with the command that fixes each.
func TestRotationProblems(t *testing.T) {
	tests := []struct {
		name, signs string
		want        map[string]ProblemType // row -> problem
	}{
		{"kubeadm's manifest", "ca.crt", map[string]ProblemType{"ca": RotationSigningFlags, "admin.conf": RotationCAData, "scheduler.conf": RotationCAData}},
		{"the stage's manifest", "ca.old.crt", map[string]ProblemType{"admin.conf": RotationCAData}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := rotatingNode(t, tt.signs)
			info := check(t, n, nil)
			says := map[ProblemType][]string{
				RotationSigningFlags: {n.Path("manifests/kube-controller-manager.yaml"), "--cluster-signing-cert-file=" + n.Path("pki/ca.crt"), "refuses", "certctl signer enable --manifest " + n.Path("manifests/kube-controller-manager.yaml") + " --cert-dir " + n.CertDir(), "--cluster-signing-cert-file=" + n.Path("pki/ca.old.crt")},
				RotationCAData:       {"kubeadm certs renew", "stage trust", "certctl renew "},
			}
			for _, c := range info.all() {
				want, ok := tt.want[c.Name]
				got := map[ProblemType]string{}
				for _, p := range c.Problems {
					got[p.Type] = p.Message
				}
				if !ok {
					if got[RotationSigningFlags]+got[RotationCAData] != "" && c.Name != "ca" {
						continue // the other kubeconfigs: as admin.conf
					}
					if c.Name == "ca" && got[RotationSigningFlags] != "" {
						t.Errorf("ca: %s, want none with the stage's manifest", got[RotationSigningFlags])
					}
					continue
				}
				msg, found := got[want]
				if !found {
					t.Errorf("%s: problems %+v, want one %s", c.Name, c.Problems, want)
					continue
				}
				for _, w := range says[want] {
					if !strings.Contains(msg, w) {
						t.Errorf("%s: %q does not say %q", c.Name, msg, w)
					}
				}
				if want == RotationCAData && !strings.Contains(msg, "certctl renew "+c.Name) || !strings.Contains(msg, filepath.Base(c.File)) {
					t.Errorf("%s: %q does not name it or its renewal", c.Name, msg)
				}
			}
			if len(info.Problems()) == 0 {
				t.Errorf("no problems counted")
			}
		})
	}
}
