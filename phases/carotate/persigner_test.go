package carotate

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/manifests"
)

// TestSigningFlagsPerSigner: after `certctl signer enable --per-signer`,
// kube-controller-manager signs with the three per-signer flag pairs and
// has no --cluster-signing-cert-file. The rotation of ca looked at that
// flag alone, found it empty, took it for kubeadm's external-CA mode and
// left the manifest as it was: at trust every per-signer flag named ca.crt,
// now a bundle of two CAs, which kube-controller-manager's signer refuses
// ("expected 1 certificate"), so it did not start. Each per-signer pair
// must follow the stage as the general pair does, and stay per-signer.
func TestSigningFlagsPerSigner(t *testing.T) {
	f := newFixture(t)
	path := filepath.Join(f.manifestDir, "kube-controller-manager.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	certDir := f.node.CertDir()
	out, _, err := manifests.EnableSigner(data, manifests.SignerOptions{CertFile: filepath.Join(certDir, "ca.crt"), KeyFile: filepath.Join(certDir, "ca.key"), PerSigner: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, out, 0o600); err != nil {
		t.Fatal(err)
	}
	pairs := []string{"cluster-signing-kubelet-serving", "cluster-signing-kubelet-client", "cluster-signing-kube-apiserver-client"}
	for i, want := range []string{"ca.old.crt", "ca.new.crt", "ca.crt"} {
		rec := f.rotate(t, "ca", func(o *Options) { o.Restarted = i > 0 })
		f.now = f.now.Add(time.Minute)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		flags, err := manifests.SignerFlags(data)
		if err != nil {
			t.Fatal(err)
		}
		if c := flags["cluster-signing-cert-file"]; c != "" {
			t.Errorf("at %s the manifest has --cluster-signing-cert-file=%s beside the per-signer flags: kube-controller-manager refuses both", rec.Stage, c)
		}
		for _, p := range pairs {
			if got := flags[p+"-cert-file"]; got != filepath.Join(certDir, want) {
				t.Errorf("at %s --%s-cert-file=%s, want %s", rec.Stage, p, got, filepath.Join(certDir, want))
			}
			if got := flags[p+"-key-file"]; got != filepath.Join(certDir, "ca.key") {
				t.Errorf("at %s --%s-key-file=%s, want %s", rec.Stage, p, got, filepath.Join(certDir, "ca.key"))
			}
		}
	}
}

// TestSigningFlagsPerSignerMixed: per-signer flags that do not all name the
// rotated CA's files cannot follow the stage by one edit, and left as they
// are the ones on ca.crt name a bundle kube-controller-manager refuses:
// the rotation is refused before anything is written, naming the flags.
func TestSigningFlagsPerSignerMixed(t *testing.T) {
	certDir := func(f *fixture) string { return f.node.CertDir() }
	tests := []struct {
		name string
		edit func(f *fixture, data string) string
		want string
	}{
		{"one pair on another CA", func(f *fixture, data string) string {
			return strings.Replace(data, "--cluster-signing-kubelet-serving-cert-file="+filepath.Join(certDir(f), "ca.crt"), "--cluster-signing-kubelet-serving-cert-file="+filepath.Join(certDir(f), "front-proxy-ca.crt"), 1)
		}, "front-proxy-ca.crt"},
		{"one pair unset", func(f *fixture, data string) string {
			return strings.Replace(data, "--cluster-signing-kubelet-client-cert-file="+filepath.Join(certDir(f), "ca.crt"), "--cluster-signing-kubelet-client-cert-file=", 1)
		}, "unset: --cluster-signing-kubelet-client-cert-file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			path := filepath.Join(f.manifestDir, "kube-controller-manager.yaml")
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			out, _, err := manifests.EnableSigner(data, manifests.SignerOptions{CertFile: filepath.Join(certDir(f), "ca.crt"), KeyFile: filepath.Join(certDir(f), "ca.key"), PerSigner: true})
			if err != nil {
				t.Fatal(err)
			}
			edited := tt.edit(f, string(out))
			if edited == string(out) {
				t.Fatal("the edit changed nothing")
			}
			if err := os.WriteFile(path, []byte(edited), 0o600); err != nil {
				t.Fatal(err)
			}
			before := snapshotNode(t, f.node.Dir)
			o := f.options(nil)
			var buf bytes.Buffer
			o.Out = &buf
			_, err = Rotate(context.Background(), "ca", o)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), path) {
				t.Fatalf("ca rotate ca: %v, want a refusal naming %s and %q", err, path, tt.want)
			}
			treetest.AssertSame(t, before, snapshotNode(t, f.node.Dir))
		})
	}
}
