package carotate

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/phases/renewal"
	"github.com/certctl/certctl/pki"
)

// TestNextStep: what a call does from each record, with --to and --abort.
func TestNextStep(t *testing.T) {
	k, _ := kindOf("ca")
	rec := func(stage string, aborting bool) *Record { return &Record{Stage: stage, Aborting: aborting} }
	tests := []struct {
		name    string
		rec     *Record
		o       Options
		started bool
		want    string
		err     string
	}{
		{name: "no record", want: stepTrust},
		{name: "trust", rec: rec(StageTrust, false), want: stepReissue},
		{name: "reissue", rec: rec(StageReissue, false), want: stepFinish},
		{name: "finished starts again", rec: rec(StageFinished, false), want: stepTrust},
		{name: "aborted starts again", rec: rec(StageAborted, false), want: stepTrust},
		{name: "trust, aborting, goes on", rec: rec(StageTrust, true), want: stepReissue},
		{name: "abort from trust", rec: rec(StageTrust, false), o: Options{Abort: true}, want: stepAbort},
		{name: "abort from reissue", rec: rec(StageReissue, false), o: Options{Abort: true}, want: stepAbortReissue},
		{name: "abort without rotation", rec: rec(StageFinished, false), o: Options{Abort: true}, err: "nothing to abort"},
		{name: "--all-stages after a finished rotation starts a new one", rec: rec(StageFinished, false), o: Options{To: "finish"}, want: stepTrust},
		{name: "--all-stages stops at finish", rec: rec(StageFinished, false), o: Options{To: "finish"}, started: true, want: ""},
		{name: "--to reissue from trust", rec: rec(StageTrust, false), o: Options{To: StageReissue}, want: stepReissue},
		{name: "--to reissue reached", rec: rec(StageReissue, false), o: Options{To: StageReissue}, started: true, want: ""},
		{name: "--to trust past it", rec: rec(StageReissue, false), o: Options{To: StageTrust}, err: "past trust"},
		{name: "new CA during a rotation", rec: rec(StageTrust, false), o: Options{NewCAKey: "k"}, err: "chosen already"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.o.nextStep(k, tt.rec, tt.started)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("%q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// TestRestartedAfterFinish: after finish, --restarted records the restarts
// the stage asked for and does nothing else: it does not start a new
// rotation, which only a later call does.
func TestRestartedAfterFinish(t *testing.T) {
	f := newFixture(t)
	for range 3 {
		f.now = f.now.Add(2 * time.Hour)
		f.rotate(t, pki.FrontProxyCAName, func(o *Options) { o.MaxTokenLifetime = time.Millisecond })
	}
	k, _ := kindOf(pki.FrontProxyCAName)
	p := k.paths(f.node.CertDir())
	rec, err := ReadRecord(p.Record)
	if err != nil || rec.Stage != StageFinished || rec.Restarted {
		t.Fatalf("after three stages: %+v, %v; want finished, restarts owed", rec, err)
	}
	trust, err := os.ReadFile(p.Trust)
	if err != nil {
		t.Fatal(err)
	}
	var dry bytes.Buffer
	do := f.options(func(o *Options) { o.DryRun, o.Restarted = true, true })
	do.Out = &dry
	if _, err := Rotate(context.Background(), pki.FrontProxyCAName, do); err != nil {
		t.Fatal(err)
	}
	if again, err := ReadRecord(p.Record); err != nil || again.Restarted || !strings.Contains(dry.String(), "[dry-run] front-proxy-ca: the restarts after stage finished would be recorded") {
		t.Fatalf("--restarted --dry-run after finish: record %+v, %v\n%s\nwant nothing recorded, and said so", again, err, dry.String())
	}
	var out bytes.Buffer
	o := f.options(func(o *Options) { o.Restarted = true })
	o.Out = &out
	if rec, err = Rotate(context.Background(), pki.FrontProxyCAName, o); err != nil {
		t.Fatal(err)
	}
	if rec.Stage != StageFinished || !rec.Restarted || !strings.Contains(out.String(), "the restarts after stage finished are recorded; the rotation is done") {
		t.Fatalf("--restarted after finish: %+v\n%s\nwant finished, restarted, and said so", rec, out.String())
	}
	if again, _ := os.ReadFile(p.Trust); !bytes.Equal(again, trust) {
		t.Errorf("--restarted after finish changed %s: a new rotation started", p.Trust)
	}
	if _, err := os.Stat(p.NewCert); err == nil {
		t.Errorf("--restarted after finish made %s", p.NewCert)
	}
	// The same command again (a script's retry, the shell's history):
	// nothing is owed, and --restarted starts no rotation.
	out.Reset()
	if _, err := Rotate(context.Background(), pki.FrontProxyCAName, o); err != nil {
		t.Fatal(err)
	}
	if again, _ := os.ReadFile(p.Trust); !bytes.Equal(again, trust) || !strings.Contains(out.String(), "front-proxy-ca: no rotation is in progress and no restart is owed: nothing to record") {
		t.Errorf("--restarted once more after finish: %s changed or not said:\n%s", p.Trust, out.String())
	}
	if _, err := os.Stat(p.NewCert); err == nil {
		t.Errorf("--restarted once more after finish made %s", p.NewCert)
	}
	report, err := Status(context.Background(), StatusOptions{CertDir: f.node.CertDir(), KubeconfigDir: f.node.Dir, Now: f.now})
	if err != nil {
		t.Fatal(err)
	}
	if next := report.CAs[1].Next; next != "certctl ca rotate front-proxy-ca (starts a rotation: stage trust)" {
		t.Errorf("ca status next %q, want a new rotation", next)
	}
	if rec = f.rotate(t, pki.FrontProxyCAName, nil); rec.Stage != StageTrust {
		t.Errorf("the call after: stage %s, want a new rotation at trust", rec.Stage)
	}
}

// TestRestoreRefusesStageBackup: the backup of a rotation's stage is
// refused by restore, which would put the old files back under the
// stage's record and CA files, and says what undoes the stage instead.
func TestRestoreRefusesStageBackup(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct{ step, undo string }{
		{StageTrust, "go back with `certctl ca rotate ca --abort`"},
		{StageReissue, "go back with `certctl ca rotate ca --abort`"},
		{"finish", "after finish the old CA cannot come back"},
	} {
		f.now = f.now.Add(2 * time.Hour)
		f.rotate(t, pki.CAName, nil)
		root, err := renewal.BackupRoot(f.node.CertDir())
		if err != nil {
			t.Fatal(err)
		}
		dir, err := renewal.FindBackup(root, "latest")
		if err != nil {
			t.Fatal(err)
		}
		before := treetest.Snapshot(t, f.node.Dir)
		_, err = renewal.Restore(dir, renewal.Options{CertDir: f.node.CertDir(), KubeconfigDir: f.node.Dir, Now: func() time.Time { return f.now }, Rand: rand.Reader})
		want := "was made by step " + tc.step + " of the ca rotation (certctl ca rotate): restoring its files would leave that half undone; " + tc.undo
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("restore of the %s backup: %v, want %q", tc.step, err, want)
		}
		treetest.AssertSame(t, before, treetest.Snapshot(t, f.node.Dir))
	}
}

// TestRerunInPrintedCommands: the commands a stage and ca status print for
// this node carry the node's folder flags (Options.Rerun), so that copying
// them acts on the same files, not on /etc/kubernetes.
func TestRerunInPrintedCommands(t *testing.T) {
	const rerun = " --cert-dir '/srv/my pki' --kubeconfig-dir /srv/kc"
	want := "certctl ca rotate front-proxy-ca" + rerun + " --restarted"
	f := newFixture(t)
	var out bytes.Buffer
	o := f.options(func(o *Options) { o.Restarted, o.Rerun = false, rerun })
	o.Out = &out
	if _, err := Rotate(context.Background(), pki.FrontProxyCAName, o); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "then run `"+want+"` for the next stage") {
		t.Errorf("stage trust printed\n%s\nwant the command %q", out.String(), want)
	}
	report, err := Status(context.Background(), StatusOptions{CertDir: f.node.CertDir(), KubeconfigDir: f.node.Dir, Now: f.now, Rerun: rerun})
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range report.CAs {
		if st.CA == pki.FrontProxyCAName && !strings.Contains(st.Next, want) {
			t.Errorf("ca status next %q, want %q", st.Next, want)
		}
		if st.CA == pki.CAName && st.Next != "certctl ca rotate ca"+rerun+" (starts a rotation: stage trust)" {
			t.Errorf("ca status next of ca %q, want the folder flags", st.Next)
		}
	}
}

// TestRestartedStartsNoRotation: --restarted on a node where no rotation
// was ever made records nothing, starts none and writes nothing: it says
// that there is nothing to record and how a rotation starts.
func TestRestartedStartsNoRotation(t *testing.T) {
	f := newFixture(t)
	before := snapshotNode(t, f.node.Dir)
	var out bytes.Buffer
	o := f.options(func(o *Options) { o.Restarted = true })
	o.Out = &out
	rec, err := Rotate(context.Background(), "ca", o)
	if err != nil || rec != nil {
		t.Fatalf("record %+v, %v; want none", rec, err)
	}
	if !strings.Contains(out.String(), "ca: no rotation is in progress and no restart is owed: nothing to record (a new rotation starts with `certctl ca rotate ca`, without --restarted)") {
		t.Errorf("output:\n%s\nwant it to say there is nothing to record", out.String())
	}
	treetest.AssertSame(t, before, snapshotNode(t, f.node.Dir))
}

// TestStageBackupAdviceAfterTheEnd: a trust or reissue backup, restored
// once the rotation has finished, said only "go back with `certctl ca
// rotate ca --abort`", which then fails ("no rotation of ca is in
// progress"). The refusal must also say what applies once it has ended.
func TestStageBackupAdviceAfterTheEnd(t *testing.T) {
	f := newFixture(t)
	for range 3 { // trust, reissue, finish
		f.now = f.now.Add(2 * time.Hour)
		f.rotate(t, pki.CAName, nil)
	}
	root, err := renewal.BackupRoot(f.node.CertDir())
	if err != nil {
		t.Fatal(err)
	}
	backups, err := renewal.ListBackups(root)
	if err != nil || len(backups) < 3 {
		t.Fatalf("backups %v, %v", backups, err)
	}
	// The oldest two: trust's and reissue's.
	for _, b := range backups[:2] {
		_, err := renewal.Restore(b.Dir, renewal.Options{CertDir: f.node.CertDir(), KubeconfigDir: f.node.Dir, Now: func() time.Time { return f.now }, Rand: rand.Reader})
		if err == nil || !strings.Contains(err.Error(), "once it has ended") || !strings.Contains(err.Error(), "rotate again with `certctl ca rotate ca`") {
			t.Errorf("restore of %s after finish: %v, want the advice for a rotation that has ended", b.Dir, err)
		}
	}
}
