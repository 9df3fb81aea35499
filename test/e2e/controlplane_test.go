package e2e

import (
	"bytes"
	"crypto/tls"
	"crypto/x509/pkix"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/certctl/certctl/internal/testcluster"
)

// TestControlPlaneOnCertctlPKI proves that etcd, kube-apiserver and kube-controller-manager run
// on certctl's certificates and kubeconfigs: admin.conf is accepted (and is cluster-admin through
// kubeadm's binding), service-account tokens signed with sa.key verify with sa.pub, the apiserver
// serves exactly certctl's apiserver.crt with kubeadm's SANs, and etcd accepts
// apiserver-etcd-client while refusing a certificate from another CA.
func TestControlPlaneOnCertctlPKI(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{})
	ctx := testCtx(t, 2*time.Minute)

	t.Run("admin.conf", func(t *testing.T) {
		cs, err := c.AdminClient()
		if err != nil {
			t.Fatal(err)
		}
		v, err := cs.Discovery().ServerVersion()
		if err != nil {
			t.Fatalf("get server version with admin.conf: %v", err)
		}
		if v.GitVersion != testcluster.KubeVersion {
			t.Errorf("server version = %s, want %s", v.GitVersion, testcluster.KubeVersion)
		}
		// Listing namespaces needs the kubeadm:cluster-admins binding: admin.conf is not system:masters.
		if _, err := cs.CoreV1().Namespaces().List(ctx, metav1.ListOptions{}); err != nil {
			t.Fatalf("list namespaces with admin.conf: %v", err)
		}
		ssr, err := cs.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authnv1.SelfSubjectReview{}, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("create SelfSubjectReview with admin.conf: %v", err)
		}
		u := ssr.Status.UserInfo
		if u.Username != "kubernetes-admin" || !slices.Contains(u.Groups, testcluster.ClusterAdminsGroup) {
			t.Errorf("admin.conf authenticates as %q in %q, want kubernetes-admin in %s", u.Username, u.Groups, testcluster.ClusterAdminsGroup)
		}
	})

	t.Run("super-admin.conf", func(t *testing.T) {
		cs, err := c.SuperAdminClient()
		if err != nil {
			t.Fatal(err)
		}
		ssr, err := cs.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authnv1.SelfSubjectReview{}, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("create SelfSubjectReview with super-admin.conf: %v", err)
		}
		if u := ssr.Status.UserInfo; u.Username != "kubernetes-super-admin" || !slices.Contains(u.Groups, "system:masters") {
			t.Errorf("super-admin.conf authenticates as %q in %q, want kubernetes-super-admin in system:masters", u.Username, u.Groups)
		}
	})

	t.Run("service-account token from sa.key verifies with sa.pub", func(t *testing.T) {
		checkServiceAccountToken(t, c)
	})

	t.Run("apiserver serves certctl's apiserver.crt", func(t *testing.T) {
		want := readCert(t, filepath.Join(c.PKIDir(), "apiserver.crt"))
		// Verification against ca.crt with the server name 127.0.0.1 checks the chain and the IP SAN.
		cfg := clientTLS(t, c, "ca.crt", "")
		d := tls.Dialer{Config: cfg, NetDialer: &net.Dialer{Timeout: 10 * time.Second}}
		conn, err := d.DialContext(ctx, "tcp", c.Addr(testcluster.APIServer))
		if err != nil {
			t.Fatalf("TLS handshake with kube-apiserver, trusting certctl's ca.crt: %v", err)
		}
		defer conn.Close()
		got := conn.(*tls.Conn).ConnectionState().PeerCertificates[0]
		if !bytes.Equal(got.Raw, want.Raw) {
			t.Fatalf("kube-apiserver serves %q (serial %x), not certctl's apiserver.crt (serial %x)", got.Subject, got.SerialNumber, want.SerialNumber)
		}
		// The names kubeadm puts in apiserver.crt, which clients in and out of the cluster dial.
		for _, name := range []string{"kubernetes", "kubernetes.default", "kubernetes.default.svc",
			"kubernetes.default.svc." + testcluster.DNSDomain, testcluster.NodeName, "10.96.0.1", testcluster.Host} {
			if err := got.VerifyHostname(name); err != nil {
				t.Errorf("apiserver.crt: %v", err)
			}
		}
	})

	t.Run("etcd accepts apiserver-etcd-client", func(t *testing.T) {
		body, err := etcdGet(t, c, clientTLS(t, c, "etcd/ca.crt", "apiserver-etcd-client"), "/health")
		if err != nil {
			t.Fatalf("GET etcd /health with apiserver-etcd-client: %v", err)
		}
		if !strings.Contains(body, `"health":"true"`) {
			t.Errorf("etcd /health = %s, want health true", body)
		}
	})

	t.Run("etcd refuses a certificate from another CA", func(t *testing.T) {
		other := newCA(t, "not-etcd-ca")
		cfg := clientTLS(t, c, "etcd/ca.crt", "")
		cfg.GetClientCertificate = alwaysPresent(other.clientCert(t, pkix.Name{CommonName: "kube-apiserver-etcd-client"}))
		if body, err := etcdGet(t, c, cfg, "/health"); err == nil {
			t.Errorf("etcd answered a client whose certificate another CA signed: %s", body)
		} else {
			t.Logf("refused as expected: %v", err)
		}
		if body, err := etcdGet(t, c, clientTLS(t, c, "etcd/ca.crt", ""), "/health"); err == nil {
			t.Errorf("etcd answered a client without a certificate: %s", body)
		}
	})
}

// etcdGet sends GET path to etcd's client URL with cfg and returns the body of a 200 answer.
func etcdGet(t *testing.T, c *testcluster.Cluster, cfg *tls.Config, path string) (string, error) {
	t.Helper()
	tr := &http.Transport{TLSClientConfig: cfg}
	defer tr.CloseIdleConnections()
	req, err := http.NewRequestWithContext(testCtx(t, 10*time.Second), http.MethodGet, c.URL(testcluster.Etcd)+path, nil)
	if err != nil {
		return "", err
	}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return string(body), &httpError{resp.Status}
	}
	return string(body), nil
}

type httpError struct{ status string }

func (e *httpError) Error() string { return "HTTP " + e.status }
