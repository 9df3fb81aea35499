package renew

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/treetest"
)

// TestInstallTimerRefusesControlCharacters: a --cert-dir, --kubeconfig-dir
// or --config whose path holds a newline (or another control character)
// was written into the units as it was: the line broke, every line of
// both units kept dedent's tabs, and the rest of the path became a
// directive of its own (a folder named "x\nExecStartPre=/bin/false" gave
// the service an ExecStartPre). Such a path is refused, as --certctl-path
// is, and nothing is written.
func TestInstallTimerRefusesControlCharacters(t *testing.T) {
	base := t.TempDir()
	odd := filepath.Join(base, "pki\nExecStartPre=/bin/false")
	if err := os.MkdirAll(odd, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(base, "kubeadm\t.yaml")
	if err := os.WriteFile(cfg, []byte("apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\ncertificatesDir: "+filepath.Join(base, "ok")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, tm := range map[string]Timer{
		"--cert-dir":       {CertDir: odd, NodeName: "cp-1"},
		"--kubeconfig-dir": {KubeconfigDir: odd, NodeName: "cp-1"},
		"--config":         {ConfigFile: cfg, NodeName: "cp-1"},
	} {
		t.Run(name, func(t *testing.T) {
			units := t.TempDir()
			var out bytes.Buffer
			tm.UnitDir, tm.CertctlPath, tm.Out, tm.ErrOut = units, DefaultCertctlPath, &out, &out
			err := tm.Resolve()
			if err == nil {
				err = InstallTimer(tm)
			}
			treetest.ErrMentions(t, err, name, "control character")
			if entries, _ := os.ReadDir(units); len(entries) > 0 {
				t.Errorf("wrote %d file(s) into %s:\n%s", len(entries), units, out.String())
			}
		})
	}
	// A certificatesDir of --config with a newline is refused too: it is
	// the condition's folder.
	bad := filepath.Join(base, "bad.yaml")
	if err := os.WriteFile(bad, []byte("apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\ncertificatesDir: \""+strings.ReplaceAll(odd, "\n", `\n`)+"\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tm := Timer{ConfigFile: bad, NodeName: "cp-1", UnitDir: t.TempDir(), CertctlPath: DefaultCertctlPath, Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}
	err := tm.Resolve()
	if err == nil {
		err = InstallTimer(tm)
	}
	treetest.ErrMentions(t, err, "control character")
}

// TestInstallTimerRefusesNodeNameControlCharacters: the node's name is
// written in the timer's comment; a newline in it (--node-name, or an
// etcd certificate's CN) ended the comment and made the rest a directive
// ("--node-name 'cp-1<newline>OnCalendar=minutely'") and left dedent's
// tabs on every line. It is refused, and nothing is written.
func TestInstallTimerRefusesNodeNameControlCharacters(t *testing.T) {
	units := t.TempDir()
	var out bytes.Buffer
	tm := Timer{UnitDir: units, CertDir: t.TempDir(), NodeName: "cp-1\nOnCalendar=minutely", Stagger: DefaultStagger, CertctlPath: DefaultCertctlPath, Out: &out, ErrOut: &out}
	err := tm.Resolve()
	if err == nil {
		err = InstallTimer(tm)
	}
	treetest.ErrMentions(t, err, "node name", "control character", "--node-name")
	if entries, _ := os.ReadDir(units); len(entries) > 0 {
		t.Errorf("wrote %d file(s) into %s:\n%s", len(entries), units, out.String())
	}
}

// TestInstallTimerWarnsOfASkippedFolder: a certificate folder given that
// holds neither serving certificate would skip every run of the service,
// silently: install-timer says so (and still writes the units, which a
// node before kubeadm init needs). kubeadm's folder, a folder with one of
// them, or nothing given, gives no warning.
func TestInstallTimerWarnsOfASkippedFolder(t *testing.T) {
	full := t.TempDir()
	if err := os.MkdirAll(filepath.Join(full, "etcd"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(full, "etcd", "server.crt"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	typo := filepath.Join(t.TempDir(), "pkii")
	for _, tc := range []struct {
		name    string
		certDir string
		warns   bool
	}{
		{"mistyped --cert-dir", typo, true},
		{"etcd-only folder", full, false},
		{"kubeadm's folder", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			units := t.TempDir()
			tm := Timer{UnitDir: units, CertDir: tc.certDir, NodeName: "cp-1", Stagger: DefaultStagger, CertctlPath: DefaultCertctlPath, Out: &out, ErrOut: &errOut}
			if err := InstallTimer(tm); err != nil {
				t.Fatal(err)
			}
			warned := strings.Contains(errOut.String(), "[warning] neither "+filepath.Join(tc.certDir, "apiserver.crt")+" nor "+filepath.Join(tc.certDir, "etcd", "server.crt")+" exists: the service skips every run")
			if warned != tc.warns {
				t.Errorf("warned: %v, want %v:\n%s", warned, tc.warns, errOut.String())
			}
			if entries, _ := os.ReadDir(units); len(entries) != 2 {
				t.Errorf("wrote %d unit(s)", len(entries))
			}
		})
	}
}
