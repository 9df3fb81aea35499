package renew

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/internal/treetest"
)

// TestDryRun: `renew all --dry-run` reads everything, prints what would be
// renewed and by which issuer (the CA on disk, the certificates API's
// signer, CSR files), and writes nothing: no key, CSR, backup or lock file.
func TestDryRun(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	now := pkitest.Made.Add(time.Hour)
	if err := os.Mkdir(n.Path("manifests"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		set   func(o *Options)
		wants []string
	}{
		{"on disk", func(o *Options) {}, []string{"apiserver would be renewed: " + n.Path("pki/apiserver.crt") + ", " + n.Path("pki/apiserver.key") + ", from the CA " + n.Path("pki/ca.crt"), "admin.conf would be renewed", "kube-apiserver", "nothing was written"}},
		{"api", func(o *Options) { o.API = &API{} }, []string{"admin.conf would be renewed: " + n.Path("admin.conf") + ", from the certificates API, signer kubernetes.io/kube-apiserver-client", "apiserver would be renewed",
			"apiserver would be renewed: " + n.Path("pki/apiserver.crt") + ", " + n.Path("pki/apiserver.key") + ", from the certificates API, signer certctl.io/kube-apiserver-serving"}},
		{"csr", func(o *Options) { o.CSRDir = n.Path("csr") }, []string{"from CSR files in " + n.Path("csr")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := treetest.Snapshot(t, filepath.Dir(n.Dir))
			var out, errOut bytes.Buffer
			o := Options{Cluster: n.Cluster, KubeconfigDir: n.Dir, Args: []string{"all"}, DryRun: true, Jitter: time.Hour,
				Restart: Restart{Enabled: true, ManifestDir: n.Path("manifests")},
				Now:     func() time.Time { return now }, Out: &out, ErrOut: &errOut,
				Sleep: func(context.Context, time.Duration) error { t.Fatal("a dry run waited for --jitter"); return nil }}
			tt.set(&o)
			if err := Run(context.Background(), o); err != nil {
				t.Fatal(err, errOut.String())
			}
			treetest.AssertSame(t, before, treetest.Snapshot(t, filepath.Dir(n.Dir)))
			for _, w := range tt.wants {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
			if _, err := os.Stat(n.Path("csr")); tt.name == "csr" && err == nil {
				t.Error("a dry run made the CSR folder")
			}
		})
	}
}
