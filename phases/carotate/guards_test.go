package carotate

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/lock"
	"github.com/certctl/certctl/internal/treetest"
)

// TestReissueRefusesTrustFilesChanged: reissue makes the new CA sign the
// certificates the components serve and present; it is safe only because
// every trust file holds the new CA since stage trust, and the components
// restarted to read them. A trust file put back to the old CA alone after
// trust (a configuration-management run, a restore from a backup, a
// kubeconfig written by kubeadm, which embeds the first certificate of
// ca.crt) was not noticed: reissue went on, and a
// component that read that file would reject the new certificates. Reissue
// must refuse, name the file and change nothing, as `ca status` reports it.
func TestReissueRefusesTrustFilesChanged(t *testing.T) {
	tests := []struct {
		name, ca string
		change   func(t *testing.T, f *fixture)
		want     []string
	}{
		{name: "ca.crt holds the old CA alone", ca: "ca",
			change: func(t *testing.T, f *fixture) {
				old, err := os.ReadFile(filepath.Join(f.node.CertDir(), "ca.old.crt"))
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(f.node.CertDir(), "ca.crt"), old, 0o644); err != nil {
					t.Fatal(err)
				}
			}, want: []string{"ca.crt", "stage trust", "--abort", "nothing was changed"}},
		{name: "a kubeconfig trusts the old CA alone", ca: "ca",
			change: func(t *testing.T, f *fixture) {
				old, err := os.ReadFile(filepath.Join(f.node.CertDir(), "ca.old.crt"))
				if err != nil {
					t.Fatal(err)
				}
				path := filepath.Join(f.node.Dir, "scheduler.conf")
				data, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				data = regexp.MustCompile(`certificate-authority-data: \S+`).ReplaceAll(data, []byte("certificate-authority-data: "+base64.StdEncoding.EncodeToString(old)))
				if err := os.WriteFile(path, data, 0o600); err != nil {
					t.Fatal(err)
				}
			}, want: []string{"scheduler.conf", "stage trust", "nothing was changed"}},
		{name: "front-proxy-ca.crt holds the old CA alone", ca: "front-proxy-ca",
			change: func(t *testing.T, f *fixture) {
				old, err := os.ReadFile(filepath.Join(f.node.CertDir(), "front-proxy-ca.old.crt"))
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(f.node.CertDir(), "front-proxy-ca.crt"), old, 0o644); err != nil {
					t.Fatal(err)
				}
			}, want: []string{"front-proxy-ca.crt", "stage trust"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.rotate(t, tt.ca, nil) // trust
			tt.change(t, f)
			f.now = f.now.Add(time.Minute)
			for _, dry := range []bool{true, false} {
				before := treetest.Snapshot(t, f.node.Dir)
				o := f.options(func(o *Options) { o.DryRun = dry })
				var out bytes.Buffer
				o.Out = &out
				rec, err := Rotate(context.Background(), tt.ca, o)
				if err == nil {
					t.Fatalf("reissue of %s (dry run %v) with a trust file changed since trust succeeded: stage %s\n%s", tt.ca, dry, rec.Stage, out.String())
				}
				treetest.ErrMentions(t, err, tt.want...)
				after := treetest.Snapshot(t, f.node.Dir)
				delete(before, filepath.Join(f.node.Dir, lock.FileName))
				delete(after, filepath.Join(f.node.Dir, lock.FileName))
				treetest.AssertSame(t, before, after)
			}
		})
	}
}

// TestAbortAfterAbortWaitsForRestarts: --abort from reissue re-issues the
// certificates by the old CA, and the components must restart to present
// them; until they do, those that restarted after reissue still present
// certificates of the new CA. The next --abort drops the new CA from every
// trust file (kube-apiserver re-reads its --client-ca-file at once), so it
// was a lock-out of kube-controller-manager, kube-scheduler and the
// kubelet, yet it was never refused ("--abort is never refused"). It must
// be refused as a forward stage is, until --restarted says they restarted.
func TestAbortAfterAbortWaitsForRestarts(t *testing.T) {
	for _, name := range []string{"ca", "front-proxy-ca", "etcd-ca", "sa"} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			f.rotate(t, name, nil) // trust
			f.now = f.now.Add(time.Minute)
			f.rotate(t, name, nil) // reissue; the components restart after it
			f.now = f.now.Add(time.Minute)
			rec := f.rotate(t, name, func(o *Options) { o.Abort = true }) // back to trust, re-issued by the old CA
			if rec.Stage != StageTrust || !rec.Aborting || rec.Restarted {
				t.Fatalf("after --abort from reissue: %+v", rec)
			}
			f.now = f.now.Add(time.Minute)

			before := treetest.Snapshot(t, f.node.Dir)
			o := f.options(func(o *Options) { o.Abort, o.Restarted = true, false })
			var out bytes.Buffer
			o.Out = &out
			if rec, err := Rotate(context.Background(), name, o); err == nil {
				t.Fatalf("--abort of %s while the restarts of the last --abort are owed went on to stage %s\n%s", name, rec.Stage, out.String())
			} else {
				treetest.ErrMentions(t, err, "must restart", "--restarted")
			}
			after := treetest.Snapshot(t, f.node.Dir)
			delete(before, filepath.Join(f.node.Dir, lock.FileName))
			delete(after, filepath.Join(f.node.Dir, lock.FileName))
			treetest.AssertSame(t, before, after)

			if rec := f.rotate(t, name, func(o *Options) { o.Abort, o.Restarted = true, true }); rec.Stage != StageAborted {
				t.Fatalf("--abort --restarted: stage %s, want %s", rec.Stage, StageAborted)
			}
		})
	}
}

