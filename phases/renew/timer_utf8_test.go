package renew

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/certctl/certctl/internal/treetest"
)

// TestInstallTimerRefusesPathsNotUTF8: systemd ignores a unit line that is
// not valid UTF-8 ("String is not UTF-8 clean, ignoring assignment",
// systemd-analyze verify, systemd 252), and the service without its
// ExecStart does not load. A --certctl-path, --cert-dir, --kubeconfig-dir
// or --config whose path holds such a byte (a folder named in Latin-1) was
// written as it was, and install-timer exited 0 with units that never ran.
// It is refused, naming the flag, and nothing is written.
func TestInstallTimerRefusesPathsNotUTF8(t *testing.T) {
	base := t.TempDir()
	odd := filepath.Join(base, "pki-\xe9t\xe9")
	if err := os.MkdirAll(odd, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(base, "kubeadm-\xe9t\xe9.yaml")
	if err := os.WriteFile(cfg, []byte("apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\ncertificatesDir: "+filepath.Join(base, "ok")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, tm := range map[string]Timer{
		"--certctl-path":   {CertctlPath: filepath.Join(odd, "certctl")},
		"--cert-dir":       {CertDir: odd},
		"--kubeconfig-dir": {KubeconfigDir: odd},
		"--config":         {ConfigFile: cfg},
	} {
		for _, dry := range []bool{false, true} {
			t.Run(name+map[bool]string{false: "", true: " --dry-run"}[dry], func(t *testing.T) {
				units := t.TempDir()
				var out bytes.Buffer
				tm.UnitDir, tm.NodeName, tm.DryRun, tm.Out, tm.ErrOut = units, "cp-1", dry, &out, &out
				if tm.CertctlPath == "" {
					tm.CertctlPath = DefaultCertctlPath
				}
				treetest.ErrMentions(t, InstallTimer(tm), name, "not valid UTF-8")
				if entries, _ := os.ReadDir(units); len(entries) > 0 {
					t.Errorf("wrote %d file(s) into %s:\n%s", len(entries), units, out.String())
				}
			})
		}
	}
}
