package e2e

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	certv1 "k8s.io/api/certificates/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/certctl/certctl/internal/testcluster"
	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/phases/signer"
	"github.com/certctl/certctl/pki"
	"github.com/certctl/certctl/pki/policy"
)

// createRawCSR creates a CSR for the PKCS#10 request tmpl signed by key.
func createRawCSR(t *testing.T, ctx context.Context, cs kubernetes.Interface, name, signerName string, tmpl *x509.CertificateRequest, key crypto.Signer, usages []certv1.KeyUsage) *certv1.CertificateSigningRequest {
	t.Helper()
	der, err := x509.CreateCertificateRequest(rand.Reader, tmpl, key)
	if err != nil {
		t.Fatal(err)
	}
	csr := &certv1.CertificateSigningRequest{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: certv1.CertificateSigningRequestSpec{Request: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}),
			SignerName: signerName, Usages: usages},
	}
	created, err := cs.CertificatesV1().CertificateSigningRequests().Create(ctx, csr, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create CSR %s: %v", name, err)
	}
	return created
}

// TestSignPolicy: `certctl sign` applies the issuance policy on a real API server (issue 13,
// defects 1 and 2): it refuses O=system:masters, CA:TRUE, RSA-1024 and ECDSA P-224 keys, a
// cfssl "expiry": "1ns", and, --force or not, unapproved and kubernetes.io/* requests; what it
// signs for a custom signer name has a subject and an authority key identifier.
func TestSignPolicy(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Components: []string{testcluster.Etcd, testcluster.APIServer}})
	ctx := testCtx(t, 3*time.Minute)
	cs, err := c.AdminClient()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ca := newCA(t, "e2e policy CA")
	s := pki.Store{Dir: dir}
	if err := s.WriteCert("ca", ca.cert); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteKey("ca", ca.key); err != nil {
		t.Fatal(err)
	}
	writeConfig := func(expiry string) string {
		path := filepath.Join(dir, "config-"+expiry+".json")
		data := `{"signing": {"default": {"usages": ["digital signature", "key encipherment", "server auth"], "expiry": "` + expiry + `"}}}`
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	sign := func(name, config string, extra ...string) (string, error) {
		args := append([]string{"sign", name, "--kubeconfig", c.Kubeconfig("admin.conf"), "--ca-cert", s.CertPath("ca"), "--ca-key", s.KeyPath("ca"), "--signing-config", config}, extra...)
		return runCertctl(t, ctx, args...)
	}
	rsa1024, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	p224, err := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTrue := pkix.Extension{Id: asn1.ObjectIdentifier{2, 5, 29, 19}, Critical: true, Value: []byte{0x30, 0x03, 0x01, 0x01, 0xff}}
	svc := pkix.Name{CommonName: "my-svc.my-namespace.svc"}
	good := writeConfig("24h")
	for _, tc := range []struct {
		name, signerName string
		tmpl             *x509.CertificateRequest
		key              crypto.Signer
		config           string
		approved         bool
		extra            []string
		want             string
	}{
		{"system-masters", "example.com/serving", &x509.CertificateRequest{Subject: pkix.Name{CommonName: "root", Organization: []string{pki.MastersGroup}}}, newKey(t), good, true, nil, "O=system:masters"},
		{"ca-true", "example.com/serving", &x509.CertificateRequest{Subject: svc, ExtraExtensions: []pkix.Extension{caTrue}}, newKey(t), good, true, nil, "CA:TRUE"},
		{"rsa-1024", "example.com/serving", &x509.CertificateRequest{Subject: svc}, rsa1024, good, true, nil, "RSA-1024"},
		{"p-224", "example.com/serving", &x509.CertificateRequest{Subject: svc}, p224, good, true, nil, "ECDSA P-224"},
		{"expiry-1ns", "example.com/serving", &x509.CertificateRequest{Subject: svc}, newKey(t), writeConfig("1ns"), true, nil, "shorter than 1h0m0s"},
		{"unapproved-forced", "example.com/serving", &x509.CertificateRequest{Subject: svc}, newKey(t), good, false, []string{"--force"}, "never signs an unapproved CSR"},
		{"kubernetes-io-forced", certv1.KubeAPIServerClientSignerName, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "x"}}, newKey(t), good, false, []string{"--force"}, "never signs an unapproved CSR"},
		{"kubernetes-io-approved", certv1.KubeAPIServerClientSignerName, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "x"}}, newKey(t), good, true, nil, "belongs to kube-controller-manager"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			usages := serverUsages
			if strings.HasPrefix(tc.signerName, "kubernetes.io/") {
				usages = clientUsages
			}
			req := createRawCSR(t, ctx, cs, "e2e-policy-"+tc.name, tc.signerName, tc.tmpl, tc.key, usages)
			if tc.approved {
				approve(t, ctx, cs, req)
			}
			out, err := sign(req.Name, tc.config, tc.extra...)
			if err == nil || !strings.Contains(out, tc.want) {
				t.Fatalf("certctl sign: %v, want refused with %q\n%s", err, tc.want, out)
			}
			got, err := cs.CertificatesV1().CertificateSigningRequests().Get(ctx, req.Name, metav1.GetOptions{})
			if err != nil || issued(got) {
				t.Errorf("refused CSR: %v, issued %v", err, err == nil && issued(got))
			}
		})
	}

	t.Run("key identifiers", func(t *testing.T) {
		req := createRawCSR(t, ctx, cs, "e2e-policy-good", "example.com/serving", &x509.CertificateRequest{Subject: svc, DNSNames: []string{svc.CommonName}}, newKey(t), serverUsages)
		approve(t, ctx, cs, req)
		if out, err := sign(req.Name, good); err != nil {
			t.Fatalf("certctl sign: %v\n%s", err, out)
		}
		got := waitCSR(t, ctx, cs, req.Name, issued)
		cert := parseCertPEM(t, got.Status.Certificate, "signed certificate")
		ski, _ := policy.KeyID(cert.PublicKey)
		aki, _ := policy.KeyID(ca.cert.PublicKey)
		if string(cert.SubjectKeyId) != string(ski) || string(cert.AuthorityKeyId) != string(aki) {
			t.Errorf("SKI %x (want %x), AKI %x (want %x)", cert.SubjectKeyId, ski, cert.AuthorityKeyId, aki)
		}
	})
}

