package cli

import (
	"strings"
	"testing"
)

// TestRestoreSaysWhatToRestart: a restore without --restart-control-plane
// puts back files that etcd and kube-scheduler read only when they start,
// so, as after a renewal, it names what to restart (the running components
// still use the files it replaced); a restore of admin.conf alone says
// nothing needs it. Before, a restore said nothing of restarts, and an SRE
// undoing a renewal was left with components using the certificates the
// restore had just taken off the disk.
func TestRestoreSaysWhatToRestart(t *testing.T) {
	bin := certctlBin(t)
	n := makeNode(t, bin, "ECDSA-P256")
	run(t, bin, append([]string{"renew", "etcd-server", "scheduler.conf"}, n.flags()...)...)
	out := run(t, bin, append([]string{"restore", "latest"}, n.flags()...)...)
	want := "[restart] Restart these components so that they use the restored certificates (or run with --restart-control-plane): etcd (etcd-server); kube-scheduler (scheduler.conf)\n"
	if !strings.Contains(out, want) {
		t.Errorf("restore of etcd-server and scheduler.conf does not say what to restart; want %q in:\n%s", want, out)
	}

	run(t, bin, append([]string{"renew", "admin.conf"}, n.flags()...)...)
	out = run(t, bin, append([]string{"restore", "latest"}, n.flags()...)...)
	if !strings.Contains(out, "[restart] Nothing to restart: clients read admin.conf and super-admin.conf at each use.") || strings.Contains(out, "Restart these") {
		t.Errorf("restore of admin.conf alone:\n%s", out)
	}
}
