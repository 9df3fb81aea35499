package node

import (
	"bytes"
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/txn"
)

// TestRecoveryCountsReplacedFiles: a renewal's transaction also writes the
// backup of the files it replaces, and recovery said that all of them
// "now hold the new content": 5 for apiserver's certificate and key, whose
// backup copies hold the old content. It now counts the files replaced,
// and says where their old content is saved.
func TestRecoveryCountsReplacedFiles(t *testing.T) {
	backup := "/etc/kubernetes/certctl-backups/20260301T100000Z"
	tests := []struct {
		name    string
		targets []string
		want    string
	}{
		{"renewal with its backup", []string{
			backup + "/pki/apiserver.crt", backup + "/pki/apiserver.key", backup + "/backup.json",
			"/etc/kubernetes/pki/apiserver.crt", "/etc/kubernetes/pki/apiserver.key",
		}, ": 2 file(s) now hold the new content; the replaced ones are saved in " + backup + "\n"},
		{"without a backup (--no-backup, a download)", []string{
			"/etc/kubernetes/pki/apiserver.crt", "/etc/kubernetes/pki/apiserver.key",
		}, ": 2 file(s) now hold the new content\n"},
		{"a file named backup.json elsewhere is no backup", []string{
			"/etc/kubernetes/backup.json", "/etc/kubernetes/pki/apiserver.crt",
		}, ": 2 file(s) now hold the new content\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			printRecovery(&out, &txn.Report{Transactions: []txn.Outcome{{ID: "20260301T100000Z-0badf00d", Committed: true, Targets: tt.targets}}})
			if !strings.HasSuffix(out.String(), tt.want) {
				t.Errorf("recovery says %q, want it to end with %q", out.String(), tt.want)
			}
		})
	}
}
