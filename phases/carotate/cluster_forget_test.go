package carotate

import (
	"context"
	"crypto/x509"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
)

// TestForgetNode: a control-plane node removed mid-rotation stays at
// trust in the cluster record, and reissue waited for it for good (and
// every later rotation was refused) until someone edited the ConfigMap.
// The refusal and ca status now point to --forget-node, which removes its
// entry and nothing else, once the node has no Node object (or with
// --force); never this node's own.
func TestForgetNode(t *testing.T) {
	ctx := context.Background()
	cs := fake.NewClientset()
	a := clusterNode{fixture: newFixture(t), name: "cp-1", cs: cs}
	c := clusterNode{fixture: cloneFixture(t, a.fixture), name: "cp-3", cs: cs}
	const ca = "front-proxy-ca"
	cp1 := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "cp-1", Labels: map[string]string{"node-role.kubernetes.io/control-plane": ""}}}
	if _, err := cs.CoreV1().Nodes().Create(ctx, cp1, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	key := keyLine.FindStringSubmatch(a.rotate(t, ca, nil))[1]
	c.rotate(t, ca, func(o *Options, cc *ClusterOptions) { cc.CertificateKey = key })
	// cp-3 is removed from the cluster before it restarted.
	a.refused(t, ca, nil, "node cp-3 is at stage trust", "node cp-3 has no control-plane Node object", "certctl ca rotate front-proxy-ca --forget-node NAME")

	forget := func(node string, force bool) func(o *Options, cc *ClusterOptions) {
		return func(o *Options, cc *ClusterOptions) { o.Restarted, o.Force, cc.ForgetNode = false, force, node }
	}
	cm := func() string {
		got, err := cs.CoreV1().ConfigMaps("kube-system").Get(ctx, ClusterPrefix+ca, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return got.ResourceVersion + got.Data[recordKey]
	}
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "cp-3", Labels: map[string]string{"node-role.kubernetes.io/control-plane": ""}}}
	if _, err := cs.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	before := cm()
	for _, tt := range []struct {
		name   string
		change func(o *Options, cc *ClusterOptions)
		want   []string
	}{
		{"a Node object", forget("cp-3", false), []string{"node cp-3 still has a control-plane Node object", "kubectl delete node cp-3", "--force", "nothing was changed"}},
		{"this node", forget("cp-1", true), []string{"--forget-node cp-1 is this node", "--abort", "nothing was changed"}},
		{"not in the record", forget("cp-9", true), []string{"node cp-9 is not in the cluster record", "nodes cp-1, cp-3", "nothing was changed"}},
		{"with a stage's flag", func(o *Options, cc *ClusterOptions) { forget("cp-3", false)(o, cc); o.Abort = true }, []string{"--forget-node", "drop --abort"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a.refused(t, ca, tt.change, tt.want...)
			if got := cm(); got != before {
				t.Errorf("the cluster record changed:\n%s\nwant\n%s", got, before)
			}
		})
	}

	if err := cs.CoreV1().Nodes().Delete(ctx, "cp-3", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	report, err := Status(ctx, StatusOptions{CertDir: a.node.CertDir(), KubeconfigDir: a.node.Dir, Now: a.now,
		Connect: func() (kubernetes.Interface, string, error) { return cs, "test", nil }})
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range report.CAs {
		if st.CA != ca || st.Cluster == nil {
			continue
		}
		for _, n := range st.Cluster.Nodes {
			if hint := strings.Contains(n.Next, "--forget-node"); hint != (n.Name == "cp-3") {
				t.Errorf("ca status's NEXT of %s: %q; want --forget-node for cp-3 alone, which has no Node object", n.Name, n.Next)
			}
		}
	}

	entry := clusterRecord(t, cs, ca).Nodes["cp-1"]
	snap := snapshotNode(t, a.node.Dir)
	out := a.rotate(t, ca, forget("cp-3", false))
	if !strings.Contains(out, "removed node cp-3 (at stage trust, its components not restarted since)") {
		t.Errorf("--forget-node says %q", out)
	}
	rec := clusterRecord(t, cs, ca)
	if _, ok := rec.Nodes["cp-3"]; ok || len(rec.Nodes) != 1 || !sameEntry(rec.Nodes["cp-1"], entry) {
		t.Fatalf("the cluster record after --forget-node cp-3: %+v, want cp-1's entry alone, unchanged", rec.Nodes)
	}
	snapshotAfter := snapshotNode(t, a.node.Dir)
	for path, v := range snap {
		if snapshotAfter[path] != v {
			t.Errorf("--forget-node changed %s", path)
		}
	}
	// The rotation goes on without it.
	a.rotate(t, ca, nil)
	if got := clusterRecord(t, cs, ca).Nodes["cp-1"].Stage; got != StageReissue {
		t.Fatalf("reissue after --forget-node left cp-1 at stage %s", got)
	}
}

