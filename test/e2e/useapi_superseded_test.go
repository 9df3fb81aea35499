package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/testcluster"
	"github.com/certctl/certctl/phases/renewal/apirenew"
)

// TestUseAPIPendingKeySupersededByDiskRenewal: `renew --use-api` stopped
// at its timeout keeps the CSR's key pending, so that the same command
// resumes it. When the certificate is then renewed from the CA on disk
// instead, that renewal removes the pending key in its transaction and
// says so; the next `renew --use-api` makes a new key and CSR rather than
// resuming the request for the certificate replaced since (before, the
// key stayed until then, and that run resumed it).
func TestUseAPIPendingKeySupersededByDiskRenewal(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{})
	ctx := testCtx(t, 3*time.Minute)
	key := filepath.Join(c.KubeconfigDir(), apirenew.PendingDirName, "admin.conf.key")

	r := startRenew(t, ctx, c, "admin.conf", "--use-api", "--timeout", "3s")
	first := r.nextCSR(t, ctx)
	if _, code := r.wait(t); code != 1 {
		t.Fatalf("renew --use-api with nobody approving: exit status %d, want 1", code)
	}
	if _, err := os.Stat(key); err != nil {
		t.Fatalf("the pending key after the timeout: %v", err)
	}

	out, err := runCertctl(t, ctx, "renew", "admin.conf", "--cert-dir", c.PKIDir(), "--kubeconfig-dir", c.KubeconfigDir())
	if err != nil {
		t.Fatalf("renew admin.conf from the CA on disk: %v\n%s", err, out)
	}
	if want := "[renew] Removed the pending key of admin.conf, and its CSR's request with it: admin.conf is renewed from the CA on disk instead"; !strings.Contains(out, want) {
		t.Errorf("renew from the CA on disk does not say %q", want)
	}
	if _, err := os.Stat(key); !os.IsNotExist(err) {
		t.Errorf("the pending key is left after admin.conf was renewed from the CA on disk: %v", err)
	}

	r = startRenew(t, ctx, c, "admin.conf", "--use-api", "--timeout", "3s")
	second := r.nextCSR(t, ctx)
	out, _ = r.wait(t)
	if second.name == first.name || strings.Contains(out, "resumed with the pending key") {
		t.Errorf("the next renew --use-api resumed CSR %s, for the certificate replaced since; want a new key and CSR", first.name)
	}
}
