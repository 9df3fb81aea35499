package renew

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/internal/treetest"
)

// TestRestoreListRefusesRestoreFlags: `restore` without a backup lists the
// backups; it refused --no-backup, --dry-run and --restart-control-plane
// (a restore's flags: the name was forgotten) but listed, exit 0, with
// --manifest-dir or --restart-timeout, the restart's other two flags. All
// five are refused alike, before any work.
func TestRestoreListRefusesRestoreFlags(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	for _, flag := range []string{"no-backup", "manifest-dir", "restart-timeout"} {
		var out bytes.Buffer
		r := RestoreRequest{
			Options: Options{KubeconfigDir: n.Dir, Restart: Restart{Timeout: time.Minute}, Out: &out, ErrOut: &out},
			Output:  "text",
			Given:   func(f string) bool { return f == flag },
			CertDir: func() (string, error) { return n.CertDir(), nil },
		}
		err := r.Main(context.Background(), nil)
		treetest.ErrMentions(t, err, "--"+flag, "to a restore, not to the list of backups: name the backup to restore")
		if out.Len() > 0 {
			t.Errorf("--%s: printed %q", flag, out.String())
		}
	}
}
