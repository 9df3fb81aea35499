package config

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestValidityWarnings: kubeadm v1.37 refuses no validity period (its
// ValidateCertValidity only warns when one is more than its default);
// certctl warns as it does, and also about a CA shorter than an hour (it
// and every certificate it signs stop being trusted within the hour) and
// about leaves longer than their CA (cut to the CA's expiry). A zero or
// negative period stays refused (TestValidate).
func TestValidityWarnings(t *testing.T) {
	const year = 365 * 24 * time.Hour
	tests := []struct {
		name     string
		cert, ca time.Duration
		want     []string // one warning each; none when empty
	}{
		{"kubeadm's defaults", DefaultCertificateValidity, DefaultCACertificateValidity, nil},
		{"shorter than the defaults", 90 * 24 * time.Hour, 3 * year, nil},
		{"leaf more than kubeadm's default", year + time.Hour, DefaultCACertificateValidity,
			[]string{"certificateValidityPeriod (--certificate-validity) 8761h0m0s is more than the recommended default for certificate expiration, 8760h0m0s"}},
		{"CA more than kubeadm's default", DefaultCertificateValidity, 20 * year,
			[]string{"caCertificateValidityPeriod (--ca-certificate-validity) 175200h0m0s is more than the recommended default for CA certificate expiration, 87600h0m0s"}},
		{"CA of 30m", time.Hour, 30 * time.Minute,
			[]string{"caCertificateValidityPeriod (--ca-certificate-validity) 30m0s is shorter than 1h0m0s", "certificateValidityPeriod (--certificate-validity) 1h0m0s is longer than caCertificateValidityPeriod (--ca-certificate-validity) 30m0s"}},
		{"CA of 1s", time.Hour, time.Second,
			[]string{"caCertificateValidityPeriod (--ca-certificate-validity) 1s is shorter than 1h0m0s", "is longer than caCertificateValidityPeriod"}},
		{"CA of exactly 1h, leaves as long", time.Hour, time.Hour, nil},
		{"leaves longer than the CA", 1000 * time.Hour, 500 * time.Hour,
			[]string{"certificateValidityPeriod (--certificate-validity) 1000h0m0s is longer than caCertificateValidityPeriod (--ca-certificate-validity) 500h0m0s: certificates signed by a CA made with it are cut to its expiry"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			c.CertificateValidity, c.CACertificateValidity = tt.cert, tt.ca
			got := c.ValidityWarnings()
			if len(got) != len(tt.want) {
				t.Fatalf("warnings %q, want %d", got, len(tt.want))
			}
			for i, w := range tt.want {
				if !strings.Contains(got[i], w) || strings.Contains(got[i], "\n") {
					t.Errorf("warning %q, want one line with %q", got[i], w)
				}
			}
		})
	}
}

// TestLoadPrintsValidityWarnings: init-phase's settings (Resolver.Load) and
// renewal's (ForRenewal, also ca rotate's) print the validity warnings of a
// --config file and of flags, and load.
func TestLoadPrintsValidityWarnings(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "kubeadm.yaml")
	body := "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\ncertificatesDir: " + filepath.Join(dir, "pki") + "\ncaCertificateValidityPeriod: 30m\n"
	if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, load := range map[string]func(*Resolver) error{
		"Load":       func(r *Resolver) error { _, err := r.Load(t.Context()); return err },
		"ForRenewal": func(r *Resolver) error { _, err := r.ForRenewal(t.Context()); return err },
	} {
		var warn bytes.Buffer
		r := &Resolver{File: file, Warn: &warn, Override: func(c *Cluster) {
			c.NodeName, c.AdvertiseAddress = "cp-1", "198.51.100.10"
			c.CertificateValidity = 9000 * time.Hour // --certificate-validity 9000h
		}}
		if err := load(r); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, want := range []string{
			"[warning] caCertificateValidityPeriod (--ca-certificate-validity) 30m0s is shorter than 1h0m0s",
			"[warning] certificateValidityPeriod (--certificate-validity) 9000h0m0s is more than the recommended default",
			"[warning] certificateValidityPeriod (--certificate-validity) 9000h0m0s is longer than caCertificateValidityPeriod",
		} {
			if !strings.Contains(warn.String(), want) {
				t.Errorf("%s: warnings lack %q:\n%s", name, want, warn.String())
			}
		}
	}
}

// TestLoadMakesNoCAWarnsNoCA: a command that makes no CA (init-phase
// kubeconfig, --use-csr: Resolver.MakesNoCA) does not warn of a CA made
// with caCertificateValidityPeriod: it warned that a CA of 30m from
// --config expires within the hour while the CA on disk was kubeadm's ten
// years. kubeadm's own warnings (a period more than its default) stay.
func TestLoadMakesNoCAWarnsNoCA(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "kubeadm.yaml")
	body := "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\ncertificatesDir: " + filepath.Join(dir, "pki") + "\ncaCertificateValidityPeriod: 30m\ncertificateValidityPeriod: 9000h\n"
	if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	var warn bytes.Buffer
	r := &Resolver{File: file, Warn: &warn, MakesNoCA: true, Override: func(c *Cluster) {
		c.NodeName, c.AdvertiseAddress = "cp-1", "198.51.100.10"
	}}
	if _, err := r.Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	got := warn.String()
	if !strings.Contains(got, "[warning] certificateValidityPeriod (--certificate-validity) 9000h0m0s is more than the recommended default") {
		t.Errorf("warnings lack kubeadm's:\n%s", got)
	}
	for _, unwanted := range []string{"is shorter than 1h0m0s", "is longer than caCertificateValidityPeriod", "a CA made with it"} {
		if strings.Contains(got, unwanted) {
			t.Errorf("warnings of a CA not made (%q):\n%s", unwanted, got)
		}
	}
}