// TestExternalCANotRotated: with an external CA (docs/external-ca.md) the
// CA's key is not on the node, by design, and certctl does not rotate it.
// `ca status` reported the missing key as a problem and said to "restore
// the files from the last backup", and `ca rotate` said to "fix the CA".
// Status must report no problem and say that certctl does not rotate it;
// rotate must refuse, say so, and change nothing.
func TestExternalCANotRotated(t *testing.T) {
	for _, tt := range []struct{ name, key string }{{"ca", "ca.key"}, {"front-proxy-ca", "front-proxy-ca.key"}, {"etcd-ca", "etcd/ca.key"}} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			if err := os.Remove(filepath.Join(f.node.CertDir(), tt.key)); err != nil {
				t.Fatal(err)
			}
			k, _ := kindOf(tt.name)
			st, err := inspect(k, false, f.node.CertDir(), f.node.Dir, f.now, "")
			if err != nil {
				t.Fatal(err)
			}
			if len(st.Problems) > 0 || !strings.Contains(st.Next, "external CA") {
				t.Errorf("ca status of an external %s: problems %q, next %q; want no problem and a next that says certctl does not rotate an external CA", tt.name, st.Problems, st.Next)
			}
			before := treetest.Snapshot(t, f.node.Dir)
			o := f.options(nil)
			var out bytes.Buffer
			o.Out = &out
			if _, err := Rotate(context.Background(), tt.name, o); err == nil {
				t.Fatalf("ca rotate %s of an external CA succeeded\n%s", tt.name, out.String())
			} else {
				treetest.ErrMentions(t, err, tt.key, "external CA", "nothing was changed")
			}
			after := treetest.Snapshot(t, f.node.Dir)
			delete(before, filepath.Join(f.node.Dir, lock.FileName))
			delete(after, filepath.Join(f.node.Dir, lock.FileName))
			treetest.AssertSame(t, before, after)
		})
	}
}

// TestLostRecordRefused: the record says at which stage a rotation is.
// Without it (deleted with the dot-files, or a folder restored without
// them) `ca status` said "none" with no problem, and `ca rotate` started a
// new rotation on top of the one in progress: from reissue, it took the new
// CA for the old one and wrote ca.crt without the CA that was being
// replaced, skipping every check of finish, and left ca.old.key, the
// replaced CA's key, beside a ca.old.crt that it does not match. Both must
// say that the rotation's files are there without their record, and
// rotate must change nothing.
func TestLostRecordRefused(t *testing.T) {
	for _, stages := range []int{1, 2} {
		t.Run([]string{"", "trust", "reissue"}[stages], func(t *testing.T) {
			f := newFixture(t)
			for i := range stages {
				restarted := func(o *Options) { o.Restarted = i > 0 }
				f.rotate(t, "sa", restarted)
				f.rotate(t, "ca", restarted)
				f.now = f.now.Add(time.Minute)
			}
			for _, name := range []string{"ca", "sa"} {
				k, _ := kindOf(name)
				p := k.paths(f.node.CertDir())
				if err := os.Remove(p.Record); err != nil {
					t.Fatal(err)
				}
				st, err := inspect(k, false, f.node.CertDir(), f.node.Dir, f.now, "")
				if err != nil {
					t.Fatal(err)
				}
				if len(st.Problems) == 0 {
					t.Errorf("ca status of %s with its record lost: no problem, next %q", name, st.Next)
				}
				before := treetest.Snapshot(t, f.node.Dir)
				o := f.options(func(o *Options) { o.Restarted = false })
				var out bytes.Buffer
				o.Out = &out
				if rec, err := Rotate(context.Background(), name, o); err == nil {
					t.Fatalf("ca rotate %s with the record of its rotation lost started stage %s\n%s", name, rec.Stage, out.String())
				} else {
					treetest.ErrMentions(t, err, filepath.Base(p.Record), "nothing was changed")
				}
				after := treetest.Snapshot(t, f.node.Dir)
				delete(before, filepath.Join(f.node.Dir, lock.FileName))
				delete(after, filepath.Join(f.node.Dir, lock.FileName))
				treetest.AssertSame(t, before, after)
			}
		})
	}
}

