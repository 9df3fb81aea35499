package renew

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/exitcode"
	"github.com/certctl/certctl/internal/output"
	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/phases/renewal/apirenew"
)

// TestDryRunAPIRefusesAsRealRun: what `renew --use-api` refuses before
// it makes a key or creates a CSR (apirenew.Check: the validity, the
// signer, --new-request's names, the pending-key folder and keys) the dry
// run refuses too, in the same words and with the real run's exit
// status, writing nothing. It said that the certificates "would be
// renewed", for a validity of 30 minutes (certificates made for that,
// no --config) among others.
func TestDryRunAPIRefusesAsRealRun(t *testing.T) {
	for _, tc := range []struct {
		name     string
		validity time.Duration
		args     []string
		api      API
		setup    func(t *testing.T, pendingDir string)
		want     string
	}{
		{name: "validity below an hour", validity: 30 * time.Minute, args: []string{"admin.conf"},
			want: "certificate validity 30m0s is below 1h0m0s, certctl's minimum: a certificate issued for less would be refused once approved; raise certificateValidityPeriod (--certificate-validity)"},
		{name: "system:masters with the built-in signer", args: []string{"super-admin.conf"},
			api:  API{SignerNames: map[string]string{"super-admin.conf": "kubernetes.io/kube-apiserver-client"}},
			want: "super-admin.conf has O=system:masters, which the API server refuses for kubernetes.io/kube-apiserver-client"},
		{name: "new request not renewed", args: []string{"admin.conf"}, api: API{NewRequestFor: []string{"apiserver"}},
			want: "--new-request names apiserver, which this run does not renew (it renews admin.conf)"},
		{name: "pending folder a file", args: []string{"admin.conf"},
			setup: func(t *testing.T, dir string) { write(t, dir, "not a folder") },
			want:  "is not a folder, and certctl keeps in it the keys of the CSRs it has not installed yet: move it away"},
		{name: "damaged pending key", args: []string{"admin.conf"},
			setup: func(t *testing.T, dir string) { write(t, filepath.Join(dir, "admin.conf.key"), "damaged") },
			want:  ": run again with --new-request=admin.conf for a new key and CSR, or remove it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := pkitest.NewNode(t, func(c *config.Cluster) {
				if tc.validity != 0 {
					c.CertificateValidity, c.KeepValidity = tc.validity, true
				}
			})
			dir, err := apirenew.PendingDir(n.Cluster.CertificatesDir)
			if err != nil {
				t.Fatal(err)
			}
			if tc.setup != nil {
				tc.setup(t, dir)
			}
			before := treetest.Snapshot(t, filepath.Dir(n.Dir))
			for _, format := range []string{"text", "json"} {
				var out, errOut bytes.Buffer
				api := tc.api
				o := Options{Cluster: n.Cluster, KubeconfigDir: n.Dir, Args: tc.args, DryRun: true, API: &api,
					Format: output.Format{Name: format}, Now: func() time.Time { return pkitest.Made.Add(10 * time.Minute) }, Out: &out, ErrOut: &errOut}
				err := Run(context.Background(), o)
				if err == nil || !strings.Contains(err.Error(), tc.want) || exitcode.Of(err) != 1 {
					t.Errorf("%s: %v (exit %d), want %q", format, err, exitcode.Of(err), tc.want)
				}
				if strings.Contains(out.String(), "would be renewed:") {
					t.Errorf("%s: says a certificate would be renewed:\n%s", format, out.String())
				}
			}
			treetest.AssertSame(t, before, treetest.Snapshot(t, filepath.Dir(n.Dir)))
		})
	}
}

func write(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}
