package renew

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/exitcode"
	"github.com/certctl/certctl/internal/output"
	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/manifests/staticpods"
)

// TestOwedRestartDroppedIsSaid: kube-apiserver owes a restart since an
// earlier run, and its manifest has since been changed to read its
// certificate from another folder (the kubelet has restarted it with
// that manifest). The next run drops the restart, as it must: the
// component no longer reads the renewed file. It did so in silence,
// between "retrying the restarts still owed" and "no restart is owed",
// and the summary kept no trace of a restart owed for days: a log
// scraper saw it vanish. It is now a warning, also in the summary's.
func TestOwedRestartDroppedIsSaid(t *testing.T) {
	n, o := owedNode(t)
	path, err := staticpods.PendingPath(n.Cluster.CertificatesDir)
	if err != nil {
		t.Fatal(err)
	}
	manifest := n.Path("manifests/kube-apiserver.yaml")
	since := pkitest.Made.Add(time.Minute)
	data, err := json.Marshal(staticpods.Pending{Version: 1, Components: []staticpods.PendingComponent{
		{Component: "kube-apiserver", Manifest: manifest, Files: []string{n.Path("pki/apiserver.crt")}, Since: since, Reason: "not reachable"}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	m, err := os.ReadFile(manifest)
	if err != nil {
		t.Fatal(err)
	}
	moved := strings.ReplaceAll(string(m), n.Cluster.CertificatesDir, "/srv/elsewhere/pki")
	moved = strings.ReplaceAll(moved, "/etc/kubernetes/pki", "/srv/elsewhere/pki")
	if err := os.WriteFile(manifest, []byte(moved), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	o.Out, o.ErrOut, o.Threshold, o.IfExpiresWithin, o.Format = &out, &errOut, true, 720*time.Hour, output.Format{}
	err = Run(context.Background(), o)
	if code := exitcode.Of(err); code != exitcode.NothingToDo {
		t.Fatalf("exit %d (%v), want 2: nothing renewed, nothing owed any more\n%s", code, err, out.String())
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("%s is still there: %v", path, err)
	}
	want := "[warning] kube-apiserver: no longer owed the restart owed since " + since.Format(time.RFC3339) + ": its manifest " + manifest + " names none of " + n.Path("pki/apiserver.crt") + " any more"
	if !strings.Contains(errOut.String(), want) {
		t.Errorf("the run does not say %q:\n%s%s", want, out.String(), errOut.String())
	}

	// The same in the summary.
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	o.Format = output.Format{Name: "json"}
	_ = Run(context.Background(), o)
	var s Summary
	if err := json.Unmarshal(out.Bytes(), &s); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if !strings.Contains(strings.Join(s.Warnings, "\n"), "kube-apiserver: no longer owed the restart owed since") {
		t.Errorf("warnings %q do not say the restart owed was dropped", s.Warnings)
	}
}
