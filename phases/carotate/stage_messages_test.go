package carotate

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/lock"
	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/phases/renewal"
	"github.com/certctl/certctl/pki"
)

// rotateOut runs one call of ca rotate name and returns what it printed
// (progress and warnings) and its error.
func rotateOut(f *fixture, name string, change func(o *Options)) (string, error) {
	var out bytes.Buffer
	o := f.options(change)
	o.Out = &out
	_, err := Rotate(context.Background(), name, o)
	return out.String(), err
}

// setRestarted rewrites the record of name as --restart-control-plane
// leaves it: the static pods restarted. certctl does not restart the
// kubelet, which is no static pod.
func setRestarted(t *testing.T, f *fixture, name string) {
	t.Helper()
	k, _ := kindOf(name)
	p := k.paths(f.node.CertDir())
	rec, err := ReadRecord(p.Record)
	if err != nil || rec == nil {
		t.Fatalf("read the record of %s: %v", name, err)
	}
	rec.Restarted = true
	file, err := recordFile(rec, p.Record)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p.Record, file.Data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestStatusOfCANamesTheKubelet: after each stage of ca, ca rotate warns
// that the kubelet reads kubelet.conf and ca.crt only when it starts and
// must restart (systemctl restart kubelet); ca status's NEXT named the
// static pods only, so an SRE who followed it left the kubelet on the old
// files. NEXT must name it too: with the restarts owed, and after
// --restart-control-plane (which restarts no kubelet). The CAs the kubelet
// does not read need no such words.
func TestStatusOfCANamesTheKubelet(t *testing.T) {
	f := newFixture(t)
	f.rotate(t, pki.CAName, nil)
	f.rotate(t, pki.FrontProxyCAName, nil)
	if next := statusOf(t, f, pki.CAName).Next; !strings.Contains(next, "systemctl restart kubelet") || !strings.Contains(next, "restart kube-apiserver, kube-controller-manager, kube-scheduler, then") {
		t.Errorf("ca status at trust of ca, restarts owed: NEXT %q, want the kubelet (systemctl restart kubelet) beside the static pods", next)
	}
	if next := statusOf(t, f, pki.FrontProxyCAName).Next; strings.Contains(next, "kubelet") {
		t.Errorf("ca status at trust of front-proxy-ca: NEXT %q names the kubelet, which does not read it", next)
	}
	setRestarted(t, f, pki.CAName)
	if next := statusOf(t, f, pki.CAName).Next; !strings.Contains(next, "systemctl restart kubelet") || !strings.Contains(next, "(stage reissue)") {
		t.Errorf("ca status at trust of ca, static pods restarted: NEXT %q, want the kubelet's restart before stage reissue", next)
	}
}

// TestDryRunOfFinishListsWhatExists: reissue removes ca.new.key right
// after its commit, but the dry run of finish listed "remove ca.new.key"
// too, a file that is not there: the dry run must list only what the real
// run does.
func TestDryRunOfFinishListsWhatExists(t *testing.T) {
	f := newFixture(t)
	f.rotate(t, pki.CAName, nil)
	f.rotate(t, pki.CAName, nil)
	p := k(t, pki.CAName).paths(f.node.CertDir())
	if !missing(p.NewKey) {
		t.Fatalf("%s exists after reissue", p.NewKey)
	}
	out, err := rotateOut(f, pki.CAName, func(o *Options) { o.DryRun = true })
	if err != nil {
		t.Fatalf("dry run of finish: %v\n%s", err, out)
	}
	if strings.Contains(out, "remove "+p.NewKey) {
		t.Errorf("the dry run of finish lists removing %s, which reissue removed:\n%s", p.NewKey, out)
	}
	for _, f := range []string{p.OldCert, p.NewCert, p.OldKey} {
		if !strings.Contains(out, "remove "+f+"\n") {
			t.Errorf("the dry run of finish does not list removing %s:\n%s", f, out)
		}
	}
}

// TestOneFileStillHoldsACertificate: finish refused with "X still hold a
// certificate" for one file: "holds"; several files "hold".
func TestOneFileStillHoldsACertificate(t *testing.T) {
	f := newFixture(t)
	f.rotate(t, pki.CAName, nil)
	store := pki.Store{Dir: f.node.CertDir()}
	crt, key := store.CertPath("apiserver"), store.KeyPath("apiserver")
	oldCrt, oldKey := mustReadFile(t, crt), mustReadFile(t, key)
	f.rotate(t, pki.CAName, nil)
	// apiserver.crt of the old CA again: still trusted at reissue.
	for path, data := range map[string][]byte{crt: oldCrt, key: oldKey} {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	out, err := rotateOut(f, pki.CAName, nil)
	if err == nil {
		t.Fatalf("finish with %s of the old CA went on:\n%s", crt, out)
	}
	if !strings.Contains(err.Error(), crt+" still holds a certificate of the old ca CA") {
		t.Errorf("finish refused with %q, want %q", err, crt+" still holds a certificate of the old ca CA")
	}
	if got := stillHold([]string{"a", "b"}); got != "a, b still hold" {
		t.Errorf("two files: %q, want %q", got, "a, b still hold")
	}
}

// TestFinishSaysWhatIsTrue: at finish there is no next stage, but ca
// rotate said "stage finished done", warned that the kubelet must restart
// "before the next stage", and the next call, with the restarts owed,
// refused "before the next stage". They must say what is true at finish.
func TestFinishSaysWhatIsTrue(t *testing.T) {
	f := newFixture(t)
	f.rotate(t, pki.CAName, nil)
	f.rotate(t, pki.CAName, nil)
	f.now = f.now.Add(time.Minute)
	out, err := rotateOut(f, pki.CAName, nil)
	if err != nil {
		t.Fatalf("finish: %v\n%s", err, out)
	}
	if strings.Contains(out, "stage finished done") || !strings.Contains(out, "stage finish done and verified") {
		t.Errorf("finish says:\n%s\nwant \"stage finish done and verified\"", out)
	}
	if strings.Contains(out, "next stage") {
		t.Errorf("finish speaks of a next stage:\n%s", out)
	}
	out, err = rotateOut(f, pki.CAName, func(o *Options) { o.Restarted = false })
	if err == nil {
		t.Fatalf("ca rotate after finish with restarts owed went on:\n%s", out)
	}
	if strings.Contains(err.Error(), "next stage") || !strings.Contains(err.Error(), "--restarted") || !strings.Contains(err.Error(), "before the rotation is done") {
		t.Errorf("ca rotate after finish with restarts owed: %q, want what is true at finish (before the rotation is done) and --restarted", err)
	}
}

// TestAbortSaysWhatIsTrue: an abort from trust printed "stage aborted done
// and verified": there is no stage "aborted" to make.
func TestAbortSaysWhatIsTrue(t *testing.T) {
	f := newFixture(t)
	f.rotate(t, pki.FrontProxyCAName, nil)
	out, err := rotateOut(f, pki.FrontProxyCAName, func(o *Options) { o.Abort = true })
	if err != nil {
		t.Fatalf("abort: %v\n%s", err, out)
	}
	if strings.Contains(out, "stage aborted") || !strings.Contains(out, "front-proxy-ca: abort done and verified") {
		t.Errorf("abort from trust says:\n%s\nwant \"abort done and verified\"", out)
	}
}

// TestOldCertificateAtReissueSaysRenew: at reissue, a certificate and a
// kubeconfig of the old CA put back (a pre-rotation backup restored,
// configuration management writing its copy) are reported by ca status
// as "not signed by the CA that signs at stage reissue", and finish
// refused them with "re-issue them", but neither said how: ca status's
// NEXT points at the finish dry run for what each file must hold. Both
// must give the command that re-issues them by the CA that signs,
// `certctl renew NAME` with the node's folders, and once it ran, finish
// goes on.
func TestOldCertificateAtReissueSaysRenew(t *testing.T) {
	f := newFixture(t)
	f.rotate(t, pki.CAName, nil) // trust
	store := pki.Store{Dir: f.node.CertDir()}
	admin := filepath.Join(f.node.Dir, "admin.conf")
	old := map[string][]byte{}
	for _, path := range []string{store.CertPath("apiserver"), store.KeyPath("apiserver"), admin} {
		old[path] = mustReadFile(t, path)
	}
	f.rotate(t, pki.CAName, nil) // reissue
	for path, data := range old {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	flags := " --cert-dir " + f.node.CertDir() + " --kubeconfig-dir " + f.node.Dir
	st := statusOf(t, f, pki.CAName)
	for _, want := range []string{"`certctl renew apiserver" + flags + "`", "`certctl renew admin.conf" + flags + "`"} {
		if !strings.Contains(strings.Join(st.Problems, "\n"), want) {
			t.Errorf("ca status at reissue with files of the old CA: problems\n%s\nwant the command that re-issues them, %s", strings.Join(st.Problems, "\n"), want)
		}
	}
	// The finish dry run that NEXT names says it too.
	_, err := rotateOut(f, pki.CAName, func(o *Options) { o.DryRun = true })
	if err == nil || !strings.Contains(err.Error(), "`certctl renew apiserver admin.conf"+flags+"` re-issues them by the new ca CA") {
		t.Errorf("finish --dry-run with files of the old CA: %v; want the renew command that re-issues them by the new CA", err)
	}
	// What the command does (certctl renew apiserver admin.conf).
	inv := pki.Kubeadm()
	targets := []renewal.Target{renewal.TargetOf(inv, "apiserver"), renewal.TargetOf(inv, "admin.conf")}
	if _, err := renewal.Renew(context.Background(), targets, renewal.Options{CertDir: f.node.CertDir(), KubeconfigDir: f.node.Dir,
		Now: func() time.Time { return f.now }, Rand: rand.Reader, Out: io.Discard}); err != nil {
		t.Fatal(err)
	}
	if rec := f.rotate(t, pki.CAName, nil); rec.Stage != StageFinished {
		t.Errorf("finish after the renewal: stage %s", rec.Stage)
	}
}

// TestAbortAfterTheEndSaysWhatIsOwed: --abort once the rotation ended was
// refused with "no rotation of NAME is in progress: nothing to abort"
// alone. After an abort the restarts it asked for are still owed, and a
// user who ran `--abort --restarted` (as the step before printed) to
// say so was told nothing of them: the refusal must say how the rotation
// ended and that --restarted, without --abort, records them, and change
// nothing.
func TestAbortAfterTheEndSaysWhatIsOwed(t *testing.T) {
	f := newFixture(t)
	f.rotate(t, pki.FrontProxyCAName, nil)                                 // trust
	f.rotate(t, pki.FrontProxyCAName, func(o *Options) { o.Abort = true }) // aborted, restarts owed
	before := treetest.Snapshot(t, f.node.Dir)
	_, err := rotateOut(f, pki.FrontProxyCAName, func(o *Options) { o.Abort, o.Restarted = true, true })
	treetest.ErrMentions(t, err, "nothing to abort", "the last one was aborted", "then `certctl ca rotate front-proxy-ca --restarted` records the restarts the abort asked for")
	delete(before, filepath.Join(f.node.Dir, lock.FileName))
	after := treetest.Snapshot(t, f.node.Dir)
	delete(after, filepath.Join(f.node.Dir, lock.FileName))
	treetest.AssertSame(t, before, after)

	f.rotate(t, pki.FrontProxyCAName, func(o *Options) { o.Restarted = true }) // records them
	for range 3 {
		f.rotate(t, pki.FrontProxyCAName, nil)
	}
	_, err = rotateOut(f, pki.FrontProxyCAName, func(o *Options) { o.Abort = true })
	treetest.ErrMentions(t, err, "nothing to abort", "the last one finished: the old CA cannot come back")
}

// TestDryRunOfAnAbortNamesIt: the dry run of --abort said "the next stage
// is abort-reissue" (or "abort"), the name of an internal step that no
// command, document or ca status spells. It must say which abort it is
// and where it goes.
func TestDryRunOfAnAbortNamesIt(t *testing.T) {
	f := newFixture(t)
	f.rotate(t, pki.FrontProxyCAName, nil) // trust
	f.rotate(t, pki.FrontProxyCAName, nil) // reissue
	for _, want := range []string{"the next step is the abort from reissue (back to stage trust", "the next step is the abort from trust (the new CA dropped"} {
		out, err := rotateOut(f, pki.FrontProxyCAName, func(o *Options) { o.Abort, o.DryRun = true, true })
		if err != nil || !strings.Contains(out, want) || strings.Contains(out, "abort-reissue") {
			t.Errorf("--abort --dry-run: %v\n%s\nwant %q", err, out, want)
		}
		f.rotate(t, pki.FrontProxyCAName, func(o *Options) { o.Abort = true })
	}
}
