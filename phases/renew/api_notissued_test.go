package renew

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/exitcode"
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

// TestAlreadyInstalledNotAllIssued: two runs of `renew admin.conf apiserver
// --use-api` at once, admin.conf's CSR issued and apiserver's still pending
// at the timeout: the first to take the lock installs admin.conf and exits
// 6; the second found it installed and ended as "nothing to do", exit 0
// (2 with --if-expires-within), as if the job were done, while apiserver
// was not renewed. It now ends as the first does.
func TestAlreadyInstalledNotAllIssued(t *testing.T) {
	inc := &apirenew.IncompleteError{Obtained: []string{"admin.conf"},
		NotIssued: []apirenew.NotIssued{{Name: "apiserver", CSR: "certctl-cp-1-apiserver-5f4e3d2c1b0a", State: "is pending approval"}},
		Cause:     "timed out after 15m0s", Rerun: "certctl renew apiserver --use-api"}
	for _, threshold := range []bool{false, true} {
		for _, tc := range []struct {
			inc  *apirenew.IncompleteError
			want int
		}{{nil, map[bool]int{false: exitcode.OK, true: exitcode.NothingToDo}[threshold]}, {inc, exitcode.NotAllIssued}} {
			r := &run{o: Options{Threshold: threshold, Out: io.Discard}, summary: newSummary(time.Now(), 0), incomplete: tc.inc}
			err := r.settle(fmt.Errorf("renew admin.conf: %w", errAlreadyInstalled))
			r.summary.end(time.Now(), err)
			if got := exitcode.Of(err); got != tc.want || r.summary.ExitCode != tc.want {
				t.Errorf("threshold %v, not issued %v: exit %d (summary %d, %s), want %d: %v", threshold, tc.inc != nil, got, r.summary.ExitCode, r.summary.Status, tc.want, err)
			}
			if tc.inc != nil && (r.summary.Status != statusError || !strings.Contains(err.Error(), "another certctl run installed admin.conf while this one waited for the lock, but apiserver not issued") || strings.Contains(err.Error(), "renewed admin.conf")) {
				t.Errorf("threshold %v: status %s, error %v; want error saying another run installed admin.conf and naming apiserver, not 'renewed admin.conf'", threshold, r.summary.Status, err)
			}
		}
	}
}
