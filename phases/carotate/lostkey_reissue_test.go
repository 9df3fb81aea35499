package carotate

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes/fake"

	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/pki"
)

// TestLostNewKeyAtReissueAborts: at stage reissue the new CA signs with
// the key file of the CA (ca.key), and the old key is beside it. With that
// key gone (no backup holds it: trust made it), finish, which keeps the new
// CA signing, cannot go on, but --abort re-issues every certificate with
// the old CA and drops the new one: it needs no more than the new CA's
// certificate. The abort failed with a bare "no such file" for ca.key, so
// the way out was by hand. It now goes back, and the refusal of finish says
// so.
func TestLostNewKeyAtReissueAborts(t *testing.T) {
	for _, name := range []string{pki.CAName, pki.SAName} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			p := k(t, name).paths(f.node.CertDir())
			f.rotate(t, name, nil)
			f.now = f.now.Add(time.Minute)
			f.rotate(t, name, nil)
			restartsRecorded(t, f, name)
			if err := os.Remove(p.Key); err != nil {
				t.Fatal(err)
			}
			f.now = f.now.Add(2 * DefaultMaxTokenLifetime) // sa: finish waits for the tokens
			_, err := Rotate(context.Background(), name, f.options(nil))
			if err == nil || !strings.Contains(err.Error(), p.Key) || !strings.Contains(err.Error(), "--abort") {
				t.Fatalf("finish without %s: %v, want a refusal naming it and --abort", p.Key, err)
			}
			if got := problems(t, f, name); !strings.Contains(got, "--abort") {
				t.Errorf("ca status problems: %q, want the way out (--abort)", got)
			}
			var out bytes.Buffer
			rec, err := Rotate(context.Background(), name, f.options(func(o *Options) { o.Abort, o.Out = true, &out }))
			if err != nil {
				t.Fatalf("abort from reissue without %s: %v\n%s", p.Key, err, out.String())
			}
			if strings.Contains(out.String(), "for stage reissue again") || !strings.Contains(out.String(), "--abort --restarted") {
				t.Errorf("abort from reissue without the new key offers reissue again, which cannot sign, or not the abort:\n%s", out.String())
			}
			if rec.Stage != StageTrust || !rec.Aborting {
				t.Fatalf("abort from reissue left stage %q (aborting %v), want trust on the way back", rec.Stage, rec.Aborting)
			}
			f.now = f.now.Add(time.Minute)
			rec = f.rotate(t, name, func(o *Options) { o.Abort = true })
			if rec.Stage != StageAborted {
				t.Fatalf("second abort left stage %q", rec.Stage)
			}
			if got, err := trusted(k(t, name), p.Trust); err != nil || len(got) != 1 || got[0] != rec.OldCA {
				t.Errorf("%s after the abort holds %v (%v), want the old CA alone %s", p.Trust, got, err, rec.OldCA)
			}
			if got := problems(t, f, name); got != "" {
				t.Errorf("ca status after the abort: %q", got)
			}
		})
	}
}

// TestLostNewKeyAtReissueAbortsInACluster: the same on a node of a
// cluster's rotation, whose abort then writes its entry of the cluster
// record: it read the new CA's key again to do so, and failed once the
// stage was made. The Secret, which the node that lost the key could not
// upload again, stays as it is while another node has not re-issued.
func TestLostNewKeyAtReissueAbortsInACluster(t *testing.T) {
	const ca = pki.CAName
	cs, a, b, _ := twoNodesAtTrust(t, ca)
	_, _ = b.try(t, ca, nil) // refused while cp-1 has not restarted, but records cp-2's restart
	a.rotate(t, ca, nil)
	if err := os.Remove(k(t, ca).paths(a.node.CertDir()).Key); err != nil {
		t.Fatal(err)
	}
	a.rotate(t, ca, func(o *Options, c *ClusterOptions) { o.Abort = true })
	if got := clusterRecord(t, cs, ca).Nodes["cp-1"]; got.Stage != StageTrust {
		t.Errorf("cp-1 in the cluster record after its abort from reissue: %+v, want stage trust", got)
	}
	if !secretExists(t, cs, ca) {
		t.Error("the Secret went while cp-2 had not re-issued")
	}
}

