package carotate

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/pki"
)

// publishExtensionAuth writes ExtensionAuthConfigMap as kube-apiserver
// does, key holding certs in that order, and other keys that must stay.
func publishExtensionAuth(t *testing.T, cs kubernetes.Interface, key string, certs ...*x509.Certificate) {
	t.Helper()
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: ExtensionAuthConfigMap, Namespace: "kube-system"},
		Data: map[string]string{key: string(pemOf(certs...)), "requestheader-allowed-names": `["front-proxy-client"]`}}
	ctx := context.Background()
	if _, err := cs.CoreV1().ConfigMaps("kube-system").Get(ctx, cm.Name, metav1.GetOptions{}); err == nil {
		if _, err := cs.CoreV1().ConfigMaps("kube-system").Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		return
	}
	if _, err := cs.CoreV1().ConfigMaps("kube-system").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func pemOf(certs ...*x509.Certificate) []byte {
	var b bytes.Buffer
	for _, c := range certs {
		b.Write(pki.EncodeCert(c))
	}
	return b.Bytes()
}

// published is key of ExtensionAuthConfigMap, and whether the other key is kept.
func published(t *testing.T, cs kubernetes.Interface, key string) []*x509.Certificate {
	t.Helper()
	cm, err := cs.CoreV1().ConfigMaps("kube-system").Get(context.Background(), ExtensionAuthConfigMap, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cm.Data["requestheader-allowed-names"] != `["front-proxy-client"]` {
		t.Errorf("requestheader-allowed-names changed to %q", cm.Data["requestheader-allowed-names"])
	}
	certs, err := pki.ParseCerts([]byte(cm.Data[key]))
	if err != nil {
		t.Fatal(err)
	}
	return certs
}

func readCA(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	c, _, err := pki.ReadCertFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// equalCerts reports whether got is want, in that order.
func equalCerts(got []*x509.Certificate, want ...*x509.Certificate) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if !got[i].Equal(want[i]) {
			return false
		}
	}
	return true
}

// TestFinishDropsOldCAFromExtensionAuth: kube-apiserver keeps every CA it
// ever published in extension-apiserver-authentication until it expires,
// so the old front-proxy CA would stay trusted by every extension API
// server. The last node's finish removes it, and only it; a node that
// finishes while another has not leaves it, since that node's
// kube-apiserver still trusts it and would publish it again.
func TestFinishDropsOldCAFromExtensionAuth(t *testing.T) {
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

			key := keyLine.FindStringSubmatch(a.rotate(t, tc.ca, nil))[1]
			b.rotate(t, tc.ca, func(o *Options, c *ClusterOptions) { c.CertificateKey = key })
			newCA := readCA(t, filepath.Join(a.node.CertDir(), strings.TrimSuffix(tc.file, ".crt")+".new.crt"))
			// kube-apiserver reloads the bundle and publishes the new CA too.
			publishExtensionAuth(t, cs, tc.key, other, oldCA, newCA)
			// Each node's refused call records that its components restarted (o.Restarted), which
			// the other node's next stage waits for.
			_, _ = b.try(t, tc.ca, nil)
			a.rotate(t, tc.ca, nil)
			b.rotate(t, tc.ca, nil)
			serving = servedLeaves(t, a, b)
			_, _ = b.try(t, tc.ca, nil)
			a.rotate(t, tc.ca, nil)
			if rec := clusterRecord(t, cs, tc.ca); rec.Nodes["cp-1"].Stage != StageFinished || rec.Nodes["cp-2"].Stage != StageReissue {
				t.Fatalf("the record is %+v, want cp-1 finished and cp-2 at reissue", rec.Nodes)
			}
			if got := published(t, cs, tc.key); !equalCerts(got, other, oldCA, newCA) {
				t.Fatalf("after finish on cp-1 alone %s holds %d certificates, want the unrelated, old and new CA (cp-2 still trusts the old one)", tc.key, len(got))
			}
			out := b.rotate(t, tc.ca, nil)
			if got := published(t, cs, tc.key); !equalCerts(got, other, newCA) {
				t.Fatalf("after the last finish %s holds %d certificates, want the unrelated CA and the new one", tc.key, len(got))
			}
			if !strings.Contains(out, "removed it from ConfigMap kube-system/extension-apiserver-authentication") {
				t.Errorf("the last finish did not say it removed the old CA:\n%s", out)
			}
		})
	}
}

