package carotate

import (
	"context"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
)

// TestStatusClusterSAWaitsForTokens: at reissue of sa, every node
// restarted, ca status's row of each node in the cluster record says when
// finish may go, as this node's own row does. It said `certctl ca rotate
// sa (stage finish)`, which finish refuses until --max-token-lifetime has
// passed since the last node's restarts.
func TestStatusClusterSAWaitsForTokens(t *testing.T) {
	cs := fake.NewClientset()
	a := clusterNode{fixture: newFixture(t), name: "cp-1", cs: cs}
	a.rotate(t, "sa", nil) // trust
	a.rotate(t, "sa", nil) // reissue
	a.rotate(t, "sa", nil) // --restarted: records when the new key signs
	restarted := a.now
	connect := func() (kubernetes.Interface, string, error) { return cs, "test", nil }
	for _, tc := range []struct {
		name string
		now  time.Time
		want string
	}{
		{"tokens of the old key may be valid", restarted.Add(10 * time.Minute), "after " + restarted.Add(time.Hour).UTC().Format(time.RFC3339) + " (tokens of the old key expire): certctl ca rotate sa (stage finish)"},
		{"they expired", restarted.Add(time.Hour), "certctl ca rotate sa (stage finish)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			report, err := Status(context.Background(), StatusOptions{CertDir: a.node.CertDir(), KubeconfigDir: a.node.Dir, Now: tc.now, MaxTokenLifetime: time.Hour, Connect: connect})
			if err != nil {
				t.Fatal(err)
			}
			for _, st := range report.CAs {
				if st.CA != "sa" {
					continue
				}
				if st.Cluster == nil || len(st.Cluster.Nodes) != 1 {
					t.Fatalf("sa's cluster record: %+v", st.Cluster)
				}
				if got := st.Cluster.Nodes[0].Next; got != tc.want {
					t.Errorf("cp-1's next in the cluster record is %q, want %q (this node's: %q)", got, tc.want, st.Next)
				}
				if strings.HasPrefix(st.Next, "after ") != strings.HasPrefix(tc.want, "after ") {
					t.Errorf("this node's next %q and the cluster record's %q disagree", st.Next, st.Cluster.Nodes[0].Next)
				}
			}
		})
	}
}
