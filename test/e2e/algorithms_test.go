package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"path/filepath"
	"testing"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/certctl/certctl/internal/testcluster"
)

// TestControlPlaneOnECDSAPKI proves that a PKI written with
// `--encryption-algorithm ECDSA-P256` runs the control plane: etcd and kube-apiserver serve ECDSA
// certificates, admin.conf logs in, and service-account tokens signed with certctl's ECDSA sa.key
// verify against its sa.pub.
func TestControlPlaneOnECDSAPKI(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{CertctlArgs: []string{"--encryption-algorithm", "ECDSA-P256"}})
	for _, f := range []string{"ca.crt", "apiserver.crt", "etcd/server.crt", "front-proxy-client.crt"} {
		pub, ok := readCert(t, filepath.Join(c.PKIDir(), f)).PublicKey.(*ecdsa.PublicKey)
		if !ok || pub.Curve != elliptic.P256() {
			t.Errorf("%s: key is not ECDSA P-256", f)
		}
	}
	cs, err := c.AdminClient()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.Discovery().ServerVersion(); err != nil {
		t.Fatalf("request with admin.conf: %v", err)
	}
	checkServiceAccountToken(t, c)
}

// checkServiceAccountToken creates a service account and a token for it (signed by kube-apiserver
// with --service-account-signing-key-file=sa.key), then logs in with the token (verified with
// --service-account-key-file=sa.pub).
func checkServiceAccountToken(t *testing.T, c *testcluster.Cluster) {
	t.Helper()
	ctx := testCtx(t, time.Minute)
	cs, err := c.AdminClient()
	if err != nil {
		t.Fatal(err)
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "e2e-sa"}}
	if _, err := cs.CoreV1().ServiceAccounts("default").Create(ctx, sa, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create service account: %v", err)
	}
	tr, err := cs.CoreV1().ServiceAccounts("default").CreateToken(ctx, "e2e-sa", &authnv1.TokenRequest{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create token with sa.key: %v", err)
	}
	cfg := &rest.Config{
		Host:            c.URL(testcluster.APIServer),
		BearerToken:     tr.Status.Token,
		TLSClientConfig: rest.TLSClientConfig{CAFile: filepath.Join(c.PKIDir(), "ca.crt")},
	}
	saClient, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ssr, err := saClient.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authnv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("log in with a service-account token signed by sa.key: %v", err)
	}
	if got, want := ssr.Status.UserInfo.Username, "system:serviceaccount:default:e2e-sa"; got != want {
		t.Errorf("token authenticates as %q, want %q", got, want)
	}
}