// TestForgetNodeForce: --force forgets a node whose Node object is left
// behind.
func TestForgetNodeForce(t *testing.T) {
	ctx := context.Background()
	cs := fake.NewClientset()
	a := clusterNode{fixture: newFixture(t), name: "cp-1", cs: cs}
	c := clusterNode{fixture: cloneFixture(t, a.fixture), name: "cp-3", cs: cs}
	const ca = "etcd-ca"
	key := keyLine.FindStringSubmatch(a.rotate(t, ca, nil))[1]
	c.rotate(t, ca, func(o *Options, cc *ClusterOptions) { cc.CertificateKey = key })
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "cp-3"}}
	if _, err := cs.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	out := a.rotate(t, ca, func(o *Options, cc *ClusterOptions) {
		o.Restarted, o.Force, o.DryRun, cc.ForgetNode = false, true, true, "cp-3"
	})
	if rec := clusterRecord(t, cs, ca); len(rec.Nodes) != 2 || !strings.Contains(out, "[dry-run] etcd-ca: would remove node cp-3") {
		t.Fatalf("--forget-node cp-3 --dry-run: the cluster record holds %v after it, and it says:\n%s", rec.names(), out)
	}
	a.rotate(t, ca, func(o *Options, cc *ClusterOptions) { o.Restarted, o.Force, cc.ForgetNode = false, true, "cp-3" })
	if rec := clusterRecord(t, cs, ca); len(rec.Nodes) != 1 || rec.Nodes["cp-1"].Stage != StageTrust {
		t.Fatalf("the cluster record after --forget-node cp-3 --force: %+v", rec.Nodes)
	}
}

// TestForgetLastUnfinishedNodePrunes: once cp-1 finished, forgetting
// cp-2, removed from the cluster at reissue, leaves every node of the
// rotation finished, and the old CA leaves cluster-info (ca) and
// extension-apiserver-authentication, as at the last node's finish. It
// stayed in both: no node's finish comes any more to remove it, and
// joining nodes and extension API servers trusted the old CA.
func TestForgetLastUnfinishedNodePrunes(t *testing.T) {
	for _, tc := range []struct{ ca, key, file string }{
		{"front-proxy-ca", "requestheader-client-ca-file", "front-proxy-ca.crt"},
		{"ca", "client-ca-file", "ca.crt"},
	} {
		t.Run(tc.ca, func(t *testing.T) {
			cs := fake.NewClientset()
			var serving []*x509.Certificate
			a := clusterNode{fixture: newFixture(t), name: "cp-1", cs: cs, serving: &serving}
			b := clusterNode{fixture: cloneFixture(t, a.fixture), name: "cp-2", cs: cs, serving: &serving}
			oldCA := readCA(t, filepath.Join(a.node.CertDir(), tc.file))
			other := otherCA(t)
			publishExtensionAuth(t, cs, tc.key, other, oldCA)
			publishClusterInfo(t, cs, oldCA)

			key := keyLine.FindStringSubmatch(a.rotate(t, tc.ca, nil))[1]
			b.rotate(t, tc.ca, func(o *Options, c *ClusterOptions) { c.CertificateKey = key })
			newCA := readCA(t, filepath.Join(a.node.CertDir(), strings.TrimSuffix(tc.file, ".crt")+".new.crt"))
			publishExtensionAuth(t, cs, tc.key, other, oldCA, newCA)
			_, _ = b.try(t, tc.ca, nil)
			a.rotate(t, tc.ca, nil)
			b.rotate(t, tc.ca, nil)
			serving = servedLeaves(t, a, b)
			_, _ = b.try(t, tc.ca, nil)
			a.rotate(t, tc.ca, nil)
			if rec := clusterRecord(t, cs, tc.ca); rec.Nodes["cp-1"].Stage != StageFinished || rec.Nodes["cp-2"].Stage != StageReissue {
				t.Fatalf("the record is %+v, want cp-1 finished and cp-2 at reissue", rec.Nodes)
			}
			clusterInfo := []*x509.Certificate{oldCA}
			if tc.ca == "ca" {
				clusterInfo = append(clusterInfo, newCA)
			}
			forget := func(dryRun bool) func(o *Options, cc *ClusterOptions) {
				return func(o *Options, cc *ClusterOptions) { o.Restarted, o.DryRun, cc.ForgetNode = false, dryRun, "cp-2" }
			}

			out := a.rotate(t, tc.ca, forget(true))
			if !strings.Contains(out, "every node left in the rotation has finished: would then remove the old CA sha256 ") || !strings.Contains(out, "extension-apiserver-authentication ("+tc.key+")") {
				t.Errorf("--forget-node --dry-run does not say it would remove the old CA:\n%s", out)
			}
			if got := published(t, cs, tc.key); !equalCerts(got, other, oldCA, newCA) {
				t.Fatalf("--dry-run changed %s", tc.key)
			}
			if got := clusterInfoCAs(t, cs); !equalCerts(got, clusterInfo...) {
				t.Fatalf("before the forget cluster-info holds %d CAs, want %d", len(got), len(clusterInfo))
			}

			out = a.rotate(t, tc.ca, forget(false))
			if got := published(t, cs, tc.key); !equalCerts(got, other, newCA) {
				t.Errorf("after forgetting the last unfinished node %s holds %d certificates, want the unrelated CA and the new one\n%s", tc.key, len(got), out)
			}
			if !strings.Contains(out, "removed it from ConfigMap kube-system/extension-apiserver-authentication") {
				t.Errorf("--forget-node did not say it removed the old CA:\n%s", out)
			}
			want := clusterInfo
			if tc.ca == "ca" {
				want = []*x509.Certificate{newCA}
			}
			if got := clusterInfoCAs(t, cs); !equalCerts(got, want...) {
				t.Errorf("after forgetting the last unfinished node cluster-info holds %d CAs, want %d\n%s", len(got), len(want), out)
			}
		})
	}
}