// TestNodeOnlyFinishSaysExtensionAuth: kube-apiserver drops a CA from
// ConfigMap kube-system/extension-apiserver-authentication only when it
// expires, so after a rotation of ca or front-proxy-ca the old CA stays
// trusted by extension API servers for years. With the cluster record the
// last finish removes it; with --node-only certctl does not touch the
// cluster, and docs/ca-rotation.md tells the user to delete the ConfigMap,
// but finish said nothing about it: the rotation looked done. Finish must
// say what to run; the CAs that are not published there need no line.
func TestNodeOnlyFinishSaysExtensionAuth(t *testing.T) {
	for _, tt := range []struct {
		name string
		want bool
	}{{"ca", true}, {"front-proxy-ca", true}, {"etcd-ca", false}, {"sa", false}} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			var out bytes.Buffer
			for i := range 3 {
				o := f.options(func(o *Options) { o.Restarted, o.Force = i > 0, true })
				out.Reset()
				o.Out = &out
				if _, err := Rotate(context.Background(), tt.name, o); err != nil {
					t.Fatal(err)
				}
				f.now = f.now.Add(2 * time.Hour)
			}
			says := strings.Contains(out.String(), "kubectl -n kube-system delete configmap extension-apiserver-authentication")
			if says != tt.want {
				t.Errorf("finish of %s on a node alone: says to delete extension-apiserver-authentication %v, want %v:\n%s", tt.name, says, tt.want, out.String())
			}
		})
	}
}

// TestSigningFlagsThroughAnotherPath: kube-controller-manager's manifest
// may name ca.crt through another path than --cert-dir (a symbolic link:
// /etc/kubernetes pointing at a data disk, certctl given the real folder).
// certctl warned "not with the ca CA: its manifest is left as it is" and
// went on, so after trust kube-controller-manager signed with the bundle
// ca.crt, which its signer refuses: no CSR was signed any more. The same
// file must be recognised, and the flags edited in the manifest's own
// spelling, the one its hostPath volumes mount.
func TestSigningFlagsThroughAnotherPath(t *testing.T) {
	f := newFixture(t)
	link := filepath.Join(t.TempDir(), "etc-kubernetes")
	if err := os.Symlink(f.node.Dir, link); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(f.manifestDir, "kube-controller-manager.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, bytes.ReplaceAll(data, []byte(f.node.Dir+"/"), []byte(link+"/")), 0o600); err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"ca.old.crt", "ca.new.crt", "ca.crt"} {
		f.rotate(t, "ca", func(o *Options) { o.Restarted = i > 0 })
		f.now = f.now.Add(time.Minute)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for flag, file := range map[string]string{"cluster-signing-cert-file": want, "cluster-signing-key-file": "ca.key"} {
			line := "--" + flag + "=" + filepath.Join(link, "pki", file) + "\n"
			if !bytes.Contains(data, []byte(line)) {
				t.Errorf("after step %d kube-controller-manager's manifest has no %q:\n%s", i+1, line, data)
			}
		}
	}
}

// TestDryRunShowsRestartsOwed: --dry-run "reads and checks the next stage";
// with restarts owed and neither --restarted nor --restart-control-plane,
// the real call is refused, but the dry run printed the next stage and
// succeeded: a pre-flight check in a script passed and the real call
// failed. It must give the same refusal; with --restarted it goes on.
func TestDryRunShowsRestartsOwed(t *testing.T) {
	f := newFixture(t)
	f.rotate(t, "ca", nil) // trust, restarts owed
	f.now = f.now.Add(time.Minute)
	o := f.options(func(o *Options) { o.DryRun, o.Restarted = true, false })
	var out bytes.Buffer
	o.Out = &out
	if _, err := Rotate(context.Background(), "ca", o); err == nil {
		t.Fatalf("dry run of reissue with restarts owed succeeded:\n%s", out.String())
	} else {
		treetest.ErrMentions(t, err, "must restart", "--restarted")
	}
	o = f.options(func(o *Options) { o.DryRun, o.Restarted = true, true })
	out.Reset()
	o.Out = &out
	if _, err := Rotate(context.Background(), "ca", o); err != nil {
		t.Fatalf("dry run of reissue with --restarted: %v", err)
	}
}