// TestSignerRunMastersRequester: with --allow-system-masters, `certctl signer run` itself checks
// who asked for O=system:masters (issue 13, defect 3). A CSR for super-admin.conf's subject
// created by a user outside the requester groups and approved by plain `kubectl certificate
// approve` is marked Failed; the same CSR from admin.conf's user is signed.
func TestSignerRunMastersRequester(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Components: []string{testcluster.Etcd, testcluster.APIServer}})
	ctx := testCtx(t, 3*time.Minute)
	cs, err := c.AdminClient()
	if err != nil {
		t.Fatal(err)
	}
	// A user who may create CSRs (the bootstrap role kubelets use), in no requester group.
	_, err = cs.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "e2e-devs-csr"},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "system:node-bootstrapper"},
		Subjects:   []rbacv1.Subject{{Kind: "Group", APIGroup: "rbac.authorization.k8s.io", Name: "e2e-devs"}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := c.RESTConfig("admin.conf")
	if err != nil {
		t.Fatal(err)
	}
	dev := loadIssuer(t, c, "ca").clientCert(t, pkix.Name{CommonName: "e2e-dev", Organization: []string{"e2e-devs"}})
	keyPEM, err := pki.MarshalPrivateKey(dev.PrivateKey.(crypto.Signer))
	if err != nil {
		t.Fatal(err)
	}
	cfg.CertData, cfg.KeyData = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: dev.Certificate[0]}), keyPEM
	devClient, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	startSignerRun(t, ctx, t.TempDir(), append([]string{"--kubeconfig", c.Kubeconfig("admin.conf"), "--cert-dir", c.PKIDir(), "--allow-system-masters"}, c.PKI().Flags()...)...)

	superAdmin := pki.ProfileFromCert("super-admin", "super-admin.conf", pki.CAName, clientCertOf(t, c, "super-admin.conf"))
	byDev := createCSR(t, ctx, devClient, "e2e-masters-by-dev", signer.KubeAPIServerClient, superAdmin, newKey(t), clientUsages)
	byAdmin := createCSR(t, ctx, cs, "e2e-masters-by-admin", signer.KubeAPIServerClient, superAdmin, newKey(t), clientUsages)
	approve(t, ctx, cs, byDev)
	approve(t, ctx, cs, byAdmin)
	failed := waitCSR(t, ctx, cs, byDev.Name, func(r *certv1.CertificateSigningRequest) bool {
		return hasCondition(r, certv1.CertificateFailed) != nil || issued(r)
	})
	if cond := hasCondition(failed, certv1.CertificateFailed); cond == nil || cond.Reason != policy.ReasonSystemMastersRefused || !strings.Contains(cond.Message, "e2e-dev") || issued(failed) {
		t.Errorf("O=system:masters requested by e2e-dev: Failed %+v, issued %v", cond, issued(failed))
	}
	waitCSR(t, ctx, cs, byAdmin.Name, issued)
}

