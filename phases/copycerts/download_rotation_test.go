package copycerts

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"k8s.io/client-go/kubernetes/fake"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/phases/carotate/castage"
	"github.com/certctl/certctl/pki"
)

// caPair is a CA's certificate and key, as files hold them.
type caPair struct{ crt, key []byte }

func caOf(t *testing.T, n *pkitest.Node) caPair {
	t.Helper()
	var p caPair
	for name, b := range map[string]*[]byte{"ca.crt": &p.crt, "ca.key": &p.key} {
		data, err := os.ReadFile(filepath.Join(n.CertDir(), name))
		if err != nil {
			t.Fatal(err)
		}
		*b = data
	}
	return p
}

// rotate puts the cluster CA of certDir at stage of a rotation from old
// to new, as `certctl ca rotate ca` leaves the files
// (docs/ca-rotation.md): ca.crt holds both, the signing one first; ca.key
// is the signing key; ca.old.crt, ca.new.crt and the key that does not
// sign beside them; the record (castage.StageFinished: new alone). The
// leaves are left as they are.
func rotate(t *testing.T, certDir string, old, new caPair, stage string) {
	t.Helper()
	files := map[string][]byte{"ca.old.crt": old.crt, "ca.new.crt": new.crt}
	remove := []string{"ca.old.key", "ca.new.key"}
	switch stage {
	case castage.StageTrust:
		files["ca.crt"], files["ca.key"], files["ca.new.key"] = slices.Concat(old.crt, new.crt), old.key, new.key
	case castage.StageReissue:
		files["ca.crt"], files["ca.key"], files["ca.old.key"] = slices.Concat(new.crt, old.crt), new.key, old.key
	case castage.StageFinished:
		files = map[string][]byte{"ca.crt": new.crt, "ca.key": new.key}
		remove = append(remove, "ca.old.crt", "ca.new.crt")
	}
	fp := func(pem []byte) string {
		certs, err := pki.ParseCerts(pem)
		if err != nil {
			t.Fatal(err)
		}
		return castage.Fingerprint(certs[0])
	}
	rec, err := json.Marshal(castage.Record{Version: castage.RecordVersion, CA: pki.CAName, Stage: stage,
		OldCA: fp(old.crt), NewCA: fp(new.crt), History: []castage.Step{{Stage: stage, At: uploaded}}})
	if err != nil {
		t.Fatal(err)
	}
	files[castage.RecordPrefix+pki.CAName+".json"] = rec
	for _, name := range remove {
		if err := os.Remove(filepath.Join(certDir, name)); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(certDir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// TestDownloadOntoARotation: certs download onto a node that is in a
// rotation of its CA (ca.crt holding the old and the new CA) was refused
// as "this folder holds another cluster's files", telling the user to
// move the folder aside (or remove ca.crt): that loses the rotation. The
// node is the cluster's: the refusal now says it is in a rotation, at
// which stage, what the Secret holds against it, and to go on with the
// rotation; nothing is written. A Secret of another cluster is still
// said to be one (every shared file differs, not only the rotation's);
// a finished rotation is no rotation.
func TestDownloadOntoARotation(t *testing.T) {
	key := testKey(t)
	for _, tc := range []struct {
		name string
		// prepare makes the node's folder, rotating from old to new, and
		// uploads the Secret to cs.
		prepare func(t *testing.T, cs *fake.Clientset, certDir string, old, new caPair)
		want    []string
	}{
		{
			name: "trust, the Secret from before the rotation",
			prepare: func(t *testing.T, cs *fake.Clientset, certDir string, old, new caPair) {
				upload(t, cs, certDir, key)
				rotate(t, certDir, old, new, castage.StageTrust)
			},
			want: []string{"ca.crt differs from secret kube-system/kubeadm-certs: this node is in a rotation of ca, at stage trust (record ", "ca.crt holds its old and new CAs, and the secret's holds the old CA alone, uploaded before the rotation", "nothing was written", "needs no download: go on with its rotation (certctl ca rotate ca; `certctl ca status` says the next step", "do not move"},
		},
		{
			name: "reissue, the Secret from a node at trust",
			prepare: func(t *testing.T, cs *fake.Clientset, certDir string, old, new caPair) {
				rotate(t, certDir, old, new, castage.StageTrust)
				upload(t, cs, certDir, key)
				rotate(t, certDir, old, new, castage.StageReissue)
			},
			want: []string{"ca.crt, ", "ca.key differ from secret kube-system/kubeadm-certs: this node is in a rotation of ca, at stage reissue", "the secret's holds the same two, uploaded from a node at the other stage of the rotation", "certctl ca rotate ca"},
		},
		{
			name: "trust, the Secret of another cluster",
			prepare: func(t *testing.T, cs *fake.Clientset, certDir string, old, new caPair) {
				upload(t, cs, pkitest.NewNode(t, nil).CertDir(), key)
				rotate(t, certDir, old, new, castage.StageTrust)
			},
			// Every shared file differs, not only the rotation's: the
			// Secret is another cluster's, as foreignFiles says.
			want: []string{"front-proxy-ca.crt", "differ from the cluster's in secret kube-system/kubeadm-certs", "this folder holds another cluster's files"},
		},
		{
			name: "trust, the Secret's ca.crt neither CA of the rotation",
			prepare: func(t *testing.T, cs *fake.Clientset, certDir string, old, new caPair) {
				// The node's shared files but for a third CA.
				third := pkitest.NewNode(t, nil)
				for _, name := range shared {
					if strings.HasPrefix(name, "ca.") {
						continue
					}
					data, err := os.ReadFile(filepath.Join(certDir, name))
					if err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(filepath.Join(third.CertDir(), name), data, 0o600); err != nil {
						t.Fatal(err)
					}
				}
				upload(t, cs, third.CertDir(), key)
				rotate(t, certDir, old, new, castage.StageTrust)
			},
			want: []string{"this node is in a rotation of ca, at stage trust", "and the secret's is \"kubernetes\" serial ", "neither of them: the Secret was uploaded from another cluster's folder, or a stale copy", "nothing was written"},
		},
		{
			name: "a finished rotation",
			prepare: func(t *testing.T, cs *fake.Clientset, certDir string, old, new caPair) {
				upload(t, cs, certDir, key)
				rotate(t, certDir, old, new, castage.StageFinished)
			},
			want: []string{"ca.key differ from the cluster's in secret kube-system/kubeadm-certs", "this folder holds another cluster's files"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := pkitest.NewNode(t, nil)
			cs := fake.NewClientset()
			tc.prepare(t, cs, n.CertDir(), caOf(t, n), caOf(t, pkitest.NewNode(t, nil)))
			before := treetest.Snapshot(t, n.CertDir())
			out, err := download(cs, n.CertDir(), key, nil)
			treetest.ErrMentions(t, err, tc.want...)
			if rotating := strings.Contains(tc.want[0], "rotation"); rotating && strings.Contains(err.Error(), "another cluster's files") {
				t.Errorf("a node in a rotation is said to hold another cluster's files: %v", err)
			}
			treetest.AssertSame(t, before, treetest.Snapshot(t, n.CertDir()))
			if t.Failed() {
				t.Logf("output:\n%s", out)
			}
		})
	}
}
