package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/certctl/certctl/internal/testcluster"
	"github.com/certctl/certctl/pki/kubeconfig"
)

// kubeadmKubeconfigs are the kubeconfig files the control plane needs, with the subject of
// their client certificate, as openssl's -subj spells it.
var kubeadmKubeconfigs = map[string]string{
	"admin.conf":              "/O=kubeadm:cluster-admins/CN=kubernetes-admin",
	"super-admin.conf":        "/O=system:masters/CN=kubernetes-super-admin",
	"controller-manager.conf": "/CN=system:kube-controller-manager",
	"scheduler.conf":          "/CN=system:kube-scheduler",
}

// TestExternalCA runs the external-CA workflow of docs/external-ca.md with a CA operated by the
// openssl command line, whose keys never enter the node:
//
//  1. first installation: the CA certificates (only) in the certificate folder, `certctl
//     init-phase certs all --use-csr`, kubeconfig CSRs in kubeadm's generate-csr layout, every
//     CSR signed with `openssl x509 -req` and an extensions file made from its request file,
//     `certctl certs import`; then etcd, kube-apiserver and kube-controller-manager start on it
//     and an authenticated request succeeds;
//  2. renewal: `certctl renew all --use-csr`, signed the same way, `certctl certs import`, the
//     components restarted: they serve and accept the renewed certificates.
//
// check-expiration then marks every CA and certificate externally managed, with no problem.
func TestExternalCA(t *testing.T) {
	op := t.TempDir() // the CA operator's
	cas := opensslCAs(t, op)
	csrInit := filepath.Join(t.TempDir(), "csr-init")
	c := testcluster.Start(t, testcluster.Options{
		// As kubeadm runs kube-controller-manager with an external CA: no signing key.
		ExtraArgs: map[string][]string{testcluster.ControllerManager: {"--cluster-signing-cert-file=", "--cluster-signing-key-file="}},
		WritePKI: func(ctx context.Context, s *testcluster.PKISpec) error {
			for file, ca := range cas {
				if err := os.MkdirAll(filepath.Dir(filepath.Join(s.CertDir, file)), 0o755); err != nil {
					return err
				}
				if err := os.WriteFile(filepath.Join(s.CertDir, file), readFile(t, ca.crt), 0o644); err != nil {
					return err
				}
			}
			if err := s.Certctl(ctx, append([]string{"init-phase", "certs", "sa", "--cert-dir", s.CertDir}, s.Flags()...)...); err != nil {
				return err
			}
			if err := s.Certctl(ctx, append([]string{"init-phase", "certs", "all", "--use-csr", "--csr-dir", csrInit, "--cert-dir", s.CertDir}, s.Flags()...)...); err != nil {
				return err
			}
			if n := signAllRequests(t, csrInit, cas); n != 7 {
				return fmt.Errorf("init-phase certs --use-csr wrote %d request files, want 7", n)
			}
			writeKubeadmKubeconfigCSRs(t, csrInit, "https://"+s.ControlPlaneEndpoint, cas["ca.crt"])
			return s.Certctl(ctx, "certs", "import", "--csr-dir", csrInit, "--cert-dir", s.CertDir, "--kubeconfig-dir", s.KubeconfigDir)
		},
	})
	ctx := testCtx(t, 5*time.Minute)
	for _, f := range []string{"ca.key", "front-proxy-ca.key", "etcd/ca.key"} {
		if _, err := os.Stat(filepath.Join(c.PKIDir(), f)); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("%s is on the node (%v): the external CA's keys must not be", f, err)
		}
	}
	authenticatedRequest(t, ctx, c)
	first := readCert(t, filepath.Join(c.PKIDir(), "apiserver.crt"))

	// Renewal.
	csrRenew := filepath.Join(t.TempDir(), "csr-renew")
	folders := []string{"--cert-dir", c.PKIDir(), "--kubeconfig-dir", c.KubeconfigDir()}
	out, err := runCertctl(t, ctx, append([]string{"renew", "all", "--use-csr", "--csr-dir", csrRenew}, folders...)...)
	if err != nil {
		t.Fatalf("renew --use-csr: %v", err)
	}
	if !strings.Contains(out, "certctl certs import --csr-dir "+csrRenew) {
		t.Errorf("renew --use-csr does not say how to import:\n%s", out)
	}
	if n := signAllRequests(t, csrRenew, cas); n != 11 {
		t.Fatalf("renew all --use-csr wrote %d request files, want 11", n)
	}
	out, err = runCertctl(t, ctx, append([]string{"certs", "import", "--csr-dir", csrRenew}, folders...)...)
	if err != nil {
		t.Fatalf("certs import: %v", err)
	}
	for _, want := range []string{"apiserver installed", "admin.conf installed", "certctl-backups", "kube-apiserver"} {
		if !strings.Contains(out, want) {
			t.Errorf("import output does not mention %q", want)
		}
	}
	for _, name := range []string{testcluster.Etcd, testcluster.APIServer, testcluster.ControllerManager} {
		if err := c.Restart(ctx, name); err != nil {
			t.Fatal(err)
		}
	}
	renewed := readCert(t, filepath.Join(c.PKIDir(), "apiserver.crt"))
	if renewed.SerialNumber.Cmp(first.SerialNumber) == 0 {
		t.Fatal("apiserver.crt was not replaced")
	}
	if got := served(t, c.Addr(testcluster.APIServer), clientTLS(t, c, "ca.crt", "")); !got.Equal(renewed) {
		t.Errorf("kube-apiserver serves serial %x, want the imported %x", got.SerialNumber, renewed.SerialNumber)
	}
	if got := served(t, c.Addr(testcluster.Etcd), clientTLS(t, c, "etcd/ca.crt", "etcd/healthcheck-client")); !got.Equal(readCert(t, filepath.Join(c.PKIDir(), "etcd", "server.crt"))) {
		t.Error("etcd does not serve the imported etcd/server.crt")
	}
	if got := kubeconfigCert(t, c.Kubeconfig("admin.conf")); !got.Equal(parseCertPEM(t, readFile(t, filepath.Join(csrRenew, "admin.conf.crt")), "admin.conf.crt")) {
		t.Error("admin.conf does not hold the certificate the CA signed")
	}
	authenticatedRequest(t, ctx, c)
	checkExternallyManaged(t, ctx, folders)
}

