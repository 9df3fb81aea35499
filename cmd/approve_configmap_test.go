package cmd

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	certv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/pki"
)

// TestApproveReadsConfigMapWithKubeconfig: without --config, approve
// takes the cluster's settings from the kubeadm-config ConfigMap of the
// cluster it approves in, read with its own --kubeconfig, as signer run
// does: a CSR for the API server's serving certificate with a SAN of the
// ConfigMap's apiServer.certSANs is approved with --control-plane-node
// (which skips the Nodes, the other way to the ConfigMap). Before, approve
// looked for the ConfigMap through /etc/kubernetes/admin.conf only, so
// that, with --kubeconfig of a workstation, it refused the request that
// signer run with the same --kubeconfig and flags signs.
func TestApproveReadsConfigMapWithKubeconfig(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	key, err := pki.GenerateKey(rand.Reader, pki.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "kube-apiserver"}, DNSNames: []string{"extra.example.com"}}, key)
	if err != nil {
		t.Fatal(err)
	}
	csr := &certv1.CertificateSigningRequest{
		TypeMeta:   metav1.TypeMeta{APIVersion: "certificates.k8s.io/v1", Kind: "CertificateSigningRequest"},
		ObjectMeta: metav1.ObjectMeta{Name: "extra", UID: "1", ResourceVersion: "1"},
		Spec: certv1.CertificateSigningRequestSpec{
			Request: pki.EncodeCSR(&x509.CertificateRequest{Raw: der}), SignerName: "certctl.io/kube-apiserver-serving",
			Usages:   []certv1.KeyUsage{certv1.UsageDigitalSignature, certv1.UsageKeyEncipherment, certv1.UsageServerAuth},
			Username: "kubernetes-admin", Groups: []string{pki.ClusterAdminsGroup, "system:authenticated"},
		},
	}
	cm := kubeadmConfigMap("extra.example.com")
	cm.TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"}
	var mu sync.Mutex
	var seen []string
	url := startFakeAPI(t, n, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Method+" "+r.URL.Path)
		mu.Unlock()
		var obj any
		switch r.Method + " " + r.URL.Path {
		case "GET /api/v1/namespaces/kube-system/configmaps/kubeadm-config":
			obj = cm
		case "GET /apis/certificates.k8s.io/v1/certificatesigningrequests/extra":
			obj = csr
		case "PUT /apis/certificates.k8s.io/v1/certificatesigningrequests/extra/approval":
			approved := csr.DeepCopy()
			approved.Status.Conditions = []certv1.CertificateSigningRequestCondition{{Type: certv1.CertificateApproved, Status: corev1.ConditionTrue, Reason: "CertctlApproved"}}
			obj = approved
		default:
			http.Error(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}`, http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(obj)
	})
	kc := n.APIKubeconfig(t, url, pki.NewValidity(time.Now(), time.Hour, time.Hour))
	out, errOut, err := execute(t, "approve", "extra", "--kubeconfig", kc, "--cert-dir", n.CertDir(), "--control-plane-node", "cp-1=198.51.100.10")
	if err != nil {
		t.Fatalf("approve: %v\nstdout:\n%s\nstderr:\n%s\nrequests: %q", err, out, errOut, seen)
	}
	if !strings.Contains(out, "CSR extra approved") || !strings.Contains(errOut, "ConfigMap kube-system/kubeadm-config (read with kubeconfig "+kc+")") {
		t.Errorf("want the approval, with the settings of the ConfigMap read with %s:\nstdout:\n%s\nstderr:\n%s", kc, out, errOut)
	}
}

// startFakeAPI serves h over HTTPS at 127.0.0.1 with a serving certificate
// of n's cluster CA, until the test ends, and returns its URL.
func startFakeAPI(t *testing.T, n *pkitest.Node, h http.HandlerFunc) string {
	t.Helper()
	caCert, caKey := n.CA(t, "ca")
	key, err := pki.GenerateKey(rand.Reader, pki.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := pki.Sign(rand.Reader, pki.Profile{CommonName: "kube-apiserver", IPs: []net.IP{net.IPv4(127, 0, 0, 1)}, ExtKeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}},
		key.Public(), caCert, caKey, pki.NewValidity(time.Now(), time.Hour, time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{cert.Raw}, PrivateKey: key}}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.URL
}
