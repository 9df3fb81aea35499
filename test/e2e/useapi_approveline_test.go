package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/testcluster"
)

// TestUseAPIPrintedApproveWorks: the `certctl approve --all-from-node`
// line that `renew --use-api` prints works as a user pastes it, on a
// cluster without the kubeadm-config ConfigMap (the harness has none),
// renewed without --config and from a certificate folder that is not
// /etc/kubernetes/pki: approve then takes the node's settings from the
// certificates of the folder the line names (--cert-dir). Without it,
// approve fell back to kubeadm's defaults and this host's name and
// address, and refused the apiserver CSR: "SANs ... are not SANs of the
// apiserver certificate". The approval is a server-side dry run, so that
// no signer need run.
func TestUseAPIPrintedApproveWorks(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{})
	ctx := testCtx(t, 3*time.Minute)
	renewCtx, stop := context.WithCancel(ctx)
	defer stop()
	r := startRenew(t, renewCtx, c, "apiserver", "admin.conf", "--use-api", "--timeout", "2m")
	csrs := map[string]string{}
	for range 2 {
		l := r.nextCSR(t, ctx)
		csrs[l.target] = l.name
	}
	<-r.waiting
	var line string
	for _, l := range strings.Split(r.output(), "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(l), "certctl approve "); ok {
			line = rest
		}
	}
	if line == "" {
		t.Fatalf("renew printed no certctl approve line:\n%s", r.output())
	}
	if !strings.Contains(line, "--cert-dir "+c.PKIDir()) {
		t.Errorf("the approve line does not name the certificate folder %s: certctl approve %s", c.PKIDir(), line)
	}
	// The harness's paths have no space or quote: the line splits as a
	// shell would split it.
	out, err := runCertctl(t, ctx, append(append([]string{"approve"}, strings.Fields(line)...), "--dry-run")...)
	if err != nil {
		t.Errorf("certctl approve %s --dry-run: %v\n%s", line, err, out)
	}
	for target, name := range csrs {
		if !strings.Contains(out, "[approve] CSR "+name+" would be approved") {
			t.Errorf("the printed approve line would not approve %s's CSR %s:\n%s", target, name, out)
		}
	}
	stop()
	r.wait(t)
}
