package cmd

import (
	"path/filepath"
	"testing"
)

// TestSignerDryRunRefusesBackupDir: signer enable and disable refuse
// --backup-dir with --dry-run, which writes no backup, before any work;
// both were accepted and the folder was never used.
func TestSignerDryRunRefusesBackupDir(t *testing.T) {
	dir := t.TempDir()
	backups := filepath.Join(dir, "backups")
	for _, args := range [][]string{{"enable", "--cert-dir", dir}, {"disable"}} {
		t.Run(args[0], func(t *testing.T) {
			stdout, _, err := runCertctl(t, append([]string{"signer", args[0], "--dry-run", "--backup-dir", backups, "--manifest", filepath.Join(dir, "kube-controller-manager.yaml")}, args[1:]...)...)
			want := "--backup-dir " + backups + " does nothing with --dry-run, which writes no backup: drop one of them"
			if err == nil || err.Error() != want {
				t.Errorf("error %v, want %q", err, want)
			}
			if stdout != "" {
				t.Errorf("printed %q", stdout)
			}
		})
	}
}
