package cmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/phases/renew"
)

// TestInstallTimerUnitDir: a unit folder that does not exist is named,
// not reported as a failed temporary file; nothing is written.
func TestInstallTimerUnitDir(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "nope")
	_, _, err := execute(t, "install-timer", "--unit-dir", missing)
	treetest.ErrMentions(t, err, "the unit folder "+missing+" does not exist", "--unit-dir")
	if strings.Contains(err.Error(), "temporary") {
		t.Errorf("error about a temporary file: %v", err)
	}
	file := filepath.Join(dir, "file")
	os.WriteFile(file, nil, 0o600)
	_, _, err = execute(t, "install-timer", "--unit-dir", file)
	treetest.ErrMentions(t, err, file+" is not a folder")
	out, _, err := execute(t, "install-timer", "--unit-dir", dir, "--certctl-path", "/opt/my certctl/certctl")
	wrote := "[install-timer] Wrote " + filepath.Join(dir, renew.ServiceName) + "\n[install-timer] Wrote " + filepath.Join(dir, renew.TimerName) + "\n"
	if err != nil || !strings.HasPrefix(out, wrote) {
		t.Fatalf("install-timer: %v\n%s\nwant the service, then the timer, written:\n%s", err, out, wrote)
	}
	unit, _ := os.ReadFile(filepath.Join(dir, renew.ServiceName))
	if !strings.Contains(string(unit), "\nExecStart=\"/opt/my certctl/certctl\" renew all ") {
		t.Errorf("unit:\n%s", unit)
	}
}

// TestInstallTimerFlags: --config, --cert-dir and --kubeconfig-dir reach
// ExecStart (absolute) and the condition, --schedule and the node's offset
// the timer; --dry-run and its old name --print write nothing; a bad
// --config or schedule is refused before anything is written.
func TestInstallTimerFlags(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "kubeadm.yaml")
	os.WriteFile(cfg, []byte("apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\nnodeRegistration:\n  name: cp-2\n"), 0o600)
	units := filepath.Join(dir, "units")
	os.Mkdir(units, 0o755)
	args := []string{"install-timer", "--config", cfg, "--cert-dir", "/srv/k8s/pki", "--kubeconfig-dir", "/srv/k8s", "--schedule", "*-*-* 02:00"}
	for _, dry := range []string{"--dry-run", "--print"} {
		out, _, err := execute(t, append(args, dry, "--unit-dir", units)...)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out, "--config "+cfg+" --cert-dir /srv/k8s/pki --kubeconfig-dir /srv/k8s\n") ||
			!strings.Contains(out, "ConditionPathExists=|/srv/k8s/pki/apiserver.crt\nConditionPathExists=|/srv/k8s/pki/etcd/server.crt\n") ||
			!strings.Contains(out, "# Node cp-2: offset 54m within --stagger 1h") || !strings.Contains(out, "OnCalendar=*-*-* 02:54:00\n") {
			t.Errorf("%s:\n%s", dry, out)
		}
		if entries, _ := os.ReadDir(units); len(entries) != 0 {
			t.Errorf("%s wrote %v", dry, entries)
		}
	}
	if _, _, err := execute(t, append(args, "--unit-dir", units, "--offset", "20m")...); err != nil {
		t.Fatal(err)
	}
	timer, _ := os.ReadFile(filepath.Join(units, renew.TimerName))
	if !strings.Contains(string(timer), "OnCalendar=*-*-* 02:20:00\n") {
		t.Errorf("timer:\n%s", timer)
	}
	os.WriteFile(cfg, []byte("apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\ncertificateValidityPeriod: soon\n"), 0o600)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--config", cfg}, `invalid certificateValidityPeriod "soon"`},
		{[]string{"--schedule", "*-*-* 02:00/15"}, "not HH:MM[:SS]"},
		{[]string{"--offset", "5m", "--stagger", "2h"}, "drop one of them"},
	} {
		_, _, err := execute(t, append([]string{"install-timer", "--dry-run"}, tc.args...)...)
		treetest.ErrMentions(t, err, tc.want)
	}
}
