package initphase

import (
	"bytes"
	"context"
	"crypto/rand"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/pki"
	"github.com/certctl/certctl/pki/kubeconfig"
)

// TestNextStepOnlyWithCSRs: an --use-csr run ends with what to hand the
// CA operator and the import command only when it wrote (or kept) a CSR.
// `init-phase kubeconfig kubelet --use-csr` on a node whose kubelet.conf
// names the files the kubelet rotates keeps it and writes no CSR, but
// said "Hand the CA operator the .csr files" and gave an import command
// for a folder with none.
func TestNextStepOnlyWithCSRs(t *testing.T) {
	for _, tt := range []struct {
		name         string
		bootstrapped bool // kubelet.conf names its certificate files
	}{
		{"bootstrapped kubelet.conf", true},
		{"kubelet.conf embedding its certificate", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			c := config.Default()
			c.NodeName, c.AdvertiseAddress = "cp-1", "192.0.2.10"
			c.CertificatesDir, c.EncryptionAlgorithm = filepath.Join(dir, "pki"), "ECDSA-P256"
			load := func() (*config.Cluster, error) { return &c, nil }
			var out bytes.Buffer
			o := Options{Group: "certs", KubeconfigDir: dir, Now: time.Now, Rand: rand.Reader, Out: &out, ErrOut: &out}
			if err := Main(context.Background(), load, "all", o); err != nil {
				t.Fatalf("%v\n%s", err, &out)
			}
			o.Group = "kubeconfig"
			if err := Main(context.Background(), load, "all", o); err != nil {
				t.Fatalf("%v\n%s", err, &out)
			}
			if tt.bootstrapped {
				path := filepath.Join(dir, pki.KubeletKubeconfig)
				cfg, err := kubeconfig.Load(path)
				if err != nil {
					t.Fatal(err)
				}
				for _, u := range cfg.AuthInfos {
					u.ClientCertificateData, u.ClientKeyData = nil, nil
					u.ClientCertificate, u.ClientKey = "/var/lib/kubelet/pki/kubelet-client-current.pem", "/var/lib/kubelet/pki/kubelet-client-current.pem"
				}
				if err := kubeconfig.Write(path, cfg); err != nil {
					t.Fatal(err)
				}
			}
			out.Reset()
			o.UseCSR, o.CSRDir = true, filepath.Join(dir, "csr")
			if err := Main(context.Background(), load, "kubelet", o); err != nil {
				t.Fatalf("%v\n%s", err, &out)
			}
			handed, none := strings.Contains(out.String(), "Hand the CA operator"), strings.Contains(out.String(), "No CSR was written.")
			if handed == tt.bootstrapped || none != tt.bootstrapped {
				t.Errorf("kubeconfig kubelet --use-csr: want the next step %v, \"No CSR was written.\" %v:\n%s", !tt.bootstrapped, tt.bootstrapped, &out)
			}
		})
	}
}