// TestLostNewKeyAtTrustRefetchedInACluster: on a node of a cluster's
// rotation, the new CA's key that trust joined with (ca.new.key) is gone
// before reissue. The Secret still holds it while a node has not
// re-issued: reissue with --certificate-key reads it again from there and
// goes on, where the only way out was an abort on every node and a new
// rotation. Without the certificate key, the refusal says so.
func TestLostNewKeyAtTrustRefetchedInACluster(t *testing.T) {
	for _, name := range []string{pki.CAName, pki.SAName} {
		t.Run(name, func(t *testing.T) {
			cs, a, b, certKey := twoNodesAtTrust(t, name)
			withKey := func(o *Options, c *ClusterOptions) { c.CertificateKey = certKey }
			p := k(t, name).paths(b.node.CertDir())
			if err := os.Remove(p.NewKey); err != nil {
				t.Fatal(err)
			}
			// Without the certificate key: refused, saying how to go on.
			_, err := b.try(t, name, nil)
			treetest.ErrMentions(t, err, p.NewKey, "--certificate-key KEY", "--abort")
			a.rotate(t, name, nil) // reissue on cp-1
			out := b.rotate(t, name, withKey)
			if !strings.Contains(out, "read it again from") {
				t.Errorf("reissue on cp-2 does not say it read the lost key again:\n%s", out)
			}
			rec, err := ReadRecord(p.Record)
			if err != nil || rec.Stage != StageReissue {
				t.Fatalf("cp-2's record after reissue: %+v, %v; want stage reissue", rec, err)
			}
			key, err := pki.ReadKeyFile(p.Key)
			if err != nil {
				t.Fatal(err)
			}
			if got := keyFingerprint(key.Public()); name == pki.SAName && got != rec.NewCA {
				t.Errorf("sa.key after reissue is sha256 %s, want the new key %s", got, rec.NewCA)
			}
			if name == pki.CAName {
				cert, _, err := pki.ReadCertFile(p.NewCert)
				if err != nil {
					t.Fatal(err)
				}
				if pki.KeyMatches(cert, key) != nil {
					t.Errorf("%s after reissue is not the new CA's key", p.Key)
				}
			}
			if got := problems(t, b.fixture, name); got != "" {
				t.Errorf("ca status on cp-2 after reissue: %q", got)
			}
			if secretExists(t, cs, name) {
				t.Error("the Secret is left once both nodes re-issued")
			}
		})
	}
}

// TestLostOldKeyAtReissueFinishesInACluster: at stage reissue the old
// CA's key (ca.old.key) is needed only by --abort; finish goes on without
// it. On a node of a cluster's rotation, the write of its cluster entry
// read that key too, so the node could neither record its restart nor
// finish: the entry needs the CAs' certificates alone.
func TestLostOldKeyAtReissueFinishesInACluster(t *testing.T) {
	const ca = pki.CAName
	cs, a, b, _ := twoNodesAtTrust(t, ca)
	_, _ = b.try(t, ca, nil) // records cp-2's restart
	a.rotate(t, ca, nil)     // reissue on cp-1
	b.rotate(t, ca, nil)     // reissue on cp-2
	p := k(t, ca).paths(a.node.CertDir())
	if err := os.Remove(p.OldKey); err != nil {
		t.Fatal(err)
	}
	_, _ = b.try(t, ca, nil) // records cp-2's restart at reissue
	out, err := a.try(t, ca, nil)
	if err != nil && strings.Contains(err.Error(), p.OldKey) {
		t.Fatalf("cp-1 without %s: %v, want its cluster entry written and finish not stopped by that key\n%s", p.OldKey, err, out)
	}
	if got := clusterRecord(t, cs, ca).Nodes["cp-1"]; !got.Restarted {
		t.Errorf("cp-1's cluster entry after a run without %s: %+v, want its restart recorded", p.OldKey, got)
	}
}

// twoNodesAtTrust starts the rotation of ca on cp-1 and joins cp-2 to it
// with the certificate key cp-1 printed, on one fake API server cs.
func twoNodesAtTrust(t *testing.T, ca string) (cs *fake.Clientset, a, b clusterNode, key string) {
	t.Helper()
	cs = fake.NewClientset()
	a = clusterNode{fixture: newFixture(t), name: "cp-1", cs: cs}
	b = clusterNode{fixture: cloneFixture(t, a.fixture), name: "cp-2", cs: cs}
	m := keyLine.FindStringSubmatch(a.rotate(t, ca, nil))
	if m == nil {
		t.Fatal("trust on the first node printed no certificate key")
	}
	b.rotate(t, ca, func(o *Options, c *ClusterOptions) { c.CertificateKey = m[1] })
	return cs, a, b, m[1]
}
