package e2e

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/certctl/certctl/internal/testcluster"
)

// TestRenewOnLiveControlPlane renews every certificate of a running control
// plane with `certctl renew all`, restarts etcd and kube-apiserver (and
// kube-controller-manager) as certctl says to, and checks that each serves
// its renewed certificate (a new serial), that kube-apiserver reaches etcd
// with its renewed client certificate, and that clients with the renewed
// admin.conf and controller-manager.conf authenticate.
func TestRenewOnLiveControlPlane(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{})
	ctx := testCtx(t, 5*time.Minute)
	pkiDir := c.PKIDir()
	files := []string{"apiserver.crt", "etcd/server.crt", "apiserver-etcd-client.crt", "front-proxy-client.crt"}
	kubeconfigs := []string{"admin.conf", "controller-manager.conf", "super-admin.conf", "scheduler.conf"}
	before := map[string]*x509.Certificate{}
	for _, f := range files {
		before[f] = readCert(t, filepath.Join(pkiDir, f))
	}
	for _, k := range kubeconfigs {
		before[k] = kubeconfigCert(t, c.Kubeconfig(k))
	}
	oldServed := served(t, c.Addr(testcluster.APIServer), clientTLS(t, c, "ca.crt", ""))

	if err := c.PKI().Certctl(ctx, "renew", "all", "--cert-dir", pkiDir, "--kubeconfig-dir", c.KubeconfigDir()); err != nil {
		t.Fatalf("certctl renew all: %v", err)
	}
	after := map[string]*x509.Certificate{}
	for _, f := range files {
		after[f] = readCert(t, filepath.Join(pkiDir, f))
	}
	for _, k := range kubeconfigs {
		after[k] = kubeconfigCert(t, c.Kubeconfig(k))
	}
	for name, b := range before {
		a := after[name]
		if a.SerialNumber.Cmp(b.SerialNumber) == 0 {
			t.Errorf("%s: serial unchanged after renew all", name)
		}
		if a.Subject.String() != b.Subject.String() || !slices.Equal(a.DNSNames, b.DNSNames) || len(a.IPAddresses) != len(b.IPAddresses) {
			t.Errorf("%s: identity changed: %v %v -> %v %v", name, b.Subject, b.DNSNames, a.Subject, a.DNSNames)
		}
	}
	if err := c.PKI().Certctl(ctx, "check-expiration", "--cert-dir", pkiDir, "--kubeconfig-dir", c.KubeconfigDir()); err != nil {
		t.Errorf("certctl check-expiration after renewal: %v", err)
	}

	// etcd first: kube-apiserver needs it to become ready.
	for _, name := range []string{testcluster.Etcd, testcluster.APIServer, testcluster.ControllerManager} {
		if err := c.Restart(ctx, name); err != nil {
			t.Fatalf("restart %s: %v", name, err)
		}
	}

	t.Run("kube-apiserver serves the renewed apiserver.crt", func(t *testing.T) {
		got := served(t, c.Addr(testcluster.APIServer), clientTLS(t, c, "ca.crt", ""))
		if got.SerialNumber.Cmp(oldServed.SerialNumber) == 0 || !got.Equal(after["apiserver.crt"]) {
			t.Errorf("kube-apiserver serves serial %x; old %x, renewed %x", got.SerialNumber, oldServed.SerialNumber, after["apiserver.crt"].SerialNumber)
		}
	})
	t.Run("etcd serves the renewed server.crt to the renewed apiserver-etcd-client", func(t *testing.T) {
		// The handshake also proves etcd accepts the renewed client certificate.
		got := served(t, c.Addr(testcluster.Etcd), clientTLS(t, c, "etcd/ca.crt", "apiserver-etcd-client"))
		if !got.Equal(after["etcd/server.crt"]) {
			t.Errorf("etcd serves serial %x, want the renewed %x", got.SerialNumber, after["etcd/server.crt"].SerialNumber)
		}
	})
	for _, tc := range []struct{ kubeconfig, user string }{
		{"admin.conf", "kubernetes-admin"},
		{"controller-manager.conf", "system:kube-controller-manager"},
		{"super-admin.conf", "kubernetes-super-admin"},
	} {
		t.Run(tc.kubeconfig+" authenticates", func(t *testing.T) {
			cs, err := c.Clientset(tc.kubeconfig)
			if err != nil {
				t.Fatal(err)
			}
			var ssr *authnv1.SelfSubjectReview
			// Right after the restarts, let the apiserver's etcd client settle.
			deadline := time.Now().Add(time.Minute)
			for {
				ssr, err = cs.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authnv1.SelfSubjectReview{}, metav1.CreateOptions{})
				if err == nil || time.Now().After(deadline) {
					break
				}
				time.Sleep(200 * time.Millisecond)
			}
			if err != nil {
				t.Fatalf("SelfSubjectReview with the renewed %s: %v", tc.kubeconfig, err)
			}
			if got := ssr.Status.UserInfo.Username; got != tc.user {
				t.Errorf("the renewed %s authenticates as %q, want %q", tc.kubeconfig, got, tc.user)
			}
		})
	}
	t.Run("admin.conf reads through etcd", func(t *testing.T) {
		cs, err := c.AdminClient()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cs.RbacV1().ClusterRoleBindings().Get(ctx, "kubeadm:cluster-admins", metav1.GetOptions{}); err != nil {
			t.Errorf("get the kubeadm:cluster-admins binding with the renewed admin.conf: %v", err)
		}
	})
	t.Run("backup holds the old files", func(t *testing.T) {
		entries, err := os.ReadDir(filepath.Join(c.KubeconfigDir(), "certctl-backups"))
		if err != nil || len(entries) != 1 {
			t.Fatalf("backups: %v, %v; want one", entries, err)
		}
		old := readCert(t, filepath.Join(c.KubeconfigDir(), "certctl-backups", entries[0].Name(), "pki", "apiserver.crt"))
		if !old.Equal(before["apiserver.crt"]) {
			t.Errorf("backup apiserver.crt serial %x, want the replaced %x", old.SerialNumber, before["apiserver.crt"].SerialNumber)
		}
	})
}

