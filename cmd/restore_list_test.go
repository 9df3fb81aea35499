package cmd

import (
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/pkitest"
)

// TestRestoreListNamesFlagsGiven: restore without a backup lists the
// backups, and a restore's flag given there is refused naming the flags
// given only; the refusal named all five whatever was given.
func TestRestoreListNamesFlagsGiven(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--dry-run"}, "--dry-run applies to a restore, not to the list of backups: name the backup to restore, or drop it"},
		{[]string{"--no-backup", "--restart-timeout", "1m"}, "--no-backup and --restart-timeout apply to a restore, not to the list of backups: name the backup to restore, or drop them"},
		{[]string{"--manifest-dir", n.Dir, "--restart-control-plane", "--dry-run"}, "--dry-run, --restart-control-plane and --manifest-dir apply to a restore, not to the list of backups: name the backup to restore, or drop them"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, _, err := execute(t, append([]string{"restore", "--cert-dir", n.CertDir(), "--kubeconfig-dir", n.Dir}, tc.args...)...)
			if err == nil || err.Error() != tc.want {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}
