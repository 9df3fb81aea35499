package renew

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/manifests/staticpods"
)

// TestOweInTxnSeesTheRecordBesideTheLink: a run writes the restarts it
// will owe in its transaction, merged with those an earlier run left owed,
// whose restarts are said to be an earlier run's. It looked beside the
// name it was given only, so with a record beside the other name of a
// linked folder it took that earlier run's restarts for its own. A
// restart owed already needs no new record.
func TestOweInTxnSeesTheRecordBesideTheLink(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	link := n.Cluster.CertificatesDir
	real := treetest.BehindLink(t, link)
	path, err := staticpods.PendingPath(link)
	if err != nil {
		t.Fatal(err)
	}
	record := `{"version":1,"components":[{"component":"etcd","manifest":"` + n.Path("manifests/etcd.yaml") + `","files":["` + filepath.Join(link, "etcd/server.crt") + `"],"since":"2026-03-01T10:00:00Z"}]}`
	if err := os.WriteFile(path, []byte(record), 0o600); err != nil {
		t.Fatal(err)
	}
	cluster := *n.Cluster
	cluster.CertificatesDir = real
	r := &run{o: Options{Cluster: &cluster, KubeconfigDir: n.Dir, Restart: Restart{Enabled: true}, Now: func() time.Time { return pkitest.Made }}, set: &staticpods.Set{}}
	files, err := r.oweInTxn()([]string{filepath.Join(real, "etcd/server.crt")})
	if err != nil || len(files) != 0 || r.ownOwed["etcd"] {
		t.Errorf("oweInTxn given %s with a record beside %s: %d files, %v, own %v; want none, etcd owed by the earlier run", real, link, len(files), err, r.ownOwed)
	}
}
