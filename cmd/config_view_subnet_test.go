package cmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/phases/config"
)

// header is what config view prints before the first document: its comments.
func header(out string) string {
	h, _, _ := strings.Cut(out, "apiVersion:")
	return h
}

// TestConfigViewSubnetComment: the view derived from the certificates says
// that serviceSubnet is a guess whenever it is one, --certificate-validity
// given or not (it showed only without it), and not when --service-cidr
// gives the subnet.
func TestConfigViewSubnetComment(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	empty := t.TempDir() // no admin.conf: the settings come from the certificates
	for _, tc := range []struct {
		name  string
		flags []string
		want  bool
	}{
		{"derived", nil, true},
		{"with --certificate-validity", []string{"--certificate-validity", "100h"}, true},
		{"with --service-cidr", []string{"--service-cidr", "10.96.0.0/16"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, err := execute(t, append([]string{"config", "view", "--cert-dir", n.CertDir(), "--kubeconfig-dir", empty}, tc.flags...)...)
			if err != nil {
				t.Fatalf("config view: %v\n%s", err, errOut)
			}
			if got := strings.Contains(header(out), "serviceSubnet"); got != tc.want {
				t.Errorf("serviceSubnet comment shown: %v, want %v:\n%s", got, tc.want, out)
			}
		})
	}
	// From a configuration file, nothing is guessed.
	out, _, err := execute(t, "config", "view", "--config", writeView(t, n, empty))
	if err != nil || strings.Contains(header(out), "serviceSubnet") {
		t.Errorf("config view --config: %v, a serviceSubnet comment:\n%s", err, out)
	}
}

func writeView(t *testing.T, n *pkitest.Node, kubeconfigDir string) string {
	t.Helper()
	out, errOut, err := execute(t, "config", "view", "--cert-dir", n.CertDir(), "--kubeconfig-dir", kubeconfigDir)
	if err != nil {
		t.Fatalf("config view: %v\n%s", err, errOut)
	}
	path := filepath.Join(t.TempDir(), "kubeadm.yaml")
	if err := os.WriteFile(path, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestConfigViewDualStackVIP: an apiserver certificate with the service VIP
// of each family (the IPv6 one in apiServer.certSANs, as kubeadm puts only
// the first range's VIP first) cannot say the IPv6 one is a VIP: unlike the
// first IP SAN, its place in the certificate does not say so. The view
// keeps it in certSANs (the certificate's profile stays the same) and its
// comment names it and the range it would be the first address of.
func TestConfigViewDualStackVIP(t *testing.T) {
	n := pkitest.NewNode(t, func(c *config.Cluster) {
		c.ServiceSubnet = "10.96.0.0/16,fd00:10:96::/108"
		c.APIServerCertSANs = []string{"fd00:10:96::1"}
	})
	out, errOut, err := execute(t, "config", "view", "--cert-dir", n.CertDir(), "--kubeconfig-dir", t.TempDir())
	if err != nil {
		t.Fatalf("config view: %v\n%s", err, errOut)
	}
	h := header(out)
	for _, want := range []string{"dual-stack", "fd00:10:96::1", "fd00:10:96::/108"} {
		if !strings.Contains(h, want) {
			t.Errorf("the comment does not say %q:\n%s", want, out)
		}
	}
	if !strings.Contains(out, "- fd00:10:96::1\n") {
		t.Errorf("the IPv6 VIP is lost from certSANs:\n%s", out)
	}
}
