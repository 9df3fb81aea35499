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

// TestRestoreDryRunSaysWhatToRestart: `restore --dry-run` names the
// components the restore would have to restart, as `renew --dry-run` does,
// and says they would be restarted with --restart-control-plane.
func TestRestoreDryRunSaysWhatToRestart(t *testing.T) {
	bin := certctlBin(t)
	n := makeNode(t, bin, "ECDSA-P256")
	run(t, bin, append([]string{"renew", "etcd-server", "scheduler.conf"}, n.flags()...)...)
	out := run(t, bin, append([]string{"restore", "latest", "--dry-run"}, n.flags()...)...)
	if !strings.Contains(out, "[dry-run] etcd, kube-scheduler would have to be restarted\n") {
		t.Errorf("restore --dry-run does not say what to restart:\n%s", out)
	}
	out = run(t, bin, append([]string{"restore", "latest", "--dry-run", "--restart-control-plane", "--manifest-dir", t.TempDir()}, n.flags()...)...)
	if !strings.Contains(out, "[dry-run] etcd, kube-scheduler would be restarted (--restart-control-plane)\n") {
		t.Errorf("restore --dry-run --restart-control-plane does not say what it would restart:\n%s", out)
	}
}
