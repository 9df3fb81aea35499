package carotate

import (
	"context"
	"crypto/x509"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/certctl/certctl/pki"
)

// TestAbortRefusedOnceANodeFinished: a node that finished trusts the new
// CA alone and cannot go back, so another node must not go back to
// signing with the old CA: its certificates would fail there. An abort
// from reissue (the old CA signs again) and one from trust (its
// certificates of the old CA stay, the new CA dropped) are both refused,
// naming the finished node, and change nothing; going on still works.
func TestAbortRefusedOnceANodeFinished(t *testing.T) {
	for _, tc := range []struct {
		name string
		// reissueB: cp-2 re-issues before cp-1 finishes (else cp-1
		// finishes with --force while cp-2 is at trust).
		reissueB bool
	}{
		{name: "from reissue", reissueB: true},
		{name: "from trust after a forced finish", reissueB: false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cs := fake.NewClientset()
			var serving []*x509.Certificate
			a := clusterNode{fixture: newFixture(t), name: "cp-1", cs: cs, serving: &serving}
			b := clusterNode{fixture: cloneFixture(t, a.fixture), name: "cp-2", cs: cs, serving: &serving}
			const ca = "etcd-ca"
			key := keyLine.FindStringSubmatch(a.rotate(t, ca, nil))[1]
			b.rotate(t, ca, func(o *Options, c *ClusterOptions) { c.CertificateKey = key })
			// A refused call with --restarted records that the node's
			// components restarted, which the other node waits for.
			b.try(t, ca, nil)
			a.rotate(t, ca, nil)
			force := func(o *Options, c *ClusterOptions) { o.Force = true }
			if tc.reissueB {
				b.rotate(t, ca, nil)
				b.try(t, ca, nil)
				force = nil
			}
			leaf, _, err := pki.ReadCertFile(filepath.Join(a.node.CertDir(), "etcd", "server.crt"))
			if err != nil {
				t.Fatal(err)
			}
			serving = []*x509.Certificate{leaf}
			a.rotate(t, ca, force)
			if got := clusterRecord(t, cs, ca).Nodes["cp-1"].Stage; got != StageFinished {
				t.Fatalf("cp-1 is at stage %s, want finished", got)
			}

			abort := func(o *Options, c *ClusterOptions) { o.Abort = true }
			b.refused(t, ca, abort, "abort of etcd-ca on node cp-2 refused", "node cp-1", "finished", "certctl ca rotate etcd-ca")
			if !tc.reissueB {
				// Nor does the finished node start a new rotation meanwhile.
				a.rotate(t, ca, func(o *Options, c *ClusterOptions) { o.Restarted = true }) // records its restarts
				a.refused(t, ca, nil, "node cp-1 finished the rotation of etcd-ca", "still in progress on other nodes")
				report, err := Status(context.Background(), StatusOptions{CertDir: a.node.CertDir(), KubeconfigDir: a.node.Dir, Now: a.now,
					Connect: func() (kubernetes.Interface, string, error) { return cs, "test", nil }})
				if err != nil {
					t.Fatal(err)
				}
				for _, st := range report.CAs {
					if st.CA == ca && !strings.HasPrefix(st.Next, "wait: other nodes are still in this rotation") {
						t.Errorf("ca status's NEXT of %s on cp-1 is %q, which the rotation refuses", ca, st.Next)
					}
				}
			}
			// Going on is the way out.
			b.rotate(t, ca, nil)
			if !tc.reissueB {
				b.rotate(t, ca, nil)
			}
			if got := clusterRecord(t, cs, ca).Nodes["cp-2"].Stage; got != StageFinished {
				t.Fatalf("cp-2 is at stage %s, want finished", got)
			}
		})
	}
}

// TestAbortFromReissueAdvice: once every node re-issued, the Secret is
// deleted; an --abort from reissue on one node writes it again with a new
// certificate key. It said "on each other control-plane node run ...
// --certificate-key": the other nodes of the rotation hold the new CA,
// need no key, and the key they joined with no longer opens the Secret.
func TestAbortFromReissueAdvice(t *testing.T) {
	cs := fake.NewClientset()
	a := clusterNode{fixture: newFixture(t), name: "cp-1", cs: cs}
	b := clusterNode{fixture: cloneFixture(t, a.fixture), name: "cp-2", cs: cs}
	const ca = "etcd-ca"
	key := keyLine.FindStringSubmatch(a.rotate(t, ca, nil))[1]
	b.rotate(t, ca, func(o *Options, c *ClusterOptions) { c.CertificateKey = key })
	b.try(t, ca, nil) // records cp-2's restarts
	a.rotate(t, ca, nil)
	b.rotate(t, ca, nil)
	out := a.rotate(t, ca, func(o *Options, c *ClusterOptions) { o.Abort = true })
	if strings.Contains(out, "On each other control-plane node") {
		t.Errorf("the abort from reissue tells the other nodes to join again:\n%s", out)
	}
	if want := "Node cp-2 in the rotation holds the new CA already and needs no key"; !strings.Contains(out, want) {
		t.Errorf("the abort from reissue says:\n%s\nwant %q", out, want)
	}
	// And they need none: cp-2 goes on without it.
	b.rotate(t, ca, func(o *Options, c *ClusterOptions) { o.Abort = true })
	if got := clusterRecord(t, cs, ca).Nodes["cp-2"]; got.Stage != StageTrust || !got.Aborting {
		t.Fatalf("cp-2 after its abort: %+v", got)
	}
}