// TestCustomSignerController: the controller of `certctl signer run --signer
// example.com/serving=CA,KEY,CONFIG` serves the seed document's scenario on a real API server:
// an approved CSR for example.com/serving is signed with the user's CA and signing
// configuration, with key identifiers; one asking for O=system:masters is marked Failed.
func TestCustomSignerController(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Components: []string{testcluster.Etcd, testcluster.APIServer}})
	ctx := testCtx(t, 3*time.Minute)
	cs, err := c.AdminClient()
	if err != nil {
		t.Fatal(err)
	}
	ex := newExampleSigner(t)
	ca := ex.ca
	custom, _, err := signer.ParseCustomSigner(ex.spec(), signer.CASourceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	node := config.Default()
	node.NodeName, node.AdvertiseAddress = "cp-1", "192.0.2.10"
	pol, err := signer.NewPolicy(signer.PolicyOptions{Nodes: []*config.Cluster{&node}})
	if err != nil {
		t.Fatal(err)
	}
	ctrl, err := signer.NewController(signer.ControllerOptions{Client: cs, Policy: pol, Custom: []signer.CustomSigner{custom}})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error)
	go func() { done <- ctrl.Run(runCtx) }()
	t.Cleanup(func() { cancel(); <-done })

	svc := pkix.Name{CommonName: "my-pod.my-namespace.pod.cluster.local"}
	good := createRawCSR(t, ctx, cs, "my-svc.my-namespace", "example.com/serving", &x509.CertificateRequest{Subject: svc, DNSNames: []string{"my-svc.my-namespace.svc.cluster.local"}}, newKey(t), serverUsages)
	bad := createRawCSR(t, ctx, cs, "e2e-custom-masters", "example.com/serving", &x509.CertificateRequest{Subject: pkix.Name{CommonName: "x", Organization: []string{pki.MastersGroup}}}, newKey(t), serverUsages)
	approve(t, ctx, cs, good)
	approve(t, ctx, cs, bad)
	got := waitCSR(t, ctx, cs, good.Name, issued)
	cert := parseCertPEM(t, got.Status.Certificate, "signed certificate")
	if _, err := cert.Verify(x509.VerifyOptions{Roots: poolOf(ca.cert), DNSName: "my-svc.my-namespace.svc.cluster.local", KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
		t.Errorf("signed certificate: %v", err)
	}
	if len(cert.SubjectKeyId) == 0 || len(cert.AuthorityKeyId) == 0 || cert.IsCA {
		t.Errorf("SKI %x, AKI %x, CA %v: want key identifiers, not a CA", cert.SubjectKeyId, cert.AuthorityKeyId, cert.IsCA)
	}
	failed := waitCSR(t, ctx, cs, bad.Name, func(r *certv1.CertificateSigningRequest) bool {
		return hasCondition(r, certv1.CertificateFailed) != nil || issued(r)
	})
	if cond := hasCondition(failed, certv1.CertificateFailed); cond == nil || cond.Reason != policy.ReasonSystemMastersRefused || issued(failed) {
		t.Errorf("O=system:masters for example.com/serving: Failed %+v, issued %v", cond, issued(failed))
	}
}

// exampleSigner is the seed document's signer of example.com/serving: its
// CA and the documentation's server-signing-config.json, as files.
type exampleSigner struct {
	dir                       string
	ca                        issuer
	certFile, keyFile, config string
}

func newExampleSigner(t *testing.T) exampleSigner {
	t.Helper()
	dir := t.TempDir()
	ex := exampleSigner{dir: dir, ca: newCA(t, "e2e example CA"), config: filepath.Join(dir, "server-signing-config.json")}
	s := pki.Store{Dir: dir}
	if err := s.WriteCert("ca", ex.ca.cert); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteKey("ca", ex.ca.key); err != nil {
		t.Fatal(err)
	}
	ex.certFile, ex.keyFile = s.CertPath("ca"), s.KeyPath("ca")
	if err := os.WriteFile(ex.config, []byte(`{"signing": {"default": {"usages": ["digital signature", "key encipherment", "server auth"], "expiry": "876000h", "ca_constraint": {"is_ca": false}}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	return ex
}

// spec is the signer as `signer run --signer` takes it.
func (ex exampleSigner) spec() string {
	return "example.com/serving=" + ex.certFile + "," + ex.keyFile + "," + ex.config
}