// TestForgetLastNodePrunesNewCA: forgetting the last node of a rotation
// that no node finished deletes the record and leaves the rotation over
// on the old CA, as the last node's abort does: the new CA leaves
// cluster-info (ca) and extension-apiserver-authentication, as that
// abort removes it. It stayed in both: no node was left to abort, and
// joining nodes and extension API servers trusted a CA that no node
// trusts any more. Either the other node aborted while cp-2 was at trust,
// or cp-2 was the only node of the rotation.
func TestForgetLastNodePrunesNewCA(t *testing.T) {
	for _, tc := range []struct{ ca, key, file string }{
		{"front-proxy-ca", "requestheader-client-ca-file", "front-proxy-ca.crt"},
		{"ca", "client-ca-file", "ca.crt"},
	} {
		for _, othersAborted := range []bool{true, false} {
			name := tc.ca + "/only node"
			if othersAborted {
				name = tc.ca + "/others aborted"
			}
			t.Run(name, func(t *testing.T) {
				cs := fake.NewClientset()
				a := clusterNode{fixture: newFixture(t), name: "cp-1", cs: cs}
				b := clusterNode{fixture: cloneFixture(t, a.fixture), name: "cp-2", cs: cs}
				oldCA := readCA(t, filepath.Join(a.node.CertDir(), tc.file))
				other := otherCA(t)
				publishExtensionAuth(t, cs, tc.key, other, oldCA)
				publishClusterInfo(t, cs, oldCA)

				newFile := strings.TrimSuffix(tc.file, ".crt") + ".new.crt"
				var newCA *x509.Certificate
				if othersAborted {
					key := keyLine.FindStringSubmatch(a.rotate(t, tc.ca, nil))[1]
					b.rotate(t, tc.ca, func(o *Options, c *ClusterOptions) { c.CertificateKey = key })
					newCA = readCA(t, filepath.Join(a.node.CertDir(), newFile))
					a.rotate(t, tc.ca, func(o *Options, c *ClusterOptions) { o.Abort = true })
				} else {
					b.rotate(t, tc.ca, nil)
					newCA = readCA(t, filepath.Join(b.node.CertDir(), newFile))
				}
				// The kube-apiserver of cp-2 merged the new CA in.
				publishExtensionAuth(t, cs, tc.key, other, oldCA, newCA)
				if rec := clusterRecord(t, cs, tc.ca); len(rec.Nodes) != 1 || rec.Nodes["cp-2"].Stage != StageTrust {
					t.Fatalf("the record is %+v, want cp-2 alone at trust", rec.Nodes)
				}
				clusterInfo := []*x509.Certificate{oldCA}
				if tc.ca == "ca" {
					clusterInfo = append(clusterInfo, newCA)
				}
				if got := clusterInfoCAs(t, cs); !equalCerts(got, clusterInfo...) {
					t.Fatalf("before the forget cluster-info holds %d CAs, want %d", len(got), len(clusterInfo))
				}
				forget := func(dryRun bool) func(o *Options, cc *ClusterOptions) {
					return func(o *Options, cc *ClusterOptions) { o.Restarted, o.DryRun, cc.ForgetNode = false, dryRun, "cp-2" }
				}

				out := a.rotate(t, tc.ca, forget(true))
				if !strings.Contains(out, "none had finished") || !strings.Contains(out, "would then remove the new CA sha256 ") ||
					!strings.Contains(out, "extension-apiserver-authentication ("+tc.key+"), as the last node's abort does") {
					t.Errorf("--forget-node --dry-run does not say it would remove the new CA:\n%s", out)
				}
				if got := published(t, cs, tc.key); !equalCerts(got, other, oldCA, newCA) {
					t.Fatalf("--dry-run changed %s", tc.key)
				}
				if got := clusterInfoCAs(t, cs); !equalCerts(got, clusterInfo...) {
					t.Fatalf("--dry-run changed cluster-info")
				}

				out = a.rotate(t, tc.ca, forget(false))
				if rec := clusterRecord(t, cs, tc.ca); rec != nil {
					t.Fatalf("the record after the forget: %+v, want none", rec.Nodes)
				}
				if got := published(t, cs, tc.key); !equalCerts(got, other, oldCA) {
					t.Errorf("after forgetting the last node %s holds %d certificates, want the unrelated CA and the old one\n%s", tc.key, len(got), out)
				}
				if !strings.Contains(out, "removed it from ConfigMap kube-system/extension-apiserver-authentication") {
					t.Errorf("--forget-node did not say it removed the new CA:\n%s", out)
				}
				if !strings.Contains(out, "no node is left in it, and the rotation is over") || strings.Contains(out, "A replacement control-plane node joins") {
					t.Errorf("--forget-node of the last node does not say the rotation is over, or tells a replacement to join a rotation no node is in:\n%s", out)
				}
				if got := clusterInfoCAs(t, cs); !equalCerts(got, oldCA) {
					t.Errorf("after forgetting the last node cluster-info holds %d CAs, want the old CA alone\n%s", len(got), out)
				}
			})
		}
	}
}

