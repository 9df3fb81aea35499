package carotate

import (
	"context"
	"os"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
)

// TestLateNodeWithFilesOfReissue: a control-plane node that joins the
// cluster mid-rotation with the shared files of a node that re-issued
// (certs upload there, or kubeadm's upload-certs) signs with the new CA
// already: it cannot join at trust, whose old CA it does not sign with.
// The refusal says so and what to copy instead; it said to download the
// cluster's CA, which it has.
func TestLateNodeWithFilesOfReissue(t *testing.T) {
	cs := fake.NewClientset()
	a := clusterNode{fixture: newFixture(t), name: "cp-1", cs: cs}
	b := clusterNode{fixture: cloneFixture(t, a.fixture), name: "cp-2", cs: cs}
	const ca = "etcd-ca"
	key := keyLine.FindStringSubmatch(a.rotate(t, ca, nil))[1]
	b.rotate(t, ca, func(o *Options, c *ClusterOptions) { c.CertificateKey = key })
	b.try(t, ca, nil) // records cp-2's restarts
	a.rotate(t, ca, nil)
	b.rotate(t, ca, nil)

	// cp-3: cp-1's shared files as a download writes them (the trust
	// file NEW then OLD, the key NEW's), its own leaves signed by NEW,
	// no rotation files.
	c := clusterNode{fixture: cloneFixture(t, a.fixture), name: "cp-3", cs: cs}
	p := k(t, ca).paths(c.node.CertDir())
	for _, f := range []string{p.Record, p.OldCert, p.NewCert, p.OldKey, p.NewKey} {
		if err := os.Remove(f); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "cp-3", Labels: map[string]string{"node-role.kubernetes.io/control-plane": ""}}}
	if _, err := cs.CoreV1().Nodes().Create(context.Background(), n, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	report, err := Status(context.Background(), StatusOptions{CertDir: c.node.CertDir(), KubeconfigDir: c.node.Dir, Now: c.now,
		Connect: func() (kubernetes.Interface, string, error) { return cs, "test", nil }})
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range report.CAs {
		if st.CA == ca && !strings.HasPrefix(st.Next, "move "+c.node.CertDir()+" aside and copy the shared files of a node at stage trust") {
			t.Errorf("ca status's NEXT of %s on cp-3 is %q, which the rotation refuses", ca, st.Next)
		}
	}
	withKey := func(o *Options, cc *ClusterOptions) { cc.CertificateKey = key }
	c.refused(t, ca, withKey, "node cp-3 signs with the new etcd-ca CA of the rotation", "none is: go back to it on one with `certctl ca rotate etcd-ca --abort`")
	// The way out: a node goes back to trust, and its files are those to copy.
	b.rotate(t, ca, func(o *Options, c *ClusterOptions) { o.Abort = true })
	c.refused(t, ca, withKey, "node cp-3 signs with the new etcd-ca CA", "from node cp-2, at stage trust", "certctl certs upload")
}
