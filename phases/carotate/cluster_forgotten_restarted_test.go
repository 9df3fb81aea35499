package carotate

import (
	"reflect"
	"strings"
	"testing"

	"k8s.io/client-go/kubernetes/fake"
)

// TestForgottenRestartedAfterAbort: a node forgotten at reissue whose
// --abort took it back to trust (re-issued by the old CA, its components
// owing a restart) and that restarted them was refused when it ran
// --restarted, though that only says the components read the old CA's
// certificates: the refusal said to abort, and --abort then asked for
// --restarted. --restarted there now records the restarts on the node and
// does nothing else (no entry, no stage), saying that --abort takes it
// back to the old CA, which then goes on without --restarted. A
// --restarted that would make a stage (the restarts recorded already: it
// would go to reissue again) is still refused.
func TestForgottenRestartedAfterAbort(t *testing.T) {
	const ca = "ca"
	for _, dryRun := range []bool{true, false} {
		name := "real"
		if dryRun {
			name = "dry run"
		}
		t.Run(name, func(t *testing.T) {
			b := forgottenAtReissue(t, ca)
			before := clusterRecord(t, b.cs, ca)
			out := b.rotate(t, ca, func(o *Options, c *ClusterOptions) { o.Restarted, o.DryRun = true, dryRun })
			want := "the restarts after the abort from reissue are recorded, and nothing else done; `certctl ca rotate ca --abort` takes it back to the old CA"
			if dryRun {
				want = "the restarts after the abort from reissue would be recorded, and nothing else done; nothing was written; `certctl ca rotate ca --abort` takes it back to the old CA"
			}
			if !strings.Contains(out, want) {
				t.Errorf("cp-2's --restarted does not say %q:\n%s", want, out)
			}
			rec, err := ReadRecord(k(t, ca).paths(b.node.CertDir()).Record)
			if err != nil || rec.Stage != StageTrust || !rec.Aborting || rec.Restarted == dryRun {
				t.Fatalf("cp-2's local record after --restarted (dry run %v): %+v, %v", dryRun, rec, err)
			}
			if after := clusterRecord(t, b.cs, ca); !reflect.DeepEqual(after, before) {
				t.Errorf("cp-2's --restarted changed the cluster record: %+v, was %+v", after, before)
			}
			if dryRun {
				return
			}
			// The restarts recorded, --restarted would go to reissue again.
			b.refused(t, ca, func(o *Options, c *ClusterOptions) { o.Restarted = true },
				"node cp-2 was taken out of the rotation of ca with --forget-node", "at stage trust (aborting)", "`certctl ca rotate ca --abort`", "nothing was changed")
			out = b.rotate(t, ca, func(o *Options, c *ClusterOptions) { o.Abort, o.Restarted = true, false })
			if !strings.Contains(out, "removed it from key forgotten.json") {
				t.Errorf("cp-2's abort after --restarted does not take it out of forgotten.json:\n%s", out)
			}
			if rec, err := ReadRecord(k(t, ca).paths(b.node.CertDir()).Record); err != nil || rec.Stage != StageAborted {
				t.Errorf("cp-2's local record after its abort: %+v, %v", rec, err)
			}
		})
	}
}

// forgottenAtReissue makes a rotation of ca on cp-1 and cp-2, both at
// reissue, cp-2 forgotten from it on cp-1, then aborted to trust on cp-2
// (its components owing a restart).
func forgottenAtReissue(t *testing.T, ca string) clusterNode {
	t.Helper()
	cs := fake.NewClientset()
	a := clusterNode{fixture: newFixture(t), name: "cp-1", cs: cs}
	b := clusterNode{fixture: cloneFixture(t, a.fixture), name: "cp-2", cs: cs}
	key := keyLine.FindStringSubmatch(a.rotate(t, ca, nil))[1]
	b.rotate(t, ca, func(o *Options, c *ClusterOptions) { c.CertificateKey = key })
	if _, err := a.try(t, ca, nil); err == nil { // refused, cp-2 not restarted; records cp-1's restarts
		t.Fatal("reissue on cp-1 was not refused")
	}
	b.rotate(t, ca, nil) // reissue
	a.rotate(t, ca, nil) // reissue
	a.rotate(t, ca, func(o *Options, cc *ClusterOptions) { o.Restarted, cc.ForgetNode = false, "cp-2" })
	out := b.rotate(t, ca, func(o *Options, c *ClusterOptions) { o.Abort, o.Restarted = true, false })
	if !strings.Contains(out, "is out of the rotation (--forget-node)") {
		t.Fatalf("cp-2's abort from reissue:\n%s", out)
	}
	if rec, err := ReadRecord(k(t, ca).paths(b.node.CertDir()).Record); err != nil || rec.Stage != StageTrust || !rec.Aborting || rec.Restarted {
		t.Fatalf("cp-2's local record after its abort from reissue: %+v, %v", rec, err)
	}
	return b
}
