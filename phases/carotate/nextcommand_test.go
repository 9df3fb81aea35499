package carotate

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/certctl/certctl/pki"
)

// statusOf is ca status's line of name on the fixture's node at f.now.
func statusOf(t *testing.T, f *fixture, name string) State {
	t.Helper()
	report, err := Status(context.Background(), StatusOptions{CertDir: f.node.CertDir(), KubeconfigDir: f.node.Dir, Now: f.now})
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range report.CAs {
		if st.CA == name {
			return st
		}
	}
	t.Fatalf("ca status has no %s: %+v", name, report.CAs)
	return State{}
}

// TestNextAfterAbortFromReissue: after --abort from reissue the node is at
// trust, aborting, and owes restarts. What ca rotate and ca status then
// print must let the user go on with the abort: the command they used to
// print, `ca rotate NAME --restarted`, goes forward to reissue again,
// which signs with the new CA the user was backing out of.
func TestNextAfterAbortFromReissue(t *testing.T) {
	f := newFixture(t)
	f.rotate(t, pki.EtcdCAName, nil) // trust
	f.rotate(t, pki.EtcdCAName, nil) // reissue
	var out bytes.Buffer
	o := f.options(func(o *Options) { o.Abort = true })
	o.Out = &out
	rec, err := Rotate(context.Background(), pki.EtcdCAName, o)
	if err != nil || rec.Stage != StageTrust || !rec.Aborting || rec.Restarted {
		t.Fatalf("--abort from reissue: %+v, %v; want trust, aborting, restarts owed", rec, err)
	}
	cmd := "certctl ca rotate " + pki.EtcdCAName
	if !strings.Contains(out.String(), "`"+cmd+" --abort --restarted`") {
		t.Errorf("after --abort from reissue ca rotate says\n%s\nwant the command that goes on with the abort, `%s --abort --restarted`", out.String(), cmd)
	}
	next := statusOf(t, f, pki.EtcdCAName).Next
	if !strings.Contains(next, cmd+" --abort --restarted") || !strings.HasPrefix(next, "restart etcd, kube-apiserver, then ") {
		t.Errorf("ca status after --abort from reissue: NEXT %q; want the restarts, then %s --abort --restarted", next, cmd)
	}
	// The printed command, as the user runs it, drops the new CA.
	rec = f.rotate(t, pki.EtcdCAName, func(o *Options) { o.Abort, o.Restarted = true, true })
	if rec.Stage != StageAborted {
		t.Errorf("%s --abort --restarted: stage %s, want %s", cmd, rec.Stage, StageAborted)
	}
}

// TestNextOfSAAtReissue: at reissue of sa, before --max-token-lifetime has
// passed, ca status says when finish may run; it must still say that the
// components must restart and give the command with --restarted, which
// finish needs: without it the printed command is refused.
func TestNextOfSAAtReissue(t *testing.T) {
	f := newFixture(t)
	f.rotate(t, pki.SAName, nil) // trust
	rec := f.rotate(t, pki.SAName, nil)
	if rec.Stage != StageReissue || rec.Restarted {
		t.Fatalf("sa after two stages: %+v; want reissue, restarts owed", rec)
	}
	cmd := "certctl ca rotate " + pki.SAName
	next := statusOf(t, f, pki.SAName).Next
	if !strings.HasPrefix(next, "restart kube-apiserver, kube-controller-manager, then ") || !strings.Contains(next, cmd+" --restarted") || !strings.Contains(next, "tokens of the old key expire") {
		t.Errorf("ca status of sa at reissue, restarts owed: NEXT %q; want the restarts, the time, then %s --restarted", next, cmd)
	}
}

// TestClusterNextAfterAbortFromReissue: the cluster record's line of a node
// that went back from reissue and has not restarted since gives the
// command that goes on with the abort, not only the one that re-issues.
func TestClusterNextAfterAbortFromReissue(t *testing.T) {
	c := &ClusterRecord{CA: pki.EtcdCAName, Nodes: map[string]NodeStage{"cp-1": {Stage: StageTrust, Aborting: true}}}
	got := c.status("ConfigMap", nil, nil).Nodes[0].Next
	if !strings.Contains(got, "certctl ca rotate etcd-ca --abort --restarted") {
		t.Errorf("cluster status of a node aborting from reissue, restarts owed: NEXT %q; want certctl ca rotate etcd-ca --abort --restarted", got)
	}
}

// TestNextWithFilesChangedAtTrust: a trust file changed by hand at trust
// (here put back to the old CA alone, as a configuration tool would).
// ca status used to say to restore the files from the last backup, which
// is the trust stage's and holds exactly that old file. It now points at
// the dry run of the next stage, which says what each file must hold, and
// at --abort; both carry the --restarted the owed restarts need.
func TestNextWithFilesChangedAtTrust(t *testing.T) {
	f := newFixture(t)
	f.rotate(t, pki.FrontProxyCAName, func(o *Options) { o.Restarted = false })
	k, _ := kindOf(pki.FrontProxyCAName)
	p := k.paths(f.node.CertDir())
	old, err := os.ReadFile(p.OldCert)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p.Trust, old, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := "certctl ca rotate " + pki.FrontProxyCAName
	st := statusOf(t, f, pki.FrontProxyCAName)
	if len(st.Problems) == 0 || strings.Contains(st.Next, "last backup") || !strings.Contains(st.Next, "`"+cmd+" --restarted --dry-run`") || !strings.Contains(st.Next, cmd+" --restarted --abort") {
		t.Fatalf("ca status with %s changed at trust: problems %q, NEXT %q; want the dry run and the abort, with --restarted, and no backup to restore", p.Trust, st.Problems, st.Next)
	}
	// The dry run, as printed, says what the file must hold.
	var out bytes.Buffer
	o := f.options(func(o *Options) { o.Restarted, o.DryRun = true, true })
	o.Out = &out
	if _, err := Rotate(context.Background(), pki.FrontProxyCAName, o); err == nil || !strings.Contains(err.Error(), p.Trust+" must hold "+p.OldCert+" then "+p.NewCert) {
		t.Errorf("%s --restarted --dry-run: %v; want what %s must hold", cmd, err, p.Trust)
	}
	// The abort, as printed, goes back.
	if rec := f.rotate(t, pki.FrontProxyCAName, func(o *Options) { o.Restarted, o.Abort = true, true }); rec.Stage != StageAborted {
		t.Errorf("%s --restarted --abort: stage %s, want %s", cmd, rec.Stage, StageAborted)
	}
}

// TestNextAfterAbortFromReissueNoForwardAlternative: the line of a node
// aborting from reissue does not offer plain `--restart-control-plane`,
// which would restart and then go on to reissue again.
func TestNextAfterAbortFromReissueNoForwardAlternative(t *testing.T) {
	rec := &Record{Stage: StageTrust, Aborting: true, Restart: []string{"etcd", "kube-apiserver"}}
	cmd := "certctl ca rotate etcd-ca"
	got := next(cmd, rec, &State{})
	if strings.Contains(got, "(or "+cmd+" --restart-control-plane)") || !strings.Contains(got, cmd+" --abort --restarted") {
		t.Errorf("NEXT of a node aborting from reissue: %q; want the abort command and no plain --restart-control-plane alternative", got)
	}
}
