package carotate

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/certctl/certctl/internal/treetest"
)

// TestTrustRaceSaysToAbort: two nodes that start a rotation at once each
// make a new CA; the second to write the cluster record is refused, its
// stage made. Its error must say the way out (abort here, join the
// other), not that the next call writes the record, which refuses again.
func TestTrustRaceSaysToAbort(t *testing.T) {
	cs := fake.NewClientset()
	a := clusterNode{fixture: newFixture(t), name: "cp-1", cs: cs}
	b := clusterNode{fixture: cloneFixture(t, a.fixture), name: "cp-2", cs: cs}
	const ca = "front-proxy-ca"
	a.rotate(t, ca, nil)
	// cp-2 read the record before cp-1 wrote it: its first two reads
	// (connect, refresh) found none.
	reads := 0
	cs.PrependReactor("get", "configmaps", func(act k8stesting.Action) (bool, runtime.Object, error) {
		if g, ok := act.(k8stesting.GetAction); ok && g.GetName() == ClusterPrefix+ca && reads < 2 {
			reads++
			return true, nil, apierrors.NewNotFound(corev1.Resource("configmaps"), g.GetName())
		}
		return false, nil, nil
	})
	out, err := b.try(t, ca, nil)
	if err == nil {
		t.Fatalf("cp-2's trust wrote the record of cp-1's rotation:\n%s", out)
	}
	treetest.ErrMentions(t, err, "another rotation of front-proxy-ca", "certctl ca rotate front-proxy-ca --abort", "--certificate-key")
	if got := clusterRecord(t, cs, ca).Nodes; len(got) != 1 {
		t.Errorf("the cluster record has nodes %v, want cp-1 alone", got)
	}
	// The way out works: abort here, then join.
	b.rotate(t, ca, func(o *Options, c *ClusterOptions) { o.Abort = true })
}