// served returns the certificate a TLS server at addr presents.
func served(t *testing.T, addr string, cfg *tls.Config) *x509.Certificate {
	t.Helper()
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", addr, cfg)
	if err != nil {
		t.Fatalf("TLS handshake with %s: %v", addr, err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0]
}

// kubeconfigCert returns the client certificate embedded in a kubeconfig.
func kubeconfigCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := cfg.Contexts[cfg.CurrentContext]
	return parseCertPEM(t, cfg.AuthInfos[ctx.AuthInfo].ClientCertificateData, path)
}

// TestCheckExpirationMatchesKubeadm: `certctl check-expiration -o json`
// lists the rows `kubeadm certs check-expiration -o json` lists, with the
// same names, dates, CAs and externally-managed and missing flags (plus
// kubelet.conf), on a complete tree and on one with an external
// front-proxy CA and a missing certificate.
func TestCheckExpirationMatchesKubeadm(t *testing.T) {
	c := testcluster.WritePKI(t, testcluster.Options{})
	bin, err := testcluster.BinDir("", "kubeadm")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(c.Dir(), "kubeadm.yaml"), []byte(kubeadmConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	type row struct {
		Name              string    `json:"name"`
		ExpirationDate    time.Time `json:"expirationDate"`
		CAName            string    `json:"caName"`
		ExternallyManaged bool      `json:"externallyManaged"`
		Missing           bool      `json:"missing"`
	}
	type report struct {
		Certificates           []row `json:"certificates"`
		CertificateAuthorities []row `json:"certificateAuthorities"`
	}
	decode := func(t *testing.T, out []byte) report {
		var r report
		if err := json.Unmarshal(out, &r); err != nil {
			t.Fatalf("decode: %v\n%s", err, out)
		}
		return r
	}
	compare := func(t *testing.T) {
		ctx := testCtx(t, time.Minute)
		cmd := exec.CommandContext(ctx, filepath.Join(bin, "kubeadm"), "--rootfs", c.Dir(), "certs", "check-expiration", "--config", "/kubeadm.yaml", "-o", "json")
		if uid := os.Geteuid(); uid != 0 {
			cmd.SysProcAttr = &syscall.SysProcAttr{
				Cloneflags:  syscall.CLONE_NEWUSER,
				UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: uid, Size: 1}},
				GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getegid(), Size: 1}},
			}
		}
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("kubeadm certs check-expiration: %v\n%s", err, out)
		}
		want := decode(t, out)
		mine, err := exec.CommandContext(ctx, certctlBin(t), "check-expiration", "-o", "json",
			"--cert-dir", c.PKIDir(), "--kubeconfig-dir", c.KubeconfigDir()).Output()
		if err != nil {
			t.Fatalf("certctl check-expiration: %v\n%s", err, mine)
		}
		got := decode(t, mine)
		for i, list := range [][2][]row{{want.Certificates, got.Certificates}, {want.CertificateAuthorities, got.CertificateAuthorities}} {
			var names []string
			for _, r := range list[1] {
				if r.Name != "kubelet.conf" {
					names = append(names, r.Name)
				}
			}
			var kubeadmNames []string
			for _, k := range list[0] {
				kubeadmNames = append(kubeadmNames, k.Name)
				j := slices.IndexFunc(list[1], func(r row) bool { return r.Name == k.Name })
				if j < 0 {
					t.Errorf("table %d: certctl has no row %s", i, k.Name)
					continue
				}
				m := list[1][j]
				// kubeadm leaves caName out of a missing row; certctl keeps it.
				if !m.ExpirationDate.Equal(k.ExpirationDate) || (m.CAName != k.CAName && !k.Missing) || m.ExternallyManaged != k.ExternallyManaged || m.Missing != k.Missing {
					t.Errorf("%s: certctl %+v, kubeadm %+v", k.Name, m, k)
				}
			}
			if !slices.Equal(names, kubeadmNames) {
				t.Errorf("rows %q, kubeadm's %q (same order)", names, kubeadmNames)
			}
		}
	}
	t.Run("complete tree", compare)
	t.Run("external front-proxy CA and a missing certificate", func(t *testing.T) {
		os.Remove(filepath.Join(c.PKIDir(), "front-proxy-ca.key"))
		os.Remove(filepath.Join(c.PKIDir(), "apiserver-etcd-client.crt"))
		os.Remove(filepath.Join(c.PKIDir(), "apiserver-etcd-client.key"))
		compare(t)
	})
}

// certctlBin is the certctl the harness runs.
func certctlBin(t *testing.T) string {
	t.Helper()
	return signerCertctl(t)
}
