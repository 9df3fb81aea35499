package carotate

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/certctl/certctl/internal/output"
	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/pki"
)

// cloneFixture copies f's folders to a new node: the same CAs, as the
// control-plane nodes of one cluster have.
func cloneFixture(t *testing.T, f *fixture) *fixture {
	t.Helper()
	dir := t.TempDir()
	err := filepath.WalkDir(f.node.Dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(f.node.Dir, path)
		to := filepath.Join(dir, rel)
		if d.IsDir() {
			return os.MkdirAll(to, 0o700)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(to, bytes.ReplaceAll(data, []byte(f.node.Dir+"/"), []byte(dir+"/")), 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
	c := *f.node.Cluster
	c.CertificatesDir = filepath.Join(dir, "pki")
	return &fixture{node: &pkitest.Node{Cluster: &c, Dir: dir}, manifestDir: filepath.Join(dir, "manifests"), now: f.now}
}

// clusterNode is a fixture rotating as one node of a cluster whose API
// server is cs.
type clusterNode struct {
	*fixture
	name string
	cs   kubernetes.Interface
	// serving is what Served returns for every endpoint.
	serving *[]*x509.Certificate
}

func (n clusterNode) try(t *testing.T, ca string, change func(o *Options, c *ClusterOptions)) (string, error) {
	t.Helper()
	var out bytes.Buffer
	o := n.options(nil)
	o.Out = &out
	c := &ClusterOptions{NodeName: n.name, RootCASettle: -1,
		Connect: func() (kubernetes.Interface, string, error) { return n.cs, "https://192.0.2.1:6443", nil },
		Served: func(context.Context, string) ([]*x509.Certificate, error) {
			if n.serving == nil || len(*n.serving) == 0 {
				return nil, os.ErrDeadlineExceeded
			}
			return *n.serving, nil
		}}
	o.Sleep = func(_ context.Context, d time.Duration) error { n.now = n.now.Add(d); return nil }
	o.Cluster = c
	if change != nil {
		change(&o, c)
	}
	_, err := Rotate(context.Background(), ca, o)
	return out.String(), err
}

func (n clusterNode) rotate(t *testing.T, ca string, change func(o *Options, c *ClusterOptions)) string {
	t.Helper()
	out, err := n.try(t, ca, change)
	if err != nil {
		t.Fatalf("%s: ca rotate %s: %v\n%s", n.name, ca, err, out)
	}
	return out
}

// refused runs a stage that must be refused with an error naming want,
// and changes no file.
func (n clusterNode) refused(t *testing.T, ca string, change func(o *Options, c *ClusterOptions), want ...string) {
	t.Helper()
	before := snapshotNode(t, n.node.Dir)
	out, err := n.try(t, ca, change)
	if err == nil {
		t.Fatalf("%s: ca rotate %s was not refused:\n%s", n.name, ca, out)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("the refusal is not one line: %q", err)
	}
	treetest.ErrMentions(t, err, want...)
	treetest.AssertSame(t, before, snapshotNode(t, n.node.Dir))
}

// snapshotNode is the node's tree but for certctl's lock file, which
// every call takes.
func snapshotNode(t *testing.T, dir string) map[string]string {
	t.Helper()
	s := treetest.Snapshot(t, dir)
	for path := range s {
		if filepath.Base(path) == ".certctl.lock" {
			delete(s, path)
		}
	}
	return s
}

func clusterRecord(t *testing.T, cs kubernetes.Interface, ca string) *ClusterRecord {
	t.Helper()
	cm, err := cs.CoreV1().ConfigMaps("kube-system").Get(context.Background(), ClusterPrefix+ca, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	rec, err := decodeCluster(cm)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

func secretExists(t *testing.T, cs kubernetes.Interface, ca string) bool {
	t.Helper()
	_, err := cs.CoreV1().Secrets("kube-system").Get(context.Background(), ClusterPrefix+ca, metav1.GetOptions{})
	return err == nil
}

var keyLine = regexp.MustCompile(`certificate key:\n([0-9a-f]{64})\n`)

// TestClusterRotationOnTwoNodes runs the etcd CA's rotation on two nodes
// of a fake API server and checks the cluster record, the Secret and
// every gate on the way: each refusal is one line naming the node, and
// leaves the node's files as they were.
func TestClusterRotationOnTwoNodes(t *testing.T) {
	cs := fake.NewClientset()
	var serving []*x509.Certificate
	a := clusterNode{fixture: newFixture(t), name: "cp-1", cs: cs, serving: &serving}
	b := clusterNode{fixture: cloneFixture(t, a.fixture), name: "cp-2", cs: cs, serving: &serving}
	const ca = "etcd-ca"
	oldLeaf, _, err := pki.ReadCertFile(filepath.Join(a.node.CertDir(), "etcd", "server.crt"))
	if err != nil {
		t.Fatal(err)
	}

	out := a.rotate(t, ca, nil)
	m := keyLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("trust on the first node printed no certificate key:\n%s", out)
	}
	key := m[1]
	rec := clusterRecord(t, cs, ca)
	local, _ := ReadRecord(k(t, ca).paths(a.node.CertDir()).Record)
	if rec == nil || rec.ID != local.NewCA || rec.Nodes["cp-1"].Stage != StageTrust || len(rec.Nodes["cp-1"].Endpoints) == 0 {
		t.Fatalf("after trust on cp-1 the cluster record is %+v, want id %s and cp-1 at trust with its etcd endpoints", rec, local.NewCA)
	}
	if !secretExists(t, cs, ca) {
		t.Fatal("trust on the first node left no Secret")
	}

	// Joining the rotation: the new CA comes from the Secret, with the right key only, or is given
	// and must be the cluster's.
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	b.refused(t, ca, func(o *Options, c *ClusterOptions) {
		o.NewCACert, o.NewCAKey = writeCA(t, t.TempDir(), caTemplate(true), other)
	}, "node cp-2 has a different new CA", "cp-1")
	b.refused(t, ca, nil, "cp-1", "--certificate-key")
	b.refused(t, ca, func(o *Options, c *ClusterOptions) { c.CertificateKey = strings.Repeat("ab", 32) }, "decrypt", "certificate-key")
	b.refused(t, ca, func(o *Options, c *ClusterOptions) { c.CertificateKey = "abc" }, "certificate key")
	b.rotate(t, ca, func(o *Options, c *ClusterOptions) { c.CertificateKey = key })
	localB, _ := ReadRecord(k(t, ca).paths(b.node.CertDir()).Record)
	if localB.NewCA != local.NewCA {
		t.Fatalf("cp-2's new CA is %s, want the cluster's %s", localB.NewCA, local.NewCA)
	}

	// Reissue waits for every node to trust the new CA with its components restarted.
	noRestart := func(o *Options, c *ClusterOptions) { o.Restarted = false }
	a.refused(t, ca, noRestart, "must restart")
	b.refused(t, ca, nil, "reissue of etcd-ca on node cp-2 refused", "node cp-1 is at stage trust", "not restarted")
	// cp-2's refused call recorded that its components restarted.
	if !clusterRecord(t, cs, ca).Nodes["cp-2"].Restarted {
		t.Fatal("cp-2's --restarted is not in the cluster record")
	}
	// A control-plane Node that never joined holds reissue back too.
	node3 := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "cp-3", Labels: map[string]string{"node-role.kubernetes.io/control-plane": ""}}}
	if _, err := cs.CoreV1().Nodes().Create(context.Background(), node3, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	a.refused(t, ca, nil, "control-plane node cp-3 is not in the rotation")
	if err := cs.CoreV1().Nodes().Delete(context.Background(), "cp-3", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	a.rotate(t, ca, nil)
	if !secretExists(t, cs, ca) {
		t.Fatal("the Secret went before every node re-issued")
	}

	// Finish waits for every node to sign with the new CA, and for no endpoint to serve the old one.
	a.refused(t, ca, nil, "finish of etcd-ca on node cp-1 refused", "node cp-2 is at stage trust", "--force")
	b.rotate(t, ca, nil)
	if secretExists(t, cs, ca) {
		t.Fatal("the Secret is still there once every node re-issued")
	}
	serving = nil
	b.refused(t, ca, nil, "cannot tell whether", "--force")
	serving = []*x509.Certificate{oldLeaf}
	a.refused(t, ca, nil, "still serves a certificate of the old CA", "node cp-1's etcd client port", "node cp-2's etcd")
	newLeaf, _, err := pki.ReadCertFile(filepath.Join(a.node.CertDir(), "etcd", "server.crt"))
	if err != nil {
		t.Fatal(err)
	}
	serving = []*x509.Certificate{newLeaf}
	a.rotate(t, ca, nil)
	b.rotate(t, ca, nil)
	rec = clusterRecord(t, cs, ca)
	if rec.Nodes["cp-1"].Stage != StageFinished || rec.Nodes["cp-2"].Stage != StageFinished {
		t.Fatalf("after finish on both nodes the record is %+v", rec.Nodes)
	}
}

func k(t *testing.T, name string) kind {
	t.Helper()
	kk, err := kindOf(name)
	if err != nil {
		t.Fatal(err)
	}
	return kk
}

// TestClusterRecordHeals: a kill between a stage's commit and the write
// of the cluster record leaves the record behind (or without the node);
// the next call writes it before anything else.
func TestClusterRecordHeals(t *testing.T) {
	for _, tc := range []struct {
		name   string
		break_ func(t *testing.T, cs kubernetes.Interface)
	}{
		{"record deleted", func(t *testing.T, cs kubernetes.Interface) {
			if err := cs.CoreV1().ConfigMaps("kube-system").Delete(context.Background(), ClusterPrefix+"front-proxy-ca", metav1.DeleteOptions{}); err != nil {
				t.Fatal(err)
			}
		}},
		{"node's entry behind", func(t *testing.T, cs kubernetes.Interface) {
			cm, err := cs.CoreV1().ConfigMaps("kube-system").Get(context.Background(), ClusterPrefix+"front-proxy-ca", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			rec, _ := decodeCluster(cm)
			e := rec.Nodes["cp-1"]
			e.Stage, e.Restarted = "", false
			rec.Nodes["cp-1"] = e
			data, _ := json.Marshal(rec)
			cm.Data[recordKey] = string(data)
			if _, err := cs.CoreV1().ConfigMaps("kube-system").Update(context.Background(), cm, metav1.UpdateOptions{}); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cs := fake.NewClientset()
			a := clusterNode{fixture: newFixture(t), name: "cp-1", cs: cs}
			a.rotate(t, "front-proxy-ca", nil)
			tc.break_(t, cs)
			// --dry-run reads and writes nothing, not even the cluster record.
			a.rotate(t, "front-proxy-ca", func(o *Options, c *ClusterOptions) { o.DryRun = true })
			if rec := clusterRecord(t, cs, "front-proxy-ca"); rec != nil && rec.Nodes["cp-1"].Stage == StageTrust {
				t.Fatal("--dry-run healed the cluster record")
			}
			out := a.rotate(t, "front-proxy-ca", nil) // reissue: one node alone
			if !strings.Contains(out, "is behind this node's stage trust: writing it") {
				t.Errorf("the call did not say it healed the record:\n%s", out)
			}
			if got := clusterRecord(t, cs, "front-proxy-ca").Nodes["cp-1"].Stage; got != StageReissue {
				t.Errorf("cp-1 is at %q in the cluster record, want reissue", got)
			}
		})
	}
}

// TestClusterRecordConflict: a write that loses a race (409) reads the
// record again and keeps the other node's entry.
func TestClusterRecordConflict(t *testing.T) {
	cs := fake.NewClientset()
	s := store{client: cs, server: "test", name: "ca"}
	rec := &Record{Version: recordVersion, CA: "ca", Stage: StageTrust, OldCA: "old", NewCA: "new"}
	if err := s.putNode(context.Background(), "cp-1", rec, []byte("pem"), NodeStage{Stage: StageTrust}); err != nil {
		t.Fatal(err)
	}
	conflicts := 0
	cs.PrependReactor("update", "configmaps", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if conflicts > 0 {
			return false, nil, nil
		}
		conflicts++
		// Another node wrote meanwhile.
		other := &ClusterRecord{Version: recordVersion, CA: "ca", ID: "new", OldCA: "old", Nodes: map[string]NodeStage{"cp-1": {Stage: StageTrust}, "cp-3": {Stage: StageTrust}}}
		data, _ := json.Marshal(other)
		cm, _ := cs.Tracker().Get(corev1.SchemeGroupVersion.WithResource("configmaps"), "kube-system", ClusterPrefix+"ca")
		c := cm.(*corev1.ConfigMap).DeepCopy()
		c.Data[recordKey] = string(data)
		c.ResourceVersion = "2"
		if err := cs.Tracker().Update(corev1.SchemeGroupVersion.WithResource("configmaps"), c, "kube-system"); err != nil {
			t.Fatal(err)
		}
		return true, nil, apierrors.NewConflict(corev1.Resource("configmaps"), c.Name, nil)
	})
	if err := s.putNode(context.Background(), "cp-2", rec, nil, NodeStage{Stage: StageTrust}); err != nil {
		t.Fatal(err)
	}
	got := clusterRecord(t, cs, "ca")
	if conflicts != 1 || len(got.Nodes) != 3 {
		t.Errorf("after %d conflicts the record has nodes %v, want cp-1, cp-2 and cp-3", conflicts, got.names())
	}
	// Another rotation in progress is never overwritten.
	other := &Record{Version: recordVersion, CA: "ca", Stage: StageTrust, OldCA: "old", NewCA: "other"}
	err := s.putNode(context.Background(), "cp-4", other, nil, NodeStage{Stage: StageTrust})
	treetest.ErrMentions(t, err, "another rotation of ca", "cp-1, cp-2, cp-3")
}

// TestClusterSecretTampered: a Secret whose sealed key was changed, or
// that holds another CA than the record's, is refused.
func TestClusterSecretTampered(t *testing.T) {
	cs := fake.NewClientset()
	a := clusterNode{fixture: newFixture(t), name: "cp-1", cs: cs}
	b := clusterNode{fixture: cloneFixture(t, a.fixture), name: "cp-2", cs: cs}
	key := keyLine.FindStringSubmatch(a.rotate(t, "sa", nil))[1]
	sec, err := cs.CoreV1().Secrets("kube-system").Get(context.Background(), ClusterPrefix+"sa", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sealed := sec.Data[secretKeyKey]
	sec.Data[secretKeyKey] = append(append([]byte{}, sealed[:len(sealed)-1]...), sealed[len(sealed)-1]^1)
	if _, err := cs.CoreV1().Secrets("kube-system").Update(context.Background(), sec, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	withKey := func(o *Options, c *ClusterOptions) { c.CertificateKey = key }
	b.refused(t, "sa", withKey, "decrypt", "changed")
	if err := cs.CoreV1().Secrets("kube-system").Delete(context.Background(), ClusterPrefix+"sa", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	b.refused(t, "sa", withKey, "does not exist", "--new-ca-key")
}

// TestReissueWaitsForRootCAs: reissue of ca waits, polling, until every
// namespace's kube-root-ca.crt holds the old and the new CA, and is
// refused (files unchanged) when they do not within --wait-timeout.
func TestReissueWaitsForRootCAs(t *testing.T) {
	cs := fake.NewClientset()
	a := clusterNode{fixture: newFixture(t), name: "cp-1", cs: cs}
	a.rotate(t, "ca", nil)
	p := k(t, "ca").paths(a.node.CertDir())
	oldPEM, newPEM := mustReadFile(t, p.OldCert), mustReadFile(t, p.NewCert)
	for _, ns := range []string{"default", "kube-system"} {
		if _, err := cs.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "kube-root-ca.crt", Namespace: ns}, Data: map[string]string{"ca.crt": string(oldPEM)}}
		if _, err := cs.CoreV1().ConfigMaps(ns).Create(context.Background(), cm, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	a.refused(t, "ca", func(o *Options, c *ClusterOptions) { c.WaitTimeout = 10 * time.Second },
		"reissue of ca on node cp-1 refused", "2 of 2 namespaces", "restart it on every node")
	// kube-controller-manager publishes both after a few polls.
	polls := 0
	withPublish := func(o *Options, c *ClusterOptions) {
		o.Sleep = func(_ context.Context, d time.Duration) error {
			a.now = a.now.Add(d)
			if polls++; polls == 3 {
				for _, ns := range []string{"default", "kube-system"} {
					cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "kube-root-ca.crt", Namespace: ns}, Data: map[string]string{"ca.crt": string(oldPEM) + string(newPEM)}}
					if _, err := cs.CoreV1().ConfigMaps(ns).Update(context.Background(), cm, metav1.UpdateOptions{}); err != nil {
						t.Fatal(err)
					}
				}
			}
			return nil
		}
		c.RootCASettle = 30 * time.Second
	}
	start := a.now
	out := a.rotate(t, "ca", withPublish)
	if !strings.Contains(out, "waiting for every namespace's kube-root-ca.crt") || !strings.Contains(out, "waiting 30s for the pods") {
		t.Errorf("reissue did not say what it waited for:\n%s", out)
	}
	if waited := a.now.Sub(start); waited < 32*time.Second {
		t.Errorf("reissue waited %v, want the polls and --root-ca-settle", waited)
	}
	if got := clusterRecord(t, cs, "ca").Nodes["cp-1"].Stage; got != StageReissue {
		t.Errorf("cp-1 is at %q, want reissue", got)
	}
}

func mustReadFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestStatusShowsTheCluster: `ca status` shows each node of the cluster
// record with its next command, and says when the cluster was not read.
func TestStatusShowsTheCluster(t *testing.T) {
	cs := fake.NewClientset()
	a := clusterNode{fixture: newFixture(t), name: "cp-1", cs: cs}
	b := clusterNode{fixture: cloneFixture(t, a.fixture), name: "cp-2", cs: cs}
	key := keyLine.FindStringSubmatch(a.rotate(t, "front-proxy-ca", nil))[1]
	b.rotate(t, "front-proxy-ca", func(o *Options, c *ClusterOptions) { c.CertificateKey = key })
	if _, err := a.try(t, "front-proxy-ca", nil); err == nil { // refused: cp-2 did not restart; cp-1 did
		t.Fatal("reissue on cp-1 was not refused")
	}
	b.rotate(t, "front-proxy-ca", nil) // reissue
	connect := func() (kubernetes.Interface, string, error) { return cs, "test", nil }
	report, err := Status(context.Background(), StatusOptions{CertDir: a.node.CertDir(), KubeconfigDir: a.node.Dir, Now: a.now, Connect: connect})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := report.Print(&out, textFormat(t)); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"front-proxy-ca: ConfigMap kube-system/certctl-ca-rotation-front-proxy-ca",
		"cp-1  trust    true       certctl ca rotate front-proxy-ca (stage reissue)",
		"cp-2  reissue  false      restart its components, then certctl ca rotate front-proxy-ca --restarted",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("ca status does not say %q:\n%s", want, out.String())
		}
	}
	offline := func() (kubernetes.Interface, string, error) { return nil, "", os.ErrNotExist }
	report, err = Status(context.Background(), StatusOptions{CertDir: a.node.CertDir(), KubeconfigDir: a.node.Dir, Now: a.now, Connect: offline})
	if err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := report.Print(&out, textFormat(t)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "cluster not read (file does not exist): the stages above are this node's only") || report.CAs[1].Stage != StageTrust || report.CAs[1].Cluster != nil {
		t.Errorf("offline ca status:\n%s", out.String())
	}
}

func textFormat(t *testing.T) output.Format {
	t.Helper()
	f, err := output.Parse("text")
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestUnreachableAPIServer: without the API server the rotation stops in
// one line that names it and says what to do, and changes no file.
func TestUnreachableAPIServer(t *testing.T) {
	cs := fake.NewClientset()
	cs.PrependReactor("get", "configmaps", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, os.ErrDeadlineExceeded
	})
	a := clusterNode{fixture: newFixture(t), name: "cp-1", cs: cs}
	a.refused(t, "ca", nil, "cannot read the rotation's cluster record ConfigMap kube-system/certctl-ca-rotation-ca from the API server https://192.0.2.1:6443", "--kubeconfig", "--node-only", "nothing was changed")
}

// TestStatusOfANodeThatHasNotJoined: on a node where no rotation is in
// progress while one is in the cluster, `ca status` says to join it with
// the certificate key, not to start a rotation (which the gates refuse).
func TestStatusOfANodeThatHasNotJoined(t *testing.T) {
	cs := fake.NewClientset()
	a := clusterNode{fixture: newFixture(t), name: "cp-1", cs: cs}
	b := clusterNode{fixture: cloneFixture(t, a.fixture), name: "cp-2", cs: cs}
	a.rotate(t, "front-proxy-ca", nil)
	connect := func() (kubernetes.Interface, string, error) { return cs, "test", nil }
	report, err := Status(context.Background(), StatusOptions{CertDir: b.node.CertDir(), KubeconfigDir: b.node.Dir, Now: b.now, Connect: connect, Rerun: " --node-name cp-2"})
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range report.CAs {
		want := "certctl ca rotate " + st.CA + " --node-name cp-2 (starts a rotation: stage trust)"
		if st.CA == "front-proxy-ca" {
			want = "certctl ca rotate front-proxy-ca --node-name cp-2 --certificate-key KEY (stage trust: joins the rotation in progress in the cluster)"
		}
		if st.Next != want {
			t.Errorf("%s: next %q, want %q", st.CA, st.Next, want)
		}
	}
}
