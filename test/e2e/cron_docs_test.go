package e2e

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/doctest"
	"github.com/certctl/certctl/internal/testcluster"
)

// TestCronDocsRestart runs docs/cron.md's consoles that restart the
// control plane, as written, on a harness cluster whose components the
// harness Kubelet runs from their static pod manifests: `renew all
// --restart-control-plane` (the [restart] lines), then `restore` and
// `restore latest --restart-control-plane`, which puts back the files that
// renewal replaced. The command lines are read from the document; the test
// adds --cert-dir and --kubeconfig-dir, and --manifest-dir to those with
// --restart-control-plane (the harness's folders stand for /etc/kubernetes). Times, dates, serials, process IDs,
// the components' addresses and how long a restart took are the values
// that differ (docAPIVariable).
func TestCronDocsRestart(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{})
	ctx := testCtx(t, 5*time.Minute)
	if _, err := c.StartKubelet(ctx); err != nil {
		t.Fatal(err)
	}
	folders := []string{"--cert-dir", c.PKIDir(), "--kubeconfig-dir", c.KubeconfigDir()}
	for _, tc := range []struct{ name, marker string }{
		{"renew", "$ sudo certctl renew all --restart-control-plane"},
		{"restore", "$ sudo certctl restore latest --restart-control-plane"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := docConsole(t, "cron.md", tc.marker, c.KubeconfigDir(), testcluster.NodeName)
			var got []string
			for _, l := range want {
				if _, ok := doctest.CommandLine(l); !ok {
					continue
				}
				extra := folders
				if strings.Contains(l, "--restart-control-plane") { // restore refuses it otherwise
					extra = append(slices.Clip(folders), "--manifest-dir", c.ManifestDir())
				}
				out, err := runCertctl(t, ctx, docCommand(t, l, extra...)...)
				if err != nil {
					t.Errorf("%s: %v", l, err)
				}
				got = append(append(got, l), doctest.OutputLines(out, extra...)...)
			}
			checkDocConsole(t, "cron.md", want, got)
		})
	}
}
