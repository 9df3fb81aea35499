package config_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/phases/config"
)

// TestValidityWarningsNotForTheNodesOwn: settings derived from a node's
// certificates carry the validities its CA and certificates have; they are
// no choice, and check-expiration or signer run on such a node warns about
// none of them. A flag that changes one is a choice, and warns.
func TestValidityWarningsNotForTheNodesOwn(t *testing.T) {
	n := pkitest.NewNode(t, func(c *config.Cluster) { c.CACertificateValidity = 30 * time.Minute })
	for _, tt := range []struct {
		name     string
		override func(*config.Cluster)
		want     string
	}{
		{"derived", func(*config.Cluster) {}, ""},
		{"--ca-certificate-validity 20m", func(c *config.Cluster) { c.CACertificateValidity = 20 * time.Minute }, "[warning] caCertificateValidityPeriod (--ca-certificate-validity) 20m0s is shorter than 1h0m0s"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var warn bytes.Buffer
			r := &config.Resolver{
				CertDir: n.CertDir(), CertDirSet: true, KubeconfigDir: n.Dir, Warn: &warn,
				Connect: func(string) (config.ConfigMapGetter, string, error) { return nil, "", errors.New("no cluster") },
				Override: func(c *config.Cluster) {
					c.CertificatesDir = n.CertDir()
					tt.override(c)
				},
			}
			if _, err := r.Load(t.Context()); err != nil {
				t.Fatal(err)
			}
			if r.Source != config.SourceCertificates {
				t.Fatalf("source %v, want the certificates", r.Source)
			}
			got := warn.String()
			if tt.want == "" && strings.Contains(got, "Period") || !strings.Contains(got, tt.want) {
				t.Errorf("warnings:\n%s\nwant %q", got, tt.want)
			}
		})
	}
}
