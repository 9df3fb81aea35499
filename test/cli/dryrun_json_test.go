package cli

import (
	"encoding/json"
	"os"
	"slices"
	"testing"

	"github.com/certctl/certctl/internal/treetest"
)

// TestRenewDryRunJSON: `renew all --dry-run -o json` prints only the
// RenewalSummary, with dryRun: true, listing what would be renewed and
// restarted, and writes nothing; the exit status is the real run's.
// Before, --dry-run refused -o json ("prints the plan as text").
func TestRenewDryRunJSON(t *testing.T) {
	bin := certctlBin(t)
	n := makeNode(t, bin, "ECDSA-P256")
	if err := os.Mkdir(n.dir+"/manifests", 0o755); err != nil {
		t.Fatal(err)
	}
	before := treetest.Snapshot(t, n.dir)
	r := runCode(t, bin, append([]string{"renew", "all", "--dry-run", "-o", "json", "--restart-control-plane", "--manifest-dir", n.dir + "/manifests"}, n.flags()...)...)
	treetest.AssertSame(t, before, treetest.Snapshot(t, n.dir))
	if r.code != 0 {
		t.Fatalf("exit %d, want 0\n%s%s", r.code, r.out, r.errOut)
	}
	var s struct {
		Kind    string `json:"kind"`
		DryRun  bool   `json:"dryRun"`
		Status  string `json:"status"`
		Renewed []struct {
			Name  string   `json:"name"`
			Files []string `json:"files"`
		} `json:"renewed"`
		RestartNeeded []string `json:"restartNeeded"`
		Restarts      []any    `json:"restarts"`
	}
	if err := json.Unmarshal([]byte(r.out), &s); err != nil {
		t.Fatalf("stdout is not the summary alone: %v\n%s", err, r.out)
	}
	if s.Kind != "RenewalSummary" || !s.DryRun || s.Status != "renewed" || len(s.Renewed) != 11 || len(s.Restarts) != 0 {
		t.Errorf("kind %q, dryRun %v, status %q, %d renewed, %d restarts; want RenewalSummary, true, renewed, 11, 0\n%s", s.Kind, s.DryRun, s.Status, len(s.Renewed), len(s.Restarts), r.out)
	}
	if i := slices.IndexFunc(s.Renewed, func(e struct {
		Name  string   `json:"name"`
		Files []string `json:"files"`
	}) bool {
		return e.Name == "apiserver"
	}); i < 0 || !slices.Equal(s.Renewed[i].Files, []string{n.certDir + "/apiserver.crt", n.certDir + "/apiserver.key"}) {
		t.Errorf("renewed lacks apiserver with its files:\n%s", r.out)
	}
	// No manifest in the folder, but the components that read the files
	// are still listed, as a real run lists them.
	if !slices.Contains(s.RestartNeeded, "kube-apiserver") {
		t.Errorf("restartNeeded = %q, want kube-apiserver among them", s.RestartNeeded)
	}
}
