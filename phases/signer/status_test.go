package signer

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/output"
	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/manifests"
)

func TestStatusBuiltIn(t *testing.T) {
	certDir := t.TempDir()
	for _, tc := range []struct {
		manifest string
		enabled  bool
		reason   string
		// state of each built-in signer name
		states map[string]string
	}{
		{"kubeadm.yaml", true, "", map[string]string{"kubernetes.io/kube-apiserver-client": "on", "kubernetes.io/kubelet-serving": "on"}},
		{"kubeadm-external-ca.yaml", false, "external-CA mode", map[string]string{"kubernetes.io/kube-apiserver-client": "off"}},
		{"per-signer.yaml", true, "", map[string]string{"kubernetes.io/kube-apiserver-client": "on", "kubernetes.io/kube-apiserver-client-kubelet": "on"}},
		{"missing.yaml", false, "no manifest", map[string]string{"kubernetes.io/kubelet-serving": "off"}},
	} {
		t.Run(tc.manifest, func(t *testing.T) {
			s, err := Status(filepath.Join("..", "..", "manifests", "testdata", tc.manifest), certDir)
			if err != nil {
				t.Fatal(err)
			}
			if s.BuiltIn.Enabled != tc.enabled || !strings.Contains(s.BuiltIn.Reason, tc.reason) {
				t.Errorf("enabled %v reason %q, want %v and %q", s.BuiltIn.Enabled, s.BuiltIn.Reason, tc.enabled, tc.reason)
			}
			for name, want := range tc.states {
				if got := state(s, name); got != want {
					t.Errorf("%s: %q, want %q", name, got, want)
				}
			}
		})
	}
}

func state(s *SignerStatus, name string) string {
	for _, e := range s.Signers {
		if e.Name == name {
			return e.State
		}
	}
	return "absent"
}

// TestStatusCertctlSigners: a certctl signer name is "ready" when its CA's
// certificate and key are in the folder, "no-ca-key" with only the
// certificate (an external CA), "no-ca" without either.
func TestStatusCertctlSigners(t *testing.T) {
	certDir := t.TempDir()
	for _, f := range []string{"ca.crt", "ca.key", "front-proxy-ca.crt"} {
		if err := os.WriteFile(filepath.Join(certDir, f), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	s, err := Status(filepath.Join(t.TempDir(), "none.yaml"), certDir)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		KubeAPIServerServing: "ready", KubeAPIServerClient: "ready", FrontProxyClient: "no-ca-key", EtcdServer: "no-ca", EtcdPeer: "no-ca",
	} {
		if got := state(s, name); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	var b bytes.Buffer
	f, _ := output.Parse("jsonpath={.signers[?(@.name==\"" + KubeAPIServerServing + "\")].certificates}")
	if err := s.Print(&b, f); err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(b.String()); got != `["apiserver"]` {
		t.Errorf("certificates of %s: %s", KubeAPIServerServing, got)
	}
}

func TestCSRSigningEnabled(t *testing.T) {
	for controllers, want := range map[string]bool{
		"": true, "*": true, "*,bootstrapsigner,tokencleaner": true, "*,-csrsigning": false,
		"csrsigning,garbagecollector": true, "garbagecollector": false,
	} {
		if got := csrSigningEnabled(controllers); got != want {
			t.Errorf("--controllers=%q: %v, want %v", controllers, got, want)
		}
	}
}

// TestManifestFIFO: a FIFO in place of kube-controller-manager's manifest
// is refused at once, naming it, by `signer status` (its reason) and by
// `signer enable|disable` (ManifestEdit.Apply), instead of blocking them.
func TestManifestFIFO(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "kube-controller-manager.yaml")
	treetest.FIFO(t, fifo)
	var status string
	err := treetest.Unblocked(t, "Status("+fifo+")", func() error {
		s, err := Status(fifo, t.TempDir())
		if err == nil {
			status = s.BuiltIn.Reason
		}
		return err
	})
	if err != nil {
		status = err.Error()
	}
	e := ManifestEdit{Manifest: fifo, DryRun: true, Out: io.Discard}
	err = treetest.Unblocked(t, "ManifestEdit.Apply("+fifo+")", func() error {
		return e.Apply(context.Background(), "disable", manifests.DisableSigner)
	})
	for _, got := range []string{status, fmt.Sprint(err)} {
		if !strings.Contains(got, fifo) || !strings.Contains(got, "FIFO") {
			t.Errorf("got %q, want it to name the FIFO %s", got, fifo)
		}
	}
}
