package signer

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/output"
	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/manifests"
)

// shellWrapped is a kube-controller-manager manifest whose command is a
// shell that runs it: its signing flags are in one string certctl does
// not parse.
const shellWrapped = `apiVersion: v1
kind: Pod
metadata:
  name: kube-controller-manager
  namespace: kube-system
spec:
  containers:
  - name: kube-controller-manager
    image: registry.k8s.io/kube-controller-manager:v1.37.1
    command: ["/bin/sh", "-c", "exec kube-controller-manager --cluster-signing-cert-file=/etc/kubernetes/pki/ca.crt --cluster-signing-key-file=/etc/kubernetes/pki/ca.key"]
`

// TestStatusShellWrapped: `signer status` on a manifest whose command is
// wrapped in a shell says the built-in signer's state is "unknown", with
// why, in text and in -o json; before, it said "off" of a signer that may
// well sign. `signer enable` and `signer disable` refuse to edit it with
// one line that names it, and leave it byte-identical.
func TestStatusShellWrapped(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	dir := filepath.Join(t.TempDir(), "manifests")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	manifest := filepath.Join(dir, "kube-controller-manager.yaml")
	if err := os.WriteFile(manifest, []byte(shellWrapped), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Status(manifest, n.CertDir(), testNow)
	if err != nil {
		t.Fatal(err)
	}
	if s.BuiltIn.State != "unknown" || s.BuiltIn.Enabled || !strings.Contains(s.BuiltIn.Reason, `runs "/bin/sh"`) || !strings.Contains(s.BuiltIn.Reason, "unknown") {
		t.Errorf("state %q enabled %v reason %q, want unknown, with a reason naming the shell", s.BuiltIn.State, s.BuiltIn.Enabled, s.BuiltIn.Reason)
	}
	for _, b := range builtInSigners {
		if got := state(s, b.name); got != "unknown" {
			t.Errorf("%s: %q, want unknown", b.name, got)
		}
	}
	for format, want := range map[string]string{
		"text":                      "kube-controller-manager's signer: unknown\n",
		"jsonpath={.builtIn.state}": "unknown",
		"json":                      `"state": "unknown"`,
	} {
		f, err := output.Parse(format)
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		if err := s.Print(&out, f); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out.String(), want) {
			t.Errorf("-o %s lacks %q:\n%s", format, want, out.String())
		}
	}

	before := treetest.Snapshot(t, dir)
	for verb, edit := range map[string]func(ManifestEdit) error{
		"enable": func(e ManifestEdit) error { return Enable(context.Background(), e, n.CertDir(), false, 0) },
		"disable": func(e ManifestEdit) error {
			return e.Apply(context.Background(), "disable", manifests.DisableSigner)
		},
	} {
		var out bytes.Buffer
		err := edit(ManifestEdit{Manifest: manifest, BackupDir: t.TempDir(), Now: pkitest.Made.Add(time.Hour), Out: &out})
		if err == nil {
			t.Fatalf("%s: no error on a shell-wrapped manifest; out:\n%s", verb, out.String())
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error on several lines: %v", verb, err)
		}
		treetest.ErrMentions(t, err, manifest, `runs "/bin/sh"`, "edit this manifest by hand")
		treetest.AssertSame(t, before, treetest.Snapshot(t, dir))
	}
}
