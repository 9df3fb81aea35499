package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTabIndentation: YAML forbids tabs for indentation, and an editor
// that inserts them gave only "malformed YAML: yaml: line 5: found
// character that cannot start any token", with a line counted from the
// document's start. The error names the file, the line of the file, that
// YAML forbids tabs and what to do, on one line.
func TestTabIndentation(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		line     string
	}{
		{"mapping", "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nnetworking:\n\tserviceSubnet: 10.96.0.0/12\n", "line 4 "},
		{"second document", "apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\n---\napiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nnetworking:\n  serviceSubnet: 10.96.0.0/12\n\tdnsDomain: example.org\n", "line 8 "},
		{"after spaces", "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\napiServer:\n  certSANs:\n  - a.example.com\n  \t- b.example.com\n", "line 6 "},
		{"list item", "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\napiServer:\n  certSANs:\n  -\ta.example.com\n", "line 5 "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "kubeadm.yaml")
			if err := os.WriteFile(path, []byte(tc.in), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := LoadFile(path, Default())
			if err == nil {
				t.Fatal("a tab-indented file was accepted")
			}
			msg := err.Error()
			for _, want := range []string{path, tc.line, "tab", "YAML forbids", "spaces"} {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not say %q", msg, want)
				}
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("error %q is not one line", msg)
			}
		})
	}
	// A tab inside a value is no indentation: still accepted.
	f, err := Parse([]byte("apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nclusterName: \"a\\tb\"\nnetworking:\n  dnsDomain:\texample.org\n"), Default())
	if err != nil {
		t.Fatalf("tab after a key refused: %v", err)
	}
	if f.Cluster.DNSDomain != "example.org" {
		t.Errorf("dnsDomain %q", f.Cluster.DNSDomain)
	}
	// Another syntax error keeps its own words.
	if _, err := Parse([]byte("apiVersion: [\n"), Default()); err == nil || strings.Contains(err.Error(), "tab") {
		t.Errorf("unclosed flow sequence: %v", err)
	}
}