// writeKubeadmKubeconfigCSRs writes, for each of kubeadmKubeconfigs, what `kubeadm certs
// generate-csr` writes (a kubeconfig holding only a new key, and NAME.conf.csr; no request file:
// the import falls back to the CSR and kubeadm's usages), and the certificate the operator signs
// for it as NAME.conf.crt. kubeadm itself is not run: it refuses a loopback advertise address.
func writeKubeadmKubeconfigCSRs(t *testing.T, dir, server string, ca opensslCA) {
	t.Helper()
	for name, subject := range kubeadmKubeconfigs {
		key, csr := filepath.Join(t.TempDir(), "key.pem"), filepath.Join(dir, name+".csr")
		newOpenSSLCSR(t, key, csr, subject)
		user := subject[strings.LastIndex(subject, "CN=")+3:]
		if err := kubeconfig.Write(filepath.Join(dir, name), kubeconfig.Build("kubernetes", server, user, nil, nil, readFile(t, key))); err != nil {
			t.Fatal(err)
		}
		signCSROpenSSL(t, csr, filepath.Join(dir, name+".crt"), ca,
			extensions{keyUsage: "digitalSignature, keyEncipherment", extKeyUsage: "clientAuth"}, 365, signing{})
	}
}

// authenticatedRequest: the API server authenticates each kubeconfig's client certificate as
// the user and groups of its subject (a SelfSubjectReview), and authorizes admin.conf's user
// to list namespaces (RBAC, kubeadm:cluster-admins).
func authenticatedRequest(t *testing.T, ctx context.Context, c *testcluster.Cluster) {
	t.Helper()
	for name, subject := range kubeadmKubeconfigs {
		cs, err := c.Clientset(name)
		if err != nil {
			t.Fatal(err)
		}
		r, err := cs.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authnv1.SelfSubjectReview{}, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("%s: self subject review: %v", name, err)
		}
		user := r.Status.UserInfo
		want := subject[strings.LastIndex(subject, "CN=")+3:]
		if user.Username != want {
			t.Errorf("%s authenticates as %q, want %q", name, user.Username, want)
		}
		if i := strings.Index(subject, "/O="); i >= 0 && !slices.Contains(user.Groups, strings.SplitN(subject[i+3:], "/", 2)[0]) {
			t.Errorf("%s: groups %v lack its O", name, user.Groups)
		}
	}
	admin, err := c.AdminClient()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.CoreV1().Namespaces().List(ctx, metav1.ListOptions{}); err != nil {
		t.Fatalf("list namespaces as admin.conf: %v", err)
	}
}

