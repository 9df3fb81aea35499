package config_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/phases/config"
)

// TestForRenewalZeroValiditySaysWhatToUse: a zero or negative
// certificateValidityPeriod, which kubeadm v1.37 takes (it writes
// certificates already expired), is refused for renewal as for init-phase
// (Validate), with the flag and a value to use.
func TestForRenewalZeroValiditySaysWhatToUse(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	for _, period := range []string{"0s", "-1h"} {
		t.Run(period, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "kubeadm.yaml")
			cfg := "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\ncertificatesDir: " + n.CertDir() + "\ncertificateValidityPeriod: " + period + "\n"
			if err := os.WriteFile(file, []byte(cfg), 0o600); err != nil {
				t.Fatal(err)
			}
			r := &config.Resolver{File: file, KubeconfigDir: n.Dir, Warn: &bytes.Buffer{},
				Connect: func(string) (config.ConfigMapGetter, string, error) { return nil, "", errors.New("no cluster") }}
			_, err := r.ForRenewal(t.Context())
			treetest.ErrMentions(t, err, "config file "+file, "certificateValidityPeriod (--certificate-validity)", "must be positive: use a duration in hours such as 8760h")
		})
	}
}
