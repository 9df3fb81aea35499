package carotate

import (
	"context"
	"crypto/x509"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/certctl/certctl/pki"
)

// jwsKey is the key of cluster-info where kube-controller-manager's
// bootstrap signer puts a token's signature: certctl leaves it to the
// signer, which signs the new content again.
const jwsKey = "jws-kubeconfig-abcdef"

// publishClusterInfo writes kube-public/cluster-info as kubeadm init does
// (clusterinfo.CreateBootstrapConfigMapIfNotExists): the cluster of
// admin.conf, under the name "", with the CA data of certs.
func publishClusterInfo(t *testing.T, cs kubernetes.Interface, certs ...*x509.Certificate) {
	t.Helper()
	cfg := clientcmdapi.Config{Clusters: map[string]*clientcmdapi.Cluster{"": {Server: "https://cp.example:6443", CertificateAuthorityData: pemOf(certs...)}}}
	data, err := clientcmd.Write(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: ClusterInfoConfigMap, Namespace: "kube-public"},
		Data: map[string]string{"kubeconfig": string(data), jwsKey: "signature"}}
	if _, err := cs.CoreV1().ConfigMaps("kube-public").Create(context.Background(), cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// clusterInfoCAs is the CA data of cluster-info's cluster, after checking
// that the server and the signature's key were kept.
func clusterInfoCAs(t *testing.T, cs kubernetes.Interface) []*x509.Certificate {
	t.Helper()
	cm, err := cs.CoreV1().ConfigMaps("kube-public").Get(context.Background(), ClusterInfoConfigMap, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cm.Data[jwsKey] != "signature" {
		t.Errorf("%s changed to %q", jwsKey, cm.Data[jwsKey])
	}
	cfg, err := clientcmd.Load([]byte(cm.Data["kubeconfig"]))
	if err != nil {
		t.Fatal(err)
	}
	c := cfg.Clusters[""]
	if c == nil || c.Server != "https://cp.example:6443" || len(cfg.Clusters) != 1 {
		t.Fatalf("cluster-info's clusters became %+v, want the one cluster \"\" with its server", cfg.Clusters)
	}
	certs, err := pki.ParseCerts(c.CertificateAuthorityData)
	if err != nil {
		t.Fatal(err)
	}
	return certs
}

// TestClusterInfoFollowsTheRotation: kubeadm join reads the CA to trust
// from kube-public/cluster-info and goes on only if it matches
// --discovery-token-ca-cert-hash. The rotation of ca left it with the old
// CA alone, so after finish every join with the new CA's hash (what
// `kubeadm token create --print-join-command` prints) failed. Trust adds
// the new CA, so that a join with either hash works while the nodes serve
// either; the last node's finish removes the old one, and not before.
func TestClusterInfoFollowsTheRotation(t *testing.T) {
	cs := fake.NewClientset()
	var serving []*x509.Certificate
	a := clusterNode{fixture: newFixture(t), name: "cp-1", cs: cs, serving: &serving}
	b := clusterNode{fixture: cloneFixture(t, a.fixture), name: "cp-2", cs: cs, serving: &serving}
	oldCA := readCA(t, filepath.Join(a.node.CertDir(), "ca.crt"))
	publishClusterInfo(t, cs, oldCA)

	out := a.rotate(t, pki.CAName, nil)
	key := keyLine.FindStringSubmatch(out)[1]
	newCA := readCA(t, filepath.Join(a.node.CertDir(), "ca.new.crt"))
	if got := clusterInfoCAs(t, cs); !equalCerts(got, oldCA, newCA) {
		t.Fatalf("after trust cluster-info holds %d CAs, want the old and the new one", len(got))
	}
	if !strings.Contains(out, "added the new CA sha256 ") || !strings.Contains(out, "in ConfigMap kube-public/cluster-info, where kubeadm join finds the CA to trust") {
		t.Errorf("trust did not say it added the new CA to cluster-info:\n%s", out)
	}
	b.rotate(t, pki.CAName, func(o *Options, c *ClusterOptions) { c.CertificateKey = key })
	_, _ = b.try(t, pki.CAName, nil)
	a.rotate(t, pki.CAName, nil)
	b.rotate(t, pki.CAName, nil)
	if got := clusterInfoCAs(t, cs); !equalCerts(got, oldCA, newCA) {
		t.Fatalf("after reissue cluster-info holds %d CAs, want the old and the new one", len(got))
	}
	serving = servedLeaves(t, a, b)
	_, _ = b.try(t, pki.CAName, nil)
	a.rotate(t, pki.CAName, nil)
	if got := clusterInfoCAs(t, cs); !equalCerts(got, oldCA, newCA) {
		t.Fatalf("after finish on cp-1 alone cluster-info holds %d CAs, want the old and the new one (cp-2 still serves a certificate of the old CA's trust)", len(got))
	}
	out = b.rotate(t, pki.CAName, nil)
	if got := clusterInfoCAs(t, cs); !equalCerts(got, newCA) {
		t.Fatalf("after the last finish cluster-info holds %d CAs, want the new one alone", len(got))
	}
	if !strings.Contains(out, "removed the CA sha256 ") {
		t.Errorf("the last finish did not say it removed the old CA from cluster-info:\n%s", out)
	}
}

// TestClusterInfoAfterAbort: the abort that ends the rotation takes the
// new CA out of cluster-info again; a rotation of another CA leaves it as
// it is, and a cluster without cluster-info (made without bootstrap
// tokens) does not get one.
func TestClusterInfoAfterAbort(t *testing.T) {
	t.Run("abort", func(t *testing.T) {
		cs := fake.NewClientset()
		a := clusterNode{fixture: newFixture(t), name: "cp-1", cs: cs}
		oldCA := readCA(t, filepath.Join(a.node.CertDir(), "ca.crt"))
		publishClusterInfo(t, cs, oldCA)
		a.rotate(t, pki.CAName, nil)
		if got := clusterInfoCAs(t, cs); len(got) != 2 {
			t.Fatalf("after trust cluster-info holds %d CAs, want 2", len(got))
		}
		a.rotate(t, pki.CAName, func(o *Options, _ *ClusterOptions) { o.Abort = true })
		if got := clusterInfoCAs(t, cs); !equalCerts(got, oldCA) {
			t.Fatalf("after the abort cluster-info holds %d CAs, want the old one alone", len(got))
		}
	})
	t.Run("another CA", func(t *testing.T) {
		cs := fake.NewClientset()
		a := clusterNode{fixture: newFixture(t), name: "cp-1", cs: cs}
		oldCA := readCA(t, filepath.Join(a.node.CertDir(), "ca.crt"))
		publishClusterInfo(t, cs, oldCA)
		a.rotate(t, pki.FrontProxyCAName, nil)
		if got := clusterInfoCAs(t, cs); !equalCerts(got, oldCA) {
			t.Fatalf("a rotation of front-proxy-ca changed cluster-info to %d CAs", len(got))
		}
	})
	t.Run("no cluster-info", func(t *testing.T) {
		cs := fake.NewClientset()
		a := clusterNode{fixture: newFixture(t), name: "cp-1", cs: cs}
		a.rotate(t, pki.CAName, nil)
		if _, err := cs.CoreV1().ConfigMaps("kube-public").Get(context.Background(), ClusterInfoConfigMap, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Fatalf("cluster-info: %v, want none made", err)
		}
	})
}

// TestStatusChecksClusterInfo: `ca status` reports a cluster-info that
// kubeadm join cannot use with this node's CA (a rotation made with
// --node-only, or before certctl kept it in step): one that holds none of
// ca.crt's CAs, or, with no rotation in progress, one that also holds a CA
// ca.crt dropped, which a joining node would still trust.
func TestStatusChecksClusterInfo(t *testing.T) {
	for _, tc := range []struct {
		name    string
		publish func(own, other *x509.Certificate) []*x509.Certificate
		want    string // "" for no problem
	}{
		{"this CA", func(own, _ *x509.Certificate) []*x509.Certificate { return []*x509.Certificate{own} }, ""},
		{"another CA", func(_, other *x509.Certificate) []*x509.Certificate { return []*x509.Certificate{other} }, "holds none of the CAs of"},
		{"a dropped CA too", func(own, other *x509.Certificate) []*x509.Certificate { return []*x509.Certificate{other, own} }, "also holds the CA sha256 "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cs := fake.NewClientset()
			a := clusterNode{fixture: newFixture(t), name: "cp-1", cs: cs}
			caPath := filepath.Join(a.node.CertDir(), "ca.crt")
			publishClusterInfo(t, cs, tc.publish(readCA(t, caPath), otherCA(t))...)
			connect := func() (kubernetes.Interface, string, error) { return cs, "test", nil }
			report, err := Status(context.Background(), StatusOptions{CertDir: a.node.CertDir(), KubeconfigDir: a.node.Dir, Now: a.now, Connect: connect})
			if err != nil {
				t.Fatal(err)
			}
			var problems []string
			for _, s := range report.CAs {
				if s.CA == pki.CAName {
					problems = s.Problems
				}
			}
			if tc.want == "" {
				if len(problems) != 0 {
					t.Errorf("problems %q, want none", problems)
				}
				return
			}
			if len(problems) != 1 {
				t.Fatalf("problems %q, want one about cluster-info", problems)
			}
			for _, w := range []string{"ConfigMap kube-public/cluster-info, where kubeadm join finds the CA to trust", tc.want, caPath, "kubectl -n kube-public edit configmap cluster-info", "base64 -w0 " + caPath} {
				if !strings.Contains(problems[0], w) {
					t.Errorf("problem %q does not say %q", problems[0], w)
				}
			}
		})
	}
}

// TestStatusClusterInfoForbidden: a user of `ca status` who may not read
// cluster-info gets no problem for it: there is nothing to report.
func TestStatusClusterInfoForbidden(t *testing.T) {
	cs := fake.NewClientset()
	cs.PrependReactor("get", "configmaps", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetNamespace() == "kube-public" {
			return true, nil, apierrors.NewForbidden(corev1.Resource("configmaps"), ClusterInfoConfigMap, errors.New("no"))
		}
		return false, nil, nil
	})
	a := clusterNode{fixture: newFixture(t), name: "cp-1", cs: cs}
	connect := func() (kubernetes.Interface, string, error) { return cs, "test", nil }
	report, err := Status(context.Background(), StatusOptions{CertDir: a.node.CertDir(), KubeconfigDir: a.node.Dir, Now: a.now, Connect: connect})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range report.CAs {
		if len(s.Problems) != 0 || report.ClusterNotRead != "" {
			t.Errorf("%s: problems %q, cluster not read %q; want none", s.CA, s.Problems, report.ClusterNotRead)
		}
	}
}