// checkExternallyManaged: with no CA key on the node, check-expiration marks every CA and every
// certificate they sign externally managed, as kubeadm does, and finds no problem.
func checkExternallyManaged(t *testing.T, ctx context.Context, folders []string) {
	t.Helper()
	out, err := exec.CommandContext(ctx, certctlBin(t), append([]string{"check-expiration", "-o", "json"}, folders...)...).Output()
	if err != nil {
		t.Fatalf("check-expiration: %v\n%s", err, out)
	}
	var info struct {
		Certificates, CertificateAuthorities []struct {
			Name              string            `json:"name"`
			ExternallyManaged bool              `json:"externallyManaged"`
			Problems          []json.RawMessage `json:"problems"`
		}
	}
	if err := json.Unmarshal(out, &info); err != nil {
		t.Fatal(err)
	}
	if len(info.CertificateAuthorities) != 3 {
		t.Errorf("%d CAs listed, want 3", len(info.CertificateAuthorities))
	}
	for _, row := range append(info.CertificateAuthorities, info.Certificates...) {
		if !row.ExternallyManaged && row.Name != "kubelet.conf" {
			t.Errorf("%s: not externally managed", row.Name)
		}
		if len(row.Problems) > 0 {
			t.Errorf("%s: problems %s", row.Name, row.Problems)
		}
	}
}

