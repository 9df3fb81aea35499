package carotate

import (
	"strings"
	"testing"

	"k8s.io/client-go/kubernetes/fake"
)

// TestRestartedIsNoHeal: the next stage run with --restarted, the flow
// the guide gives without --restart-control-plane, first records in the
// cluster record that this node's components restarted. It said "the
// cluster record ... is behind this node's stage trust: writing it", the
// words of the heal after a kill between a stage and its write, on every
// call of a rotation that went well.
func TestRestartedIsNoHeal(t *testing.T) {
	for _, tc := range []struct {
		name   string
		dryRun bool
		want   string
	}{
		{"run", false, "[ca-rotate] front-proxy-ca: this node's components restarted after stage trust (--restarted): recording it in the cluster record ConfigMap kube-system/certctl-ca-rotation-front-proxy-ca\n"},
		{"dry run", true, "[dry-run] front-proxy-ca: this node's components restarted after stage trust (--restarted): the next call records it in the cluster record ConfigMap kube-system/certctl-ca-rotation-front-proxy-ca\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cs := fake.NewClientset()
			a := clusterNode{fixture: newFixture(t), name: "cp-1", cs: cs}
			a.rotate(t, "front-proxy-ca", nil) // trust
			out := a.rotate(t, "front-proxy-ca", func(o *Options, _ *ClusterOptions) { o.DryRun = tc.dryRun })
			if strings.Contains(out, "is behind") || !strings.Contains(out, tc.want) {
				t.Errorf("output does not say %q, nor only that:\n%s", tc.want, out)
			}
			if !tc.dryRun {
				if e := clusterRecord(t, cs, "front-proxy-ca").Nodes["cp-1"]; e.Stage != StageReissue {
					t.Errorf("cp-1 is %+v in the cluster record, want stage reissue", e)
				}
			}
		})
	}
}
