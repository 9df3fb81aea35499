package renew

import (
	"bytes"
	"context"
	"crypto/rand"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/certctl/certctl/internal/output"
	"github.com/certctl/certctl/manifests/staticpods"
	"github.com/certctl/certctl/phases/config"
)

// TestLeaseLostInSummary: the warning of a restart whose Lease another
// node took over (the two restarts may have overlapped) is one of the
// run's warnings, in the summary of -o json and on stderr, as the other
// warnings of the restarts are. Before, it was printed on the progress
// output only: -o json, which discards that output, lost it altogether.
func TestLeaseLostInSummary(t *testing.T) {
	for _, format := range []string{"", "json"} {
		t.Run("format "+format, func(t *testing.T) {
			set, err := staticpods.Load(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			cs := leaseClient()
			var out, errOut bytes.Buffer
			cl := config.Default()
			cl.NodeName = "cp-1"
			r := &run{o: Options{Cluster: &cl, Restart: Restart{Client: cs}, Format: output.Format{Name: format}, Now: time.Now, Rand: rand.Reader, Out: &out, ErrOut: &errOut},
				set: set, summary: newSummary(time.Now(), 0)}
			ctx := context.Background()
			release, err := r.coordinator(ctx, r.out())(ctx, "etcd")
			if err != nil {
				t.Fatal(err)
			}
			// cp-2 takes it over, as after 60s without a renewal.
			leases := cs.CoordinationV1().Leases("kube-system")
			l, err := leases.Get(ctx, RestartLeasePrefix+"etcd", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			l.Spec.HolderIdentity = ptr.To("cp-2_71f7fffe")
			if _, err := leases.Update(ctx, l, metav1.UpdateOptions{}); err != nil {
				t.Fatal(err)
			}
			release(true)
			want := "etcd: cp-2_71f7fffe took the Lease kube-system/certctl-restart-etcd over while this node restarted its etcd, as this node could not renew it (cut off from the API server): cp-2_71f7fffe may have restarted its etcd at the same time"
			if !slices.Contains(r.summary.Warnings, want) {
				t.Errorf("summary warnings %q, want %q", r.summary.Warnings, want)
			}
			if got := errOut.String(); strings.Count(got, "[warning] "+want+"\n") != 1 || strings.Contains(out.String(), "[warning]") {
				t.Errorf("want the warning once on stderr, not on the output:\nstdout:\n%s\nstderr:\n%s", out.String(), got)
			}
		})
	}
}
