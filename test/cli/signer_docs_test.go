package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestSignerDocsConsole runs docs/signer.md's console examples of signer
// enable (on kubeadm's external-CA manifest: the two flags empty) and
// signer status, as written, on a node made by certctl with kubeadm's
// manifests pointing at its folders, and compares what certctl prints with
// the document (times aside, "..." for lines left out).
func TestSignerDocsConsole(t *testing.T) {
	bin := certctlBin(t)
	for _, tc := range []struct {
		name, marker  string
		externalCA    bool // the manifest has the two flags empty, as kubeadm writes it with an external CA
		kubeconfigDir bool
	}{
		{name: "enable", marker: "$ sudo certctl signer enable --dry-run", externalCA: true},
		{name: "status", marker: "$ sudo certctl signer status", kubeconfigDir: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := makeRotationNode(t, bin)
			kcm := filepath.Join(n.manifestDir, "kube-controller-manager.yaml")
			if tc.externalCA {
				data, err := os.ReadFile(kcm)
				if err != nil {
					t.Fatal(err)
				}
				for flag, file := range map[string]string{"--cluster-signing-cert-file=": "ca.crt", "--cluster-signing-key-file=": "ca.key"} {
					data = bytes.Replace(data, []byte(flag+filepath.Join(n.certDir, file)), []byte(flag), 1)
				}
				if err := os.WriteFile(kcm, data, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			extra := []string{"--manifest", kcm, "--cert-dir", n.certDir}
			if tc.kubeconfigDir {
				extra = append(extra, "--kubeconfig-dir", n.dir)
			}
			want, got := runConsole(t, bin, docBlockIn(t, "signer.md", "console", tc.marker), n.dir, extra...)
			checkConsole(t, "signer.md", want, got)
		})
	}
}