// servedLeaves is what the nodes' endpoints serve after reissue: their
// etcd server certificates (only ca's finish probes endpoints, and its
// kube-apiserver certificate is the one that matters; both are new).
func servedLeaves(t *testing.T, nodes ...clusterNode) []*x509.Certificate {
	t.Helper()
	var out []*x509.Certificate
	for _, n := range nodes {
		for _, f := range []string{"apiserver.crt", "etcd/server.crt"} {
			out = append(out, readCA(t, filepath.Join(n.node.CertDir(), f)))
		}
	}
	return out
}

// TestAbortDropsNewCAFromExtensionAuth: when the last node goes back to
// the old CA, the new one, which kube-apiserver published while it was
// trusted, leaves extension-apiserver-authentication.
func TestAbortDropsNewCAFromExtensionAuth(t *testing.T) {
	cs := fake.NewClientset()
	a := clusterNode{fixture: newFixture(t), name: "cp-1", cs: cs}
	oldCA := readCA(t, filepath.Join(a.node.CertDir(), "front-proxy-ca.crt"))
	a.rotate(t, "front-proxy-ca", nil)
	newCA := readCA(t, filepath.Join(a.node.CertDir(), "front-proxy-ca.new.crt"))
	publishExtensionAuth(t, cs, "requestheader-client-ca-file", oldCA, newCA)
	a.rotate(t, "front-proxy-ca", func(o *Options, _ *ClusterOptions) { o.Abort = true })
	if got := published(t, cs, "requestheader-client-ca-file"); !equalCerts(got, oldCA) {
		t.Fatalf("after the abort requestheader-client-ca-file holds %d certificates, want the old CA alone", len(got))
	}
}

func otherCA(t *testing.T) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return pkitest.SelfSigned(t, key, caTemplate(true))
}

func TestWithoutCert(t *testing.T) {
	one, two := otherCA(t), otherCA(t)
	for _, tc := range []struct {
		name    string
		data    []byte
		drop    *x509.Certificate
		want    []*x509.Certificate
		removed int
		err     string
	}{
		{name: "first of two", data: pemOf(one, two), drop: one, want: []*x509.Certificate{two}, removed: 1},
		{name: "last of two", data: pemOf(one, two), drop: two, want: []*x509.Certificate{one}, removed: 1},
		{name: "twice", data: pemOf(one, two, one), drop: one, want: []*x509.Certificate{two}, removed: 2},
		{name: "not there", data: pemOf(one), drop: two, want: []*x509.Certificate{one}},
		{name: "a key block", data: append(pemOf(one), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1}})...), drop: one, err: "PRIVATE KEY block"},
		{name: "garbage after", data: append(pemOf(one), "garbage"...), drop: one, err: "not PEM"},
		{name: "a certificate that does not parse", data: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1, 2}}), drop: one, err: "does not parse"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, n, err := withoutCert(tc.data, fingerprint(tc.drop))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want one saying %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			certs, err := pki.ParseCerts(got)
			if err != nil && len(tc.want) > 0 {
				t.Fatal(err)
			}
			if n != tc.removed || !equalCerts(certs, tc.want...) {
				t.Fatalf("removed %d, kept %d certificates; want %d removed, %d kept", n, len(certs), tc.removed, len(tc.want))
			}
		})
	}
}

// TestConflictingOptions: flags that contradict each other are refused
// before anything is read or written.
func TestConflictingOptions(t *testing.T) {
	f := newFixture(t)
	before := snapshotNode(t, f.node.Dir)
	for _, tc := range []struct {
		name   string
		change func(o *Options)
		want   string
	}{
		{"all stages and to", func(o *Options) { o.AllStages, o.To = true, "reissue" }, "--all-stages is --to finish: give one of them"},
		{"force and abort", func(o *Options) { o.Force, o.Abort = true, true }, "--force applies to finish, not to --abort: drop one of them"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := f.options(nil)
			tc.change(&o)
			if _, err := Rotate(context.Background(), "ca", o); err == nil || err.Error() != tc.want {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(f.node.CertDir(), ".certctl-rotation-ca.json")); err == nil {
		t.Fatal("a refused call started a rotation")
	}
	treetest.AssertSame(t, before, snapshotNode(t, f.node.Dir))
}
