package carotate

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/certctl/certctl/pki"
)

// restartsRecorded records, for sa at reissue, the restarts of reissue
// with --restarted (the fixture's), which finish of sa counts from; other
// CAs need no call of their own.
func restartsRecorded(t *testing.T, f *fixture, name string) {
	t.Helper()
	if name != pki.SAName {
		return
	}
	rec := f.rotate(t, name, nil)
	if rec.Stage != StageReissue || !rec.Restarted || rec.ReissuedAt == nil || !rec.ReissuedAt.Equal(f.now) {
		t.Fatalf("after --restarted at reissue: %+v, want the restarts recorded at %s", rec, f.now)
	}
}

// TestSAFinishWaitsFromTheRestart: kube-apiserver signs tokens with the
// old sa.key until it restarts. Restarted hours after the reissue, and
// recorded with --restarted, tokens the old key signed minutes ago are
// valid for --max-token-lifetime: finish waits from the restart, not from
// the reissue's write, and ca status's NEXT says the same.
func TestSAFinishWaitsFromTheRestart(t *testing.T) {
	f := newFixture(t)
	f.rotate(t, pki.SAName, nil)
	f.rotate(t, pki.SAName, nil)
	nextOf := func() string {
		t.Helper()
		report, err := Status(context.Background(), StatusOptions{CertDir: f.node.CertDir(), KubeconfigDir: f.node.Dir, Now: f.now})
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range report.CAs {
			if st.CA == pki.SAName {
				return st.Next
			}
		}
		t.Fatal("ca status lists no sa")
		return ""
	}
	f.now = f.now.Add(3 * time.Hour) // the restart, long after the reissue
	if got, want := nextOf(), "--restarted to record it; stage finish follows --max-token-lifetime 1h0m0s later"; !strings.Contains(got, want) {
		t.Errorf("ca status's NEXT before the restart is recorded: %q, want %q", got, want)
	}
	var out bytes.Buffer
	rec, err := Rotate(context.Background(), pki.SAName, f.options(func(o *Options) { o.Out = &out }))
	if err != nil || rec.Stage != StageReissue {
		t.Fatalf("--restarted hours after reissue: stage %v, %v, want the restarts recorded and finish not run\n%s", rec, err, out.String())
	}
	restarted := f.now
	until := restarted.Add(DefaultMaxTokenLifetime).UTC().Format(time.RFC3339)
	if !strings.Contains(out.String(), "are recorded") || !strings.Contains(out.String(), "valid until "+until) {
		t.Errorf("--restarted says %q, want the restarts recorded and finish after %s", out.String(), until)
	}
	f.now = f.now.Add(time.Minute)
	if got, want := nextOf(), "after "+until+" (tokens of the old key expire)"; !strings.Contains(got, want) {
		t.Errorf("ca status's NEXT: %q, want %q", got, want)
	}
	if _, err := Rotate(context.Background(), pki.SAName, f.options(nil)); err == nil || !strings.Contains(err.Error(), "valid until "+until) {
		t.Fatalf("finish a minute after the restart: %v, want a refusal until %s", err, until)
	}
	f.now = restarted.Add(DefaultMaxTokenLifetime)
	if rec := f.rotate(t, pki.SAName, nil); rec.Stage != StageFinished {
		t.Fatalf("finish once the tokens expired left stage %s", rec.Stage)
	}
}

// TestSAFinishWaitsForAnotherNodesRestart: the cluster record carries
// each node's restart as its reissuedAt: a node that restarted late
// holds back the finish of the others.
func TestSAFinishWaitsForAnotherNodesRestart(t *testing.T) {
	cs := fake.NewClientset()
	a := clusterNode{fixture: newFixture(t), name: "cp-1", cs: cs}
	b := clusterNode{fixture: cloneFixture(t, a.fixture), name: "cp-2", cs: cs}
	const ca = pki.SAName
	key := keyLine.FindStringSubmatch(a.rotate(t, ca, nil))[1]
	b.rotate(t, ca, func(o *Options, c *ClusterOptions) { c.CertificateKey = key })
	b.try(t, ca, nil) // records cp-2's restarts of trust
	a.rotate(t, ca, nil)
	b.rotate(t, ca, nil)
	a.rotate(t, ca, nil) // records cp-1's restarts of reissue at once
	b.now = a.now.Add(3 * time.Hour)
	b.rotate(t, ca, nil) // cp-2's, hours after its reissue
	if got := clusterRecord(t, cs, ca).Nodes["cp-2"].ReissuedAt; got == nil || !got.Equal(b.now) {
		t.Fatalf("cp-2's reissuedAt in the cluster record is %v, want its restart %s", got, b.now)
	}
	a.now = b.now.Add(time.Minute)
	a.refused(t, ca, nil, "tokens signed by the old service-account key", "on node cp-2", b.now.Add(DefaultMaxTokenLifetime).UTC().Format(time.RFC3339))
	connect := func() (kubernetes.Interface, string, error) { return cs, "test", nil }
	report, err := Status(context.Background(), StatusOptions{CertDir: a.node.CertDir(), KubeconfigDir: a.node.Dir, Now: a.now, Connect: connect})
	if err != nil {
		t.Fatal(err)
	}
	want := "after " + b.now.Add(DefaultMaxTokenLifetime).UTC().Format(time.RFC3339)
	for _, st := range report.CAs {
		if st.CA == ca && !strings.Contains(st.Next, want) {
			t.Errorf("ca status's NEXT of sa on cp-1 is %q, want %q", st.Next, want)
		}
	}
}
