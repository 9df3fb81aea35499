package carotate

import (
	"context"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
)

// TestSAFinishWaitsForTheLastNodesReissue: each kube-apiserver signs
// tokens with its own sa.key, so tokens of the old key are signed until
// the last node re-issued. A node that finishes an hour after its own
// reissue, but less after another node's, drops the old key while tokens
// that node signed are still in use: finish waits for the last reissue.
func TestSAFinishWaitsForTheLastNodesReissue(t *testing.T) {
	cs := fake.NewClientset()
	a := clusterNode{fixture: newFixture(t), name: "cp-1", cs: cs}
	b := clusterNode{fixture: cloneFixture(t, a.fixture), name: "cp-2", cs: cs}
	const ca = "sa"
	key := keyLine.FindStringSubmatch(a.rotate(t, ca, nil))[1]
	b.rotate(t, ca, func(o *Options, c *ClusterOptions) { c.CertificateKey = key })
	b.try(t, ca, nil) // records cp-2's restarts
	a.rotate(t, ca, nil)
	b.now = a.now.Add(50 * time.Minute)
	b.rotate(t, ca, nil)
	a.try(t, ca, nil) // records cp-1's restarts
	b.try(t, ca, nil)

	a.now = a.now.Add(DefaultMaxTokenLifetime + time.Minute)
	a.refused(t, ca, nil, "tokens signed by the old service-account key", "on node cp-2")
	// ca status says when finish goes, from cp-2's reissue.
	connect := func() (kubernetes.Interface, string, error) { return cs, "test", nil }
	report, err := Status(context.Background(), StatusOptions{CertDir: a.node.CertDir(), KubeconfigDir: a.node.Dir, Now: a.now, Connect: connect})
	if err != nil {
		t.Fatal(err)
	}
	want := "after " + b.now.Add(DefaultMaxTokenLifetime).UTC().Format(time.RFC3339) + " (tokens of the old key expire)"
	for _, st := range report.CAs {
		if st.CA == ca && !strings.Contains(st.Next, want) {
			t.Errorf("ca status's NEXT of sa on cp-1 is %q, want %q", st.Next, want)
		}
	}
	a.now = b.now.Add(DefaultMaxTokenLifetime)
	a.rotate(t, ca, nil)
	if got := clusterRecord(t, cs, ca).Nodes["cp-1"].Stage; got != StageFinished {
		t.Fatalf("cp-1 is at stage %s, want finished", got)
	}
}
