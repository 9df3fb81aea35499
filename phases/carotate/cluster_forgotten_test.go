package carotate

import (
	"context"
	"crypto/x509"
	"path/filepath"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

// TestForgottenNodeComesBack: a node taken out of a rotation with
// --forget-node that ran certctl again (its stage made, its entry maybe
// never written: a call killed; or a node declared gone that was not)
// wrote its entry back and, for ca, published the new CA in cluster-info
// again, which the forget of the last node had just removed: the forget
// was undone without a word. The forget now keeps the node's name in key
// forgotten.json of the rotation's ConfigMap; the node's next stage, and
// its dry run, are refused in one line that names the key and says to
// abort; its abort goes on alone, writes no entry, and takes its name
// out.
func TestForgottenNodeComesBack(t *testing.T) {
	const ca, key = "ca", "client-ca-file"
	ctx := context.Background()
	for _, othersLeft := range []bool{false, true} {
		name := "last node"
		if othersLeft {
			name = "a node left"
		}
		t.Run(name, func(t *testing.T) {
			cs := fake.NewClientset()
			a := clusterNode{fixture: newFixture(t), name: "cp-1", cs: cs}
			b := clusterNode{fixture: cloneFixture(t, a.fixture), name: "cp-2", cs: cs}
			oldCA := readCA(t, filepath.Join(a.node.CertDir(), "ca.crt"))
			publishExtensionAuth(t, cs, key, oldCA)
			publishClusterInfo(t, cs, oldCA)
			var newCA *x509.Certificate
			if othersLeft {
				k := keyLine.FindStringSubmatch(a.rotate(t, ca, nil))[1]
				b.rotate(t, ca, func(o *Options, c *ClusterOptions) { c.CertificateKey = k })
				newCA = readCA(t, filepath.Join(a.node.CertDir(), "ca.new.crt"))
			} else {
				b.rotate(t, ca, nil)
				newCA = readCA(t, filepath.Join(b.node.CertDir(), "ca.new.crt"))
			}
			out := a.rotate(t, ca, func(o *Options, cc *ClusterOptions) { o.Restarted, cc.ForgetNode = false, "cp-2" })
			if !strings.Contains(out, "keeps its name in key forgotten.json") || !strings.Contains(out, "its next stage of this rotation is refused") {
				t.Errorf("--forget-node cp-2 does not say cp-2's next stage is refused:\n%s", out)
			}
			published := []*x509.Certificate{oldCA}
			if othersLeft {
				published = append(published, newCA) // cp-1 is at trust
			}
			check := func(when string) {
				t.Helper()
				rec := clusterRecord(t, cs, ca)
				if othersLeft && (rec == nil || len(rec.Nodes) != 1 || rec.Nodes["cp-1"].Stage != StageTrust) || !othersLeft && rec != nil {
					t.Errorf("%s: the cluster record is %+v, want cp-1 alone at trust, or none", when, rec)
				}
				if got := clusterInfoCAs(t, cs); !equalCerts(got, published...) {
					t.Errorf("%s: cluster-info holds %d CAs, want %d (the new CA published again?)", when, len(got), len(published))
				}
			}
			check("after the forget")

			for _, dryRun := range []bool{true, false} {
				b.refused(t, ca, func(o *Options, c *ClusterOptions) { o.DryRun = dryRun },
					"node cp-2 was taken out of the rotation of ca with --forget-node", "key forgotten.json of ConfigMap kube-system/certctl-ca-rotation-ca",
					"at stage trust", "`certctl ca rotate ca --abort`", "kubeadm reset", "nothing was changed")
				check("after cp-2's refused stage")
			}

			out = b.rotate(t, ca, func(o *Options, c *ClusterOptions) { o.Abort = true })
			if !strings.Contains(out, "its abort is not written to the cluster record") || !strings.Contains(out, "removed it from key forgotten.json") {
				t.Errorf("cp-2's abort does not say it is out of the rotation:\n%s", out)
			}
			check("after cp-2's abort")
			if rec, err := ReadRecord(k(t, ca).paths(b.node.CertDir()).Record); err != nil || rec.Stage != StageAborted {
				t.Errorf("cp-2's local record after its abort: %+v, %v", rec, err)
			}
			cm, err := cs.CoreV1().ConfigMaps("kube-system").Get(ctx, ClusterPrefix+ca, metav1.GetOptions{})
			switch {
			case othersLeft && err != nil:
				t.Fatal(err)
			case othersLeft && cm.Data[forgottenKey] != "":
				t.Errorf("after cp-2's abort the record still forgets it: %s", cm.Data[forgottenKey])
			case !othersLeft && !apierrors.IsNotFound(err):
				t.Errorf("after cp-2's abort, the last node forgotten, the ConfigMap is still there (%v): %v", cm.Data, err)
			}
		})
	}
}
