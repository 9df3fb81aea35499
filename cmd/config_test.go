package cmd

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/pkitest"
)

// TestConfigViewRoundTrip: `config view` prints the settings derived from
// a node's certificates as a kubeadm v1beta4 file, which --config reads
// back into the same settings (the validity kept per certificate aside,
// which no kubeadm field holds), and says on stderr where they came from.
func TestConfigViewRoundTrip(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	empty := t.TempDir() // no admin.conf: the settings come from the certificates
	out, errOut, err := execute(t, "config", "view", "--cert-dir", n.CertDir(), "--kubeconfig-dir", empty)
	if err != nil {
		t.Fatalf("config view: %v\n%s", err, errOut)
	}
	if !strings.HasPrefix(errOut, "[config] using the settings derived from the certificates in "+n.CertDir()) {
		t.Errorf("stderr %q does not say where the settings came from", errOut)
	}
	for _, want := range []string{"apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\n", "kind: ClusterConfiguration\n", "  name: cp-1\n", "advertiseAddress: 198.51.100.10\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("config view lacks %q:\n%s", want, out)
		}
	}
	path := filepath.Join(t.TempDir(), "kubeadm.yaml")
	if err := os.WriteFile(path, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	again, errOut, err := execute(t, "config", "view", "--config", path)
	if err != nil {
		t.Fatalf("config view --config: %v\n%s", err, errOut)
	}
	if errOut != "[config] using the configuration file "+path+"\n" {
		t.Errorf("stderr %q", errOut)
	}
	// The comment about kept validities is the one difference.
	strip := func(s string) string {
		var keep []string
		for _, l := range strings.Split(s, "\n") {
			if !strings.HasPrefix(l, "#") {
				keep = append(keep, l)
			}
		}
		return strings.Join(keep, "\n")
	}
	if !reflect.DeepEqual(strip(out), again) {
		t.Errorf("round trip differs:\n%s\nthen:\n%s", out, again)
	}
	// docs/renew.md: the file pins the settings of a timer.
	units, _, err := execute(t, "install-timer", "--dry-run", "--config", path)
	if err != nil || !strings.Contains(units, " --config "+path+"\n") || !strings.Contains(units, "# Node cp-1: offset") {
		t.Errorf("install-timer --config %s: %v\n%s", path, err, units)
	}
}
