package manifests

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/certctl/certctl/internal/fuzzseed"
)

// TestFuzzSeeds keeps testdata/fuzz/FuzzEnableSigner in step with the
// fixtures: go test ./manifests -run TestFuzzSeeds -write-seeds rewrites it.
func TestFuzzSeeds(t *testing.T) {
	seeds := map[string]fuzzseed.Seed{
		"args-only": {[]byte("apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: kube-controller-manager\n    args: [--cluster-signing-cert-file, x]\n")},
	}
	fixtures, err := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	jsons, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	fixtures = append(fixtures, jsons...)
	for _, p := range fixtures {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		seeds[strings.TrimSuffix(filepath.Base(p), ".yaml")] = fuzzseed.Seed{data}
	}
	fuzzseed.Write(t, "FuzzEnableSigner", seeds)
}

// FuzzEnableSigner: for any input, EnableSigner (general and per-signer) and
// DisableSigner return an error or a valid manifest, never panic, and
// patching twice gives the same bytes as patching once.
func FuzzEnableSigner(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, opts := range []SignerOptions{{CertFile: caCrt, KeyFile: caKey}, {CertFile: caCrt, KeyFile: caKey, PerSigner: true}} {
			on, _, err := EnableSigner(data, opts)
			if err != nil {
				continue
			}
			flags, err := SignerFlags(on)
			if err != nil {
				t.Fatalf("EnableSigner returned a manifest that does not parse: %v\n%s", err, on)
			}
			cert, key := flagCertFile, flagKeyFile
			if opts.PerSigner {
				cert, key = perSignerFlags[0][0], perSignerFlags[0][1]
			}
			if flags[cert] != caCrt || flags[key] != caKey {
				t.Fatalf("EnableSigner: flags %v, want --%s=%s --%s=%s\n%s", flags, cert, caCrt, key, caKey, on)
			}
			_, c, _, err := controllerManager(on)
			if err != nil {
				t.Fatal(err)
			}
			if v, set := Controllers(c); !CSRSigningEnabled(v, set) {
				t.Fatalf("EnableSigner left --controllers=%s, which does not run the signer:\n%s", v, on)
			}
			if _, in, _, _ := controllerManager(data); twice(in) == "" && twice(c) != "" {
				t.Fatalf("EnableSigner mounts %s twice, which the kubelet refuses:\n%s", twice(c), on)
			}
			again, changes, err := EnableSigner(on, opts)
			if err != nil || !bytes.Equal(again, on) || len(changes) != 0 {
				t.Fatalf("EnableSigner twice differs from once (err %v, changes %q):\n%s\n----\n%s", err, changes, on, again)
			}
		}
		off, _, err := DisableSigner(data)
		if err != nil {
			return
		}
		if _, err := Parse(off); err != nil {
			t.Fatalf("DisableSigner returned a manifest that does not parse: %v\n%s", err, off)
		}
		again, changes, err := DisableSigner(off)
		if err != nil || !bytes.Equal(again, off) || len(changes) != 0 {
			t.Fatalf("DisableSigner twice differs from once (err %v, changes %q):\n%s\n----\n%s", err, changes, off, again)
		}
	})
}

// twice returns a path c mounts twice, "" when none.
func twice(c *corev1.Container) string {
	seen := map[string]bool{}
	for _, m := range c.VolumeMounts {
		p := filepath.Clean(m.MountPath)
		if seen[p] {
			return p
		}
		seen[p] = true
	}
	return ""
}
