package phases

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/pki"
)

// TestPrintedCommandsNameFolders: every certctl command an init-phase error
// or warning prints carries the run's --cert-dir (and --kubeconfig-dir where
// the command has it), as renewal's and carotate's do (config.FolderFlags).
// Without them, run as printed, it acted on /etc/kubernetes. The test env's
// folders are never kubeadm's, and its Rerun is empty: a printed init-phase
// command gets the folders alone, both of them (every init-phase command
// has --kubeconfig-dir; without it, `--use-csr`'s printed `certs import`
// installed the kubeconfigs into /etc/kubernetes).
func TestPrintedCommandsNameFolders(t *testing.T) {
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	weakPEM, err := pki.MarshalPrivateKey(weak)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		prepare func(t *testing.T, e *testEnv)
		phase   string
		want    string // PKI is the cert dir, KCDIR the kubeconfig dir, CSR the CSR dir
	}{
		{"leaf: CA key without its certificate", func(t *testing.T, e *testEnv) {
			e.mustRun(t, "certs", "all")
			removeAll(t, e.pki("front-proxy-ca.crt"))
		}, "certs/front-proxy-client", "`certctl init-phase certs front-proxy-ca --cert-dir PKI --kubeconfig-dir KCDIR`"},
		{"leaf exists, its CA missing", func(t *testing.T, e *testEnv) {
			e.mustRun(t, "certs", "all")
			removeAll(t, e.pki("ca.crt"), e.pki("ca.key"))
		}, "certs/apiserver", "`certctl init-phase certs ca --cert-dir PKI --kubeconfig-dir KCDIR` only if"},
		{"leaf: CA missing", nil, "certs/apiserver", "`certctl init-phase certs ca --cert-dir PKI --kubeconfig-dir KCDIR` first"},
		{"leaf: external CA", func(t *testing.T, e *testEnv) {
			e.mustRun(t, "certs", "all")
			removeAll(t, e.pki("ca.key"), e.pki("apiserver.crt"), e.pki("apiserver.key"))
		}, "certs/apiserver", "`certctl init-phase certs apiserver --cert-dir PKI --kubeconfig-dir KCDIR --use-csr --csr-dir DIR`"},
		{"leaf: weak key", func(t *testing.T, e *testEnv) {
			e.mustRun(t, "certs", "all")
			old, _, err := e.store().ReadCert("apiserver-kubelet-client")
			if err != nil {
				t.Fatal(err)
			}
			ca := loadCA(t, e)
			c, err := pki.Sign(rand.Reader, pki.ProfileFromCert("apiserver-kubelet-client", "apiserver-kubelet-client", "ca", old), weak.Public(), ca.Cert, ca.Key, pki.NewValidity(fixedNow, time.Hour, 24*time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, e.pki("apiserver-kubelet-client.key"), string(weakPEM))
			writeFile(t, e.pki("apiserver-kubelet-client.crt"), string(pki.EncodeCert(c)))
		}, "certs/apiserver-kubelet-client", "`certctl renew apiserver-kubelet-client --cert-dir PKI --kubeconfig-dir KCDIR`"},
		{"weak CA", func(t *testing.T, e *testEnv) {
			if err := e.store().WriteKey("ca", weak); err != nil {
				t.Fatal(err)
			}
			writeCA(t, e, "ca", x509.Certificate{BasicConstraintsValid: true, IsCA: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature})
		}, "certs/apiserver", "certctl ca rotate ca --cert-dir PKI --kubeconfig-dir KCDIR,"},
		{"weak sa key", func(t *testing.T, e *testEnv) {
			if err := e.store().WriteKey("sa", weak); err != nil {
				t.Fatal(err)
			}
		}, "certs/sa", "certctl ca rotate sa --cert-dir PKI --kubeconfig-dir KCDIR,"},
		{"kubeconfig: CA missing", nil, "kubeconfig/admin", "`certctl init-phase certs ca --cert-dir PKI --kubeconfig-dir KCDIR` first"},
		// It said `certctl certs import`, which fails as printed
		// (--csr-dir is required) and acts on /etc/kubernetes.
		{"kubeconfig: external CA", func(t *testing.T, e *testEnv) {
			e.mustRun(t, "certs", "all")
			removeAll(t, e.pki("ca.key"))
		}, "kubeconfig/admin", "`certctl init-phase kubeconfig admin --cert-dir PKI --kubeconfig-dir KCDIR --use-csr --csr-dir DIR`, then install what it signs with `certctl certs import --csr-dir DIR --cert-dir PKI --kubeconfig-dir KCDIR`"},
		{"joining: CA missing", func(t *testing.T, e *testEnv) {
			e.Cluster.Joining = true
		}, "certs/apiserver", "`certctl certs download --certificate-key KEY --cert-dir PKI --kubeconfig-dir KCDIR`"},
		{"use-csr: sa skipped", func(t *testing.T, e *testEnv) {
			e.UseCSR, e.CSRDir = true, filepath.Join(e.dir, "csr")
		}, "certs/sa", "`certctl init-phase certs sa --cert-dir PKI --kubeconfig-dir KCDIR`"},
		{"use-csr joining: sa skipped", func(t *testing.T, e *testEnv) {
			e.UseCSR, e.CSRDir, e.Cluster.Joining = true, filepath.Join(e.dir, "csr"), true
		}, "certs/sa", "`certctl certs download --certificate-key KEY --cert-dir PKI --kubeconfig-dir KCDIR`"},
		{"use-csr: kept kubeconfig with another server", func(t *testing.T, e *testEnv) {
			e.UseCSR, e.CSRDir = true, filepath.Join(e.dir, "csr")
			e.mustRun(t, "kubeconfig", "admin")
			e.Cluster.ControlPlaneEndpoint = "cp.example.com:6443"
		}, "kubeconfig/admin", "`certctl certs import --csr-dir CSR --cert-dir PKI --kubeconfig-dir KCDIR`"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t)
			if tt.prepare != nil {
				tt.prepare(t, e)
			}
			e.out.Reset()
			g, n, _ := strings.Cut(tt.phase, "/")
			err := e.run(t, g, n)
			got := e.out.String()
			if err != nil {
				got += err.Error()
			}
			want := strings.NewReplacer("PKI", e.Cluster.CertificatesDir, "KCDIR", e.dir, "CSR", e.CSRDir).Replace(tt.want)
			if !strings.Contains(got, want) {
				t.Errorf("output and error:\n%s\nwant them to contain %s", got, want)
			}
		})
	}
}
