package expiration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/internal/treetest"
)

// TestRestartsOwedBesideTheLink: renew --restart-control-plane given
// /etc/kubernetes/pki, a link to /data/pki, records a restart it could not
// do beside the link's name; check-expiration given /data/pki reports it.
func TestRestartsOwedBesideTheLink(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	real := treetest.BehindLink(t, n.CertDir())
	since := checkAt.Add(-time.Hour).UTC()
	pending := `{"version": 1, "components": [{"component": "kube-apiserver", "manifest": "/etc/kubernetes/manifests/kube-apiserver.yaml",
		"files": ["` + n.Path("pki/apiserver.crt") + `"], "since": "` + since.Format(time.RFC3339) + `"}]}`
	if err := os.WriteFile(filepath.Join(n.Dir, ".certctl-restarts.json"), []byte(pending), 0o600); err != nil {
		t.Fatal(err)
	}
	info := check(t, n, func(o *Options) { o.CertDir = real })
	if len(info.RestartsOwed) != 1 || info.RestartsOwed[0].Component != "kube-apiserver" {
		t.Fatalf("RestartsOwed given %s = %+v, want kube-apiserver, owed beside the link %s", real, info.RestartsOwed, n.CertDir())
	}
}

// TestRestartHintNamesTheRecord: the hint of a restart owed names the
// record to remove once the user restarted it by hand: beside the link's
// name here, which ".certctl-restarts.json beside the certificate folder"
// did not say when check-expiration was given /data/pki (there is none
// beside it), so its removal there left the restart reported.
func TestRestartHintNamesTheRecord(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	real := treetest.BehindLink(t, n.CertDir())
	since := checkAt.Add(-time.Hour).UTC()
	pending := `{"version": 1, "components": [{"component": "kube-apiserver", "manifest": "/etc/kubernetes/manifests/kube-apiserver.yaml",
		"files": ["` + n.Path("pki/apiserver.crt") + `"], "since": "` + since.Format(time.RFC3339) + `"}]}`
	record := filepath.Join(n.Dir, ".certctl-restarts.json")
	if err := os.WriteFile(record, []byte(pending), 0o600); err != nil {
		t.Fatal(err)
	}
	info := check(t, n, func(o *Options) { o.CertDir = real })
	if !strings.Contains(info.restartHint, "remove "+record) {
		t.Errorf("hint %q does not name the record to remove, %s", info.restartHint, record)
	}
}
