package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	certv1 "k8s.io/api/certificates/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/certificate/csr"

	"github.com/certctl/certctl/internal/promtest"
	"github.com/certctl/certctl/internal/testcluster"
	"github.com/certctl/certctl/phases/signer"
	"github.com/certctl/certctl/pki"
	"github.com/certctl/certctl/pki/policy"
)

var serverUsages = []certv1.KeyUsage{certv1.UsageDigitalSignature, certv1.UsageKeyEncipherment, certv1.UsageServerAuth}
var clientUsages = []certv1.KeyUsage{certv1.UsageDigitalSignature, certv1.UsageKeyEncipherment, certv1.UsageClientAuth}
var bothUsages = []certv1.KeyUsage{certv1.UsageDigitalSignature, certv1.UsageKeyEncipherment, certv1.UsageServerAuth, certv1.UsageClientAuth}

// TestSignerRun runs `certctl signer run` (with leader election) against the real API server and
// drives it with `certctl approve` and `certctl deny`:
//   - the API server's serving certificate is renewed through the API, as `renew apiserver
//     --use-api` does: a CSR with the existing certificate's subject and SANs and a new key,
//     approved by `certctl approve`, signed by `certctl signer run` with the cluster CA; the
//     restarted kube-apiserver serves it;
//   - front-proxy-client and etcd-server are signed with their own CAs;
//   - `certctl approve` refuses a request with a foreign SAN (and one with O=system:masters
//     without --allow-system-masters); approved anyway with --force, the signer marks it Failed
//     with a reason, as kube-controller-manager's signer does;
//   - a denied CSR is never signed; /metrics counts what happened; the Lease names the leader.
func TestSignerRun(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Components: []string{testcluster.Etcd, testcluster.APIServer}})
	ctx := testCtx(t, 5*time.Minute)
	cs, err := c.AdminClient()
	if err != nil {
		t.Fatal(err)
	}
	admin := c.Kubeconfig("admin.conf")
	cluster := c.PKI().Flags()
	_, base := startSignerRun(t, ctx, t.TempDir(), append([]string{"--kubeconfig", admin, "--cert-dir", c.PKIDir(),
		"--leader-elect"}, cluster...)...)
	certctlApprove := func(t *testing.T, name string, extra ...string) (string, error) {
		return runCertctl(t, ctx, append(append([]string{"approve", name, "--kubeconfig", admin}, cluster...), extra...)...)
	}
	store := pki.Store{Dir: c.PKIDir()}

	t.Run("renew apiserver through the API", func(t *testing.T) {
		old := readCert(t, store.CertPath("apiserver"))
		prof := pki.ProfileFromCert("apiserver", "apiserver", pki.CAName, old)
		signerName, err := signer.ForCertificate("apiserver")
		if err != nil {
			t.Fatal(err)
		}
		key := newKey(t)
		req := createCSR(t, ctx, cs, "e2e-renew-apiserver", signerName, prof, key, serverUsages)
		if out, err := certctlApprove(t, req.Name); err != nil || !strings.Contains(out, "fits the apiserver certificate") {
			t.Fatalf("certctl approve: %v\n%s", err, out)
		}
		done := waitCSR(t, ctx, cs, req.Name, issued)
		cert := verifyChain(t, done.Status.Certificate, store.CertPath("ca"), x509.ExtKeyUsageServerAuth)
		if cert.Subject.CommonName != "kube-apiserver" || !slices.Equal(cert.DNSNames, old.DNSNames) || len(cert.IPAddresses) != len(old.IPAddresses) || cert.IsCA {
			t.Errorf("renewed certificate: subject %q DNS %q IPs %v CA %v; want the old one's subject and SANs, not a CA", cert.Subject, cert.DNSNames, cert.IPAddresses, cert.IsCA)
		}
		if err := store.WriteKey("apiserver", key); err != nil {
			t.Fatal(err)
		}
		if err := store.WriteCert("apiserver", cert); err != nil {
			t.Fatal(err)
		}
		if err := c.Restart(ctx, testcluster.APIServer); err != nil {
			t.Fatal(err)
		}
		conn, err := tls.Dial("tcp", c.Addr(testcluster.APIServer), &tls.Config{RootCAs: certPool(t, store.CertPath("ca")), ServerName: "kubernetes"})
		if err != nil {
			t.Fatalf("TLS to the restarted kube-apiserver: %v", err)
		}
		served := conn.ConnectionState().PeerCertificates[0]
		conn.Close()
		if served.SerialNumber.Cmp(cert.SerialNumber) != 0 {
			t.Errorf("kube-apiserver serves serial %v, want the renewed %v", served.SerialNumber, cert.SerialNumber)
		}
	})

	// The signer's informer reconnects after the API server's restart.
	for _, tc := range []struct {
		name, ca string
		usages   []certv1.KeyUsage
		eku      x509.ExtKeyUsage
	}{
		{"front-proxy-client", "front-proxy-ca", clientUsages, x509.ExtKeyUsageClientAuth},
		{"etcd-server", "etcd/ca", bothUsages, x509.ExtKeyUsageServerAuth},
		{"apiserver-etcd-client", "etcd/ca", clientUsages, x509.ExtKeyUsageClientAuth},
		{"apiserver-kubelet-client", "ca", clientUsages, x509.ExtKeyUsageClientAuth},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := map[string]string{"front-proxy-client": "front-proxy-client", "etcd-server": "etcd/server", "apiserver-etcd-client": "apiserver-etcd-client", "apiserver-kubelet-client": "apiserver-kubelet-client"}[tc.name]
			prof := pki.ProfileFromCert(tc.name, base, "", readCert(t, store.CertPath(base)))
			signerName, _ := signer.ForCertificate(tc.name)
			req := createCSR(t, ctx, cs, "e2e-"+tc.name, signerName, prof, newKey(t), tc.usages)
			if out, err := certctlApprove(t, req.Name); err != nil {
				t.Fatalf("certctl approve: %v\n%s", err, out)
			}
			done := waitCSR(t, ctx, cs, req.Name, issued)
			verifyChain(t, done.Status.Certificate, store.CertPath(tc.ca), tc.eku)
		})
	}

	t.Run("policy", func(t *testing.T) {
		prof := pki.ProfileFromCert("apiserver", "apiserver", pki.CAName, readCert(t, store.CertPath("apiserver")))
		prof.DNSNames = append(prof.DNSNames, "evil.example.com")
		evil := createCSR(t, ctx, cs, "e2e-evil-san", signer.KubeAPIServerServing, prof, newKey(t), serverUsages)
		out, err := certctlApprove(t, evil.Name)
		if err == nil || !strings.Contains(out, "DNS:evil.example.com") {
			t.Fatalf("certctl approve accepted a foreign SAN: %v\n%s", err, out)
		}
		if got := waitCSR(t, ctx, cs, evil.Name, func(*certv1.CertificateSigningRequest) bool { return true }); len(got.Status.Conditions) != 0 {
			t.Fatalf("refused approval left conditions %+v", got.Status.Conditions)
		}
		out, err = certctlApprove(t, evil.Name, "--force")
		if err != nil || !strings.Contains(out, "--force") {
			t.Fatalf("certctl approve --force: %v\n%s", err, out)
		}
		failed := waitCSR(t, ctx, cs, evil.Name, func(r *certv1.CertificateSigningRequest) bool {
			return hasCondition(r, certv1.CertificateFailed) != nil
		})
		if cond := hasCondition(failed, certv1.CertificateFailed); cond.Reason != policy.ReasonSANNotAllowed || !strings.Contains(cond.Message, "evil.example.com") || issued(failed) {
			t.Errorf("Failed condition %+v (issued %v)", cond, issued(failed))
		}

		superAdmin := pki.ProfileFromCert("super-admin", "super-admin.conf", pki.CAName, clientCertOf(t, c, "super-admin.conf"))
		masters := createCSR(t, ctx, cs, "e2e-super-admin", signer.KubeAPIServerClient, superAdmin, newKey(t), clientUsages)
		if out, err := certctlApprove(t, masters.Name); err == nil || !strings.Contains(out, "--allow-system-masters") {
			t.Fatalf("certctl approve accepted O=system:masters: %v\n%s", err, out)
		}
		if out, err := certctlApprove(t, masters.Name, "--allow-system-masters"); err != nil {
			t.Fatalf("certctl approve --allow-system-masters: %v\n%s", err, out)
		}
		failed = waitCSR(t, ctx, cs, masters.Name, func(r *certv1.CertificateSigningRequest) bool {
			return hasCondition(r, certv1.CertificateFailed) != nil
		})
		if cond := hasCondition(failed, certv1.CertificateFailed); cond.Reason != policy.ReasonSystemMastersRefused {
			t.Errorf("signer run without --allow-system-masters: Failed %+v", cond)
		}

		denied := createCSR(t, ctx, cs, "e2e-denied", signer.FrontProxyClient, pki.Profile{CommonName: "front-proxy-client"}, newKey(t), clientUsages)
		if out, err := runCertctl(t, ctx, "deny", denied.Name, "--kubeconfig", admin, "--reason", "E2EDenied", "--message", "not wanted"); err != nil {
			t.Fatalf("certctl deny: %v\n%s", err, out)
		}
		time.Sleep(time.Second)
		got := waitCSR(t, ctx, cs, denied.Name, func(*certv1.CertificateSigningRequest) bool { return true })
		if cond := hasCondition(got, certv1.CertificateDenied); cond == nil || cond.Reason != "E2EDenied" || issued(got) {
			t.Errorf("denied CSR: conditions %+v, issued %v", got.Status.Conditions, issued(got))
		}
	})

	t.Run("metrics and lease", func(t *testing.T) {
		resp, err := http.Get(base + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, want := range []string{
			`certctl_signer_csrs_signed_total{signer_name="certctl.io/kube-apiserver-serving"} 1`,
			`certctl_signer_csrs_signed_total{signer_name="certctl.io/etcd-server"} 1`,
			`certctl_signer_csrs_signed_total{signer_name="certctl.io/etcd-client"} 1`,
			`certctl_signer_csrs_failed_total{signer_name="certctl.io/kube-apiserver-serving",reason="SANNotAllowed"} 1`,
			`certctl_signer_csrs_failed_total{signer_name="certctl.io/kube-apiserver-client",reason="SystemMastersRefused"} 1`,
			`certctl_signer_csrs_queued 0`,
			`certctl_signer_leader 1`,
		} {
			if ok, err := promtest.HasSample(string(body), want); !ok || err != nil {
				t.Errorf("/metrics lacks %q (%v):\n%s", want, err, body)
			}
		}
		lease, err := cs.CoordinationV1().Leases("kube-system").Get(ctx, "certctl-signer", metav1.GetOptions{})
		if err != nil || lease.Spec.HolderIdentity == nil || *lease.Spec.HolderIdentity == "" {
			t.Errorf("Lease kube-system/certctl-signer: %+v %v", lease, err)
		}
	})

	t.Run("certctl sign", func(t *testing.T) { testSignCommand(t, ctx, c, cs) })
}

