package carotate

import (
	"context"
	"crypto/rand"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/phases/renewal"
	"github.com/certctl/certctl/pki"
)

// TestRenewDuringRotation: `certctl renew all` between the stages signs
// with the CA the stage says (OLD at trust, NEW at reissue), writes the
// stage's bundle into the kubeconfigs, and leaves the files as the stage
// says (Verify).
func TestRenewDuringRotation(t *testing.T) {
	for _, name := range []string{pki.CAName, pki.FrontProxyCAName, pki.EtcdCAName} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			for range 2 {
				f.now = f.now.Add(time.Hour)
				rec := f.rotate(t, name, nil)
				_, err := renewal.Renew(context.Background(), renewal.Targets(pki.Kubeadm(), false), renewal.Options{
					CertDir: f.node.CertDir(), KubeconfigDir: f.node.Dir, SkipMissing: true,
					Now: func() time.Time { return f.now }, Rand: rand.Reader, Out: io.Discard})
				if err != nil {
					t.Fatalf("renew all at %s: %v", rec.Stage, err)
				}
				if err := Verify(f.node.CertDir(), f.node.Dir, name, false, f.now); err != nil {
					t.Errorf("after renew all at %s: %v", rec.Stage, err)
				}
			}
		})
	}
}

// TestStatus: ca status says the stage, what is still from the old CA,
// and the next command: the restarts first, while they are owed.
func TestStatus(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		rotate  bool
		stage   string
		fromOld int // ca's 2 leaves and 5 kubeconfigs at trust
		next    string
	}{
		{false, "none", 0, "certctl ca rotate ca (starts a rotation: stage trust)"},
		{true, StageTrust, 7, "restart kube-apiserver, kube-controller-manager, kube-scheduler, then certctl ca rotate ca --restarted"},
		{true, StageReissue, 0, "then certctl ca rotate ca --restarted"},
		{true, StageFinished, 0, "then certctl ca rotate ca --restarted to record it (the rotation is done)"},
	}
	for _, tt := range tests {
		if tt.rotate {
			f.now = f.now.Add(2 * time.Hour)
			f.rotate(t, "ca", nil)
		}
		report, err := Status(context.Background(), StatusOptions{CertDir: f.node.CertDir(), KubeconfigDir: f.node.Dir, Now: f.now})
		if err != nil {
			t.Fatal(err)
		}
		states := report.CAs
		if len(states) != 4 || states[0].CA != pki.CAName {
			t.Fatalf("states %+v, want one per CA, ca first", states)
		}
		st := states[0]
		if st.Stage != tt.stage || len(st.FromOldCA) != tt.fromOld || len(st.Problems) != 0 || !strings.Contains(st.Next, tt.next) {
			t.Errorf("stage %s, %d file(s) from the old CA, problems %v, next %q; want %s, %d, none, %q", st.Stage, len(st.FromOldCA), st.Problems, st.Next, tt.stage, tt.fromOld, tt.next)
		}
		for _, other := range states[1:] {
			if other.Stage != "none" {
				t.Errorf("%s: stage %s, want none", other.CA, other.Stage)
			}
		}
	}
}
