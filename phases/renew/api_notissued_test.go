package renew

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/phases/renewal"
	"github.com/certctl/certctl/phases/renewal/apirenew"
	"github.com/certctl/certctl/pki"
)

// TestObtainedNoneIssued: when no CSR of a --use-api run was issued (all
// denied, or some denied and the others pending at the timeout), the run
// fails with nothing changed, and -o json's skipped[] names each
// certificate not renewed and why, as when some were issued. Before,
// skipped[] was empty then: a script read "error" and no certificate.
func TestObtainedNoneIssued(t *testing.T) {
	sel, err := renewal.Select(pki.Kubeadm(), []string{"admin.conf", "apiserver"}, false)
	if err != nil {
		t.Fatal(err)
	}
	inc := &apirenew.IncompleteError{NotIssued: []apirenew.NotIssued{
		{Name: "admin.conf", CSR: "certctl-cp-1-admin.conf-0a1b2c3d4e5f", State: `was denied (reason "Manual": not today)`, Refused: true},
		{Name: "apiserver", CSR: "certctl-cp-1-apiserver-5f4e3d2c1b0a", State: "is pending approval"},
	}, Cause: "timed out after 15m0s", Approve: "kubectl certificate approve certctl-cp-1-apiserver-5f4e3d2c1b0a",
		Rerun: "certctl renew admin.conf apiserver --use-api --new-request=admin.conf"}
	r := &run{o: Options{Cluster: &config.Cluster{CertificatesDir: "/srv/k8s/pki"}, KubeconfigDir: "/srv/k8s"}, summary: newSummary(time.Now(), 0)}
	got, err := r.obtained(sel, inc)
	if got != nil || err == nil || !errors.As(err, new(*apirenew.IncompleteError)) || !strings.HasSuffix(err.Error(), "nothing was changed") {
		t.Errorf("obtained: %v, %v; want no target and the IncompleteError, nothing changed", got, err)
	}
	want := []skippedEntry{
		{Name: "admin.conf", File: "/srv/k8s/admin.conf", Reason: reasonCSRRefused},
		{Name: "apiserver", File: "/srv/k8s/pki/apiserver.crt", Reason: reasonCSRNotIssued},
	}
	if s := r.summary.Skipped; len(s) != len(want) || s[0] != want[0] || s[1] != want[1] {
		t.Errorf("skipped %+v, want %+v", s, want)
	}
}