// TestExternalCARefusals: each way a CA operator can get apiserver's certificate wrong, signed
// with openssl, is refused by `certctl certs import` with the precise reason and exit status 2,
// nothing of it is installed (the node's tree is byte-identical but for the certificate signed
// right in the same import, front-proxy-client's), and the right one is installed.
func TestExternalCARefusals(t *testing.T) {
	ctx := testCtx(t, 5*time.Minute)
	op := t.TempDir()
	cas := opensslCAs(t, op)
	otherCA := newOpenSSLCA(t, op, "other-ca", "kubernetes")
	otherKey, otherCSR := filepath.Join(op, "other.key"), filepath.Join(op, "other.csr")
	newOpenSSLCSR(t, otherKey, otherCSR, "/CN=kube-apiserver")

	// A node made by certctl with the operator's CAs, whose keys then leave it.
	base := t.TempDir()
	pkiDir := filepath.Join(base, "pki")
	nodeFlags := []string{"--cert-dir", pkiDir, "--node-name", "cp-1", "--apiserver-advertise-address", "198.51.100.10"}
	for file, ca := range cas {
		os.MkdirAll(filepath.Dir(filepath.Join(pkiDir, file)), 0o755)
		os.WriteFile(filepath.Join(pkiDir, file), readFile(t, ca.crt), 0o644)
		os.WriteFile(filepath.Join(pkiDir, strings.TrimSuffix(file, ".crt")+".key"), readFile(t, ca.key), 0o600)
	}
	for _, args := range [][]string{{"init-phase", "certs", "all"}, {"init-phase", "kubeconfig", "all", "--kubeconfig-dir", base}} {
		if _, err := runCertctl(t, ctx, append(args, nodeFlags...)...); err != nil {
			t.Fatal(err)
		}
	}
	for file := range cas {
		os.Remove(filepath.Join(pkiDir, strings.TrimSuffix(file, ".crt")+".key"))
	}
	csrBase := filepath.Join(base, "csr")
	if _, err := runCertctl(t, ctx, "renew", "apiserver", "front-proxy-client", "--use-csr", "--csr-dir", csrBase, "--cert-dir", pkiDir, "--kubeconfig-dir", base); err != nil {
		t.Fatal(err)
	}

	now := time.Now()
	tests := []struct {
		name string
		how  signing
		// garbage, when set, is written as the certificate instead of signing.
		garbage string
		want    string
	}{
		{name: "wrong key", how: signing{csr: otherCSR}, want: "it does not match the private key"},
		{name: "wrong CA", how: signing{ca: &otherCA}, want: `it is not signed by the CA "kubernetes"`},
		{name: "missing usage", how: signing{edit: func(e *extensions) { e.extKeyUsage = "clientAuth" }}, want: "it lacks the extended key usages server auth"},
		{name: "missing SAN", how: signing{edit: func(e *extensions) { e.subjectAltName = strings.Replace(e.subjectAltName, "DNS:cp-1, ", "", 1) }}, want: "it lacks the SANs cp-1"},
		{name: "expired", how: signing{startDate: now.Add(-48 * time.Hour), endDate: now.Add(-time.Hour)},
			want: "expired on " + now.Add(-time.Hour).UTC().Format("2006-01-02T15:04:05Z")},
		{name: "not yet valid", how: signing{startDate: now.Add(24 * time.Hour), endDate: now.Add(48 * time.Hour)},
			want: "not valid before " + now.Add(24*time.Hour).UTC().Format("2006-01-02T15:04:05Z")},
		{name: "garbage file", garbage: "this is not a certificate\n", want: "apiserver.crt: it holds no PEM certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			node := filepath.Join(t.TempDir(), "node")
			if out, err := exec.Command("cp", "-a", base, node).CombinedOutput(); err != nil {
				t.Fatalf("copy the node: %v\n%s", err, out)
			}
			csrDir := filepath.Join(node, "csr")
			signRequest(t, filepath.Join(csrDir, "front-proxy-client.request.json"), cas, signing{})
			if tt.garbage != "" {
				os.WriteFile(filepath.Join(csrDir, "apiserver.crt"), []byte(tt.garbage), 0o644)
			} else {
				signRequest(t, filepath.Join(csrDir, "apiserver.request.json"), cas, tt.how)
			}
			nodeDir := filepath.Join(node, "pki")
			before := hashTree(t, node, csrDir)
			out, err := runCertctl(t, ctx, "certs", "import", "--csr-dir", csrDir, "--cert-dir", nodeDir, "--kubeconfig-dir", node)
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 2 {
				t.Fatalf("exit %v, want status 2", err)
			}
			for _, want := range []string{"REFUSED apiserver", tt.want, "nothing of it was installed", "front-proxy-client installed"} {
				if !strings.Contains(out, want) {
					t.Errorf("output does not mention %q", want)
				}
			}
			after := hashTree(t, node, csrDir)
			for _, f := range []string{"pki/front-proxy-client.crt", "pki/front-proxy-client.key"} {
				if before[f] == after[f] {
					t.Errorf("%s was not installed", f)
				}
				delete(before, f)
				delete(after, f)
			}
			for f, h := range before {
				if after[f] != h {
					t.Errorf("%s changed", f)
				}
			}
			for f := range after {
				if _, ok := before[f]; !ok && !strings.HasPrefix(f, "certctl-backups/") {
					t.Errorf("%s was created", f)
				}
			}
		})
	}
}

// hashTree hashes every file under dir but skip, by path relative to dir, with its mode. The
// lock file is left out: every writing command records its PID there.
func hashTree(t *testing.T, dir, skip string) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == skip {
			return filepath.SkipDir
		}
		if d.IsDir() || d.Name() == ".certctl.lock" {
			return nil
		}
		st, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		m[rel] = fmt.Sprintf("%v %x", st.Mode(), sha256.Sum256(readFile(t, p)))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}