// clientCertOf returns the client certificate embedded in kubeconfig file name.
func clientCertOf(t *testing.T, c *testcluster.Cluster, name string) *x509.Certificate {
	t.Helper()
	cfg, err := c.RESTConfig(name)
	if err != nil {
		t.Fatal(err)
	}
	return parseCertPEM(t, cfg.CertData, name)
}

// testSignCommand is the documentation's manual signer done with certctl: a CSR for a custom
// signer name, which no controller signs, is refused while pending, then signed by
// `certctl sign` with a CA of the test's and a cfssl-style signing configuration;
// client-go's WaitForCertificate returns it.
func testSignCommand(t *testing.T, ctx context.Context, c *testcluster.Cluster, cs kubernetes.Interface) {
	dir := t.TempDir()
	ca := newCA(t, "e2e example CA")
	s := pki.Store{Dir: dir}
	if err := s.WriteCert("ca", ca.cert); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteKey("ca", ca.key); err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(dir, "server-signing-config.json")
	cfg := map[string]any{"signing": map[string]any{"default": map[string]any{
		"usages": []string{"digital signature", "key encipherment", "server auth"}, "expiry": "876000h",
		"ca_constraint": map[string]any{"is_ca": false}}}}
	data, _ := json.Marshal(cfg)
	if err := os.WriteFile(config, data, 0o644); err != nil {
		t.Fatal(err)
	}
	key := newKey(t)
	req := createCSR(t, ctx, cs, "my-svc.my-namespace", "example.com/serving",
		pki.Profile{CommonName: "my-pod.my-namespace.pod.cluster.local", DNSNames: []string{"my-svc.my-namespace.svc.cluster.local"}}, key, serverUsages)
	args := []string{"sign", req.Name, "--kubeconfig", c.Kubeconfig("admin.conf"), "--ca-cert", s.CertPath("ca"), "--ca-key", s.KeyPath("ca"), "--signing-config", config}
	if out, err := runCertctl(t, ctx, args...); err == nil || !strings.Contains(out, "not approved") {
		t.Fatalf("certctl sign signed a pending CSR: %v\n%s", err, out)
	}
	approve(t, ctx, cs, req)
	if out, err := runCertctl(t, ctx, args...); err != nil || !strings.Contains(out, "signed by") {
		t.Fatalf("certctl sign: %v\n%s", err, out)
	}
	certPEM, err := csr.WaitForCertificate(ctx, cs, req.Name, req.UID)
	if err != nil {
		t.Fatal(err)
	}
	cert := parseCertPEM(t, certPEM, "signed certificate")
	if _, err := cert.Verify(x509.VerifyOptions{Roots: poolOf(ca.cert), DNSName: "my-svc.my-namespace.svc.cluster.local", KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
		t.Errorf("signed certificate: %v", err)
	}
	if !cert.NotAfter.Equal(ca.cert.NotAfter) || cert.IsCA {
		t.Errorf("NotAfter %v (CA's %v), IsCA %v: want capped at the CA, not a CA", cert.NotAfter, ca.cert.NotAfter, cert.IsCA)
	}
	if out, err := runCertctl(t, ctx, args...); err == nil || !strings.Contains(out, "already has a certificate") {
		t.Errorf("certctl sign twice: %v\n%s", err, out)
	}
}

func poolOf(certs ...*x509.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	for _, c := range certs {
		p.AddCert(c)
	}
	return p
}
