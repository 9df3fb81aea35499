package renew

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/exitcode"
	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/manifests/staticpods"
)

// owedBesideTheLink is a node whose certificate folder is a link (its
// name in the node) to real, with a restart of etcd owed in the record
// beside the link's name (path), and a threshold run given real. It
// returns the run's output (stdout) and error, stderr in the error's
// report.
func owedBesideTheLink(t *testing.T) (link, real, path, out string, err error) {
	t.Helper()
	n := pkitest.NewNode(t, nil)
	link = n.Cluster.CertificatesDir // KUBECONFIGDIR/pki
	real = treetest.BehindLink(t, link)
	if path, err = staticpods.PendingPath(link); err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(staticpods.Pending{Version: 1, Components: []staticpods.PendingComponent{
		{Component: "etcd", Manifest: n.Path("manifests/etcd.yaml"), Files: []string{filepath.Join(link, "etcd/server.crt")}, Since: pkitest.Made.Add(time.Hour)}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	cluster := *n.Cluster
	cluster.CertificatesDir = real
	var stdout, stderr bytes.Buffer
	o := Options{Cluster: &cluster, KubeconfigDir: n.Dir, Args: []string{"all"}, Threshold: true, IfExpiresWithin: 720 * time.Hour,
		LockTimeout: time.Second, Now: func() time.Time { return pkitest.Made.Add(2 * time.Hour) }, Out: &stdout, ErrOut: &stderr}
	err = Run(context.Background(), o)
	t.Logf("stderr:\n%s", stderr.String())
	return link, real, path, stdout.String(), err
}

// TestOwedBesideTheLink: kubeadm's /etc/kubernetes/pki a link to
// /data/pki. A run given the link that could not restart etcd recorded the
// restart beside the link's name; a run given /data/pki read only the
// record beside that name, and neither warned of the restart nor retried
// it. renew reads the records beside every name (node.LoadOwed).
func TestOwedBesideTheLink(t *testing.T) {
	link, real, _, out, err := owedBesideTheLink(t)
	var ec *exitcode.Error
	if !errors.As(err, &ec) || ec.Code != exitcode.NothingToDo {
		t.Errorf("Run = %v, want nothing to do\n%s", err, out)
	}
	if !strings.Contains(out, "[warning] etcd must still be restarted") {
		t.Errorf("a run given %s does not warn of the restart owed beside %s:\n%s", real, link, out)
	}
}

// TestOwedWarningNamesTheRecordBesideTheLink: the warning of a restart
// owed says which file to remove once the user restarted it: the record
// beside the name that holds it (the link's), not the one beside the name
// given, which does not exist, and whose removal would leave the warning
// repeated by every run.
func TestOwedWarningNamesTheRecordBesideTheLink(t *testing.T) {
	_, real, path, out, _ := owedBesideTheLink(t)
	realPath, err := staticpods.PendingPath(real)
	if err != nil {
		t.Fatal(err)
	}
	var warning string
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "[warning] etcd must still be restarted") {
			warning = l
		}
	}
	if !strings.Contains(warning, "remove "+path) {
		t.Errorf("warning %q does not name the record to remove, %s", warning, path)
	}
	if strings.Contains(warning, realPath) {
		t.Errorf("warning %q names %s, which does not exist", warning, realPath)
	}
}
