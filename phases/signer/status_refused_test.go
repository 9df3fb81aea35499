package signer

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestStatusFlagsKCMRefuses: signing flags kube-controller-manager refuses
// to start with (startCSRSigningController) are a problem and the signer
// is off, not "on": the general pair beside a per-signer pair (what
// `kubeadm upgrade` writes when the per-signer flags are kept in extraArgs
// without the empty general pair), and a per-signer pair with one file.
func TestStatusFlagsKCMRefuses(t *testing.T) {
	kubeadm, err := os.ReadFile(filepath.Join("..", "..", "manifests", "testdata", "kubeadm.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	const general = "    - --cluster-signing-key-file=/etc/kubernetes/pki/ca.key\n"
	if !strings.Contains(string(kubeadm), general) {
		t.Fatalf("kubeadm.yaml has no line %q", general)
	}
	for _, tc := range []struct {
		name, replace, want string
	}{
		{"general and per-signer", general + "    - --cluster-signing-kubelet-serving-cert-file=/etc/kubernetes/pki/ca.crt\n    - --cluster-signing-kubelet-serving-key-file=/etc/kubernetes/pki/ca.key\n",
			"cannot specify default and per controller certs"},
		{"general and legacy-unknown", general + "    - --cluster-signing-legacy-unknown-cert-file=/etc/kubernetes/pki/ca.crt\n",
			"cannot specify default and per controller certs"},
		{"per-signer cert without key", "    - --cluster-signing-key-file=\n    - --cluster-signing-kube-apiserver-client-cert-file=/etc/kubernetes/pki/ca.crt\n",
			"--cluster-signing-kube-apiserver-client-* set a certificate file without its key file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := strings.Replace(string(kubeadm), general, tc.replace, 1)
			if tc.name == "per-signer cert without key" {
				data = strings.Replace(data, "    - --cluster-signing-cert-file=/etc/kubernetes/pki/ca.crt\n", "    - --cluster-signing-cert-file=\n", 1)
			}
			manifest := filepath.Join(t.TempDir(), "kube-controller-manager.yaml")
			if err := os.WriteFile(manifest, []byte(data), 0o600); err != nil {
				t.Fatal(err)
			}
			s, err := Status(manifest, t.TempDir(), testNow)
			if err != nil {
				t.Fatal(err)
			}
			if s.BuiltIn.Enabled {
				t.Errorf("enabled, want off: kube-controller-manager does not start with %q", tc.replace)
			}
			for _, b := range builtInSigners {
				if got := state(s, b.name); got != "off" {
					t.Errorf("%s: %q, want off", b.name, got)
				}
			}
			if p := strings.Join(s.BuiltIn.Problems, "\n"); !strings.Contains(p, tc.want) || !strings.Contains(p, "certctl signer enable") {
				t.Errorf("problems %q, want one saying %q and the certctl signer enable that fixes it", p, tc.want)
			}
		})
	}
}
