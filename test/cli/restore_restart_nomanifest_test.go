package cli

import (
	"strings"
	"testing"
)

// TestRestoreRestartWithoutManifest: `restore --restart-control-plane`
// with a manifest folder that has no manifest of a component reading the
// restored files says to restart that one by hand, as renew does. Before,
// restore said only "Nothing to restart: no static pod manifest in DIR
// names the replaced files", and etcd went on with the files the restore
// had just taken off the disk.
func TestRestoreRestartWithoutManifest(t *testing.T) {
	bin := certctlBin(t)
	n := makeNode(t, bin, "ECDSA-P256")
	manifests := t.TempDir()
	run(t, bin, append([]string{"renew", "etcd-server"}, n.flags()...)...)
	res := runCode(t, bin, append([]string{"restore", "latest", "--restart-control-plane", "--manifest-dir", manifests}, n.flags()...)...)
	want := "[warning] etcd uses etcd-server, but " + manifests + " has no manifest of it: restart it yourself"
	if !strings.Contains(res.out+res.errOut, want) {
		t.Errorf("restore --restart-control-plane without etcd's manifest: exit %d; want %q in:\n%s%s", res.code, want, res.out, res.errOut)
	}
}
