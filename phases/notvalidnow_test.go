package phases

import (
	"strings"
	"testing"
	"time"
)

// TestKeptNotValidNow: a certificate or kubeconfig init-phase keeps, as
// kubeadm keeps it, that is not valid at the run's time gets a warning
// saying what to do. An expired leaf's said only "pki: certificate expired
// on ...", and an expired kubeconfig's client certificate nothing at all:
// "Using existing kubeconfig file", then kubectl failed.
func TestKeptNotValidNow(t *testing.T) {
	for _, tc := range []struct {
		name        string
		group, what string
		at          time.Time
		want        []string
	}{
		{"expired leaf", "certs", "apiserver", fixedNow.Add(2 * 365 * 24 * time.Hour),
			[]string{"[warning] ", "pki/apiserver.crt expired on 2027-11-22T10:00:00Z", "`certctl renew apiserver --cert-dir "}},
		{"expired kubeconfig", "kubeconfig", "admin", fixedNow.Add(2 * 365 * 24 * time.Hour),
			[]string{"[warning] the client certificate of kubeconfig ", "admin.conf expired on 2027-11-22T10:00:00Z", "`certctl renew admin.conf --cert-dir "}},
		{"leaf not valid yet", "certs", "apiserver", fixedNow.Add(-time.Hour),
			[]string{"[warning] ", "pki/apiserver.crt is valid only from 2026-11-22T09:55:00Z", "check this host's clock"}},
		{"kubeconfig not valid yet", "kubeconfig", "admin", fixedNow.Add(-time.Hour),
			[]string{"[warning] the client certificate of kubeconfig ", "admin.conf is valid only from", "check this host's clock"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEnv(t)
			e.mustRun(t, "certs", "all")
			e.mustRun(t, "kubeconfig", "all")
			before := snapshot(t, e.dir)
			e.Now = func() time.Time { return tc.at }
			e.out.Reset()
			e.mustRun(t, tc.group, tc.what)
			for _, w := range tc.want {
				if !strings.Contains(e.out.String(), w) {
					t.Errorf("output does not say %q:\n%s", w, e.out)
				}
			}
			assertSameTree(t, before, snapshot(t, e.dir))
		})
	}
}