// TestForgetLastFinishedNodePrunesOldCA: forgetting the only node of a
// rotation that finished, whose finish failed to remove the old CA from
// extension-apiserver-authentication (the API server answered an
// error), removes it, as that finish would have: the old CA stayed, as
// nothing but that node's next call tries again, and it is gone.
func TestForgetLastFinishedNodePrunesOldCA(t *testing.T) {
	const ca, key = "front-proxy-ca", "requestheader-client-ca-file"
	cs := fake.NewClientset()
	var serving []*x509.Certificate
	a := clusterNode{fixture: newFixture(t), name: "cp-1", cs: cs, serving: &serving}
	b := clusterNode{fixture: cloneFixture(t, a.fixture), name: "cp-2", cs: cs, serving: &serving}
	oldCA := readCA(t, filepath.Join(a.node.CertDir(), "front-proxy-ca.crt"))
	b.rotate(t, ca, nil)
	b.rotate(t, ca, nil)
	serving = servedLeaves(t, b)
	b.rotate(t, ca, nil)
	if rec := clusterRecord(t, cs, ca); len(rec.Nodes) != 1 || rec.Nodes["cp-2"].Stage != StageFinished {
		t.Fatalf("the record is %+v, want cp-2 alone, finished", rec.Nodes)
	}
	newCA := readCA(t, filepath.Join(b.node.CertDir(), "front-proxy-ca.crt"))
	publishExtensionAuth(t, cs, key, oldCA, newCA) // as left by a failed prune
	out := a.rotate(t, ca, func(o *Options, cc *ClusterOptions) { o.Restarted, cc.ForgetNode = false, "cp-2" })
	if got := published(t, cs, key); !equalCerts(got, newCA) {
		t.Errorf("after forgetting the finished node %s holds %d certificates, want the new CA alone\n%s", key, len(got), out)
	}
}
