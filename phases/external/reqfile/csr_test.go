package reqfile

import (
	"crypto"
	"crypto/rand"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/pki"
)

// TestPlanCSR is the one rule of init-phase --use-csr and renew --use-csr
// for what an earlier run left, for both kinds of slot: a pair made for
// the same certificate is kept, a key without its CSR gets one, and
// anything else is refused, naming what to remove, with nothing written.
// A CSR that lacks a SAN asked for now (certSANs changed since) or has
// one no longer asked for is never reused.
func TestPlanCSR(t *testing.T) {
	spec := apiserverSpec(t)
	spec.CSR, spec.Certificate, spec.Key, spec.PublicKey = "", "", "", nil
	newKey := func() (crypto.Signer, error) { return pki.GenerateKey(rand.Reader, pki.ECDSAP256) }
	withSANs := func(dns ...string) Spec {
		s := spec
		s.Profile.DNSNames, s.Profile.IPs = dns, []net.IP{net.IPv4(10, 96, 0, 1).To4(), net.ParseIP("fd00::1")}
		return s
	}
	slots := map[string]Slot{
		"key file":   KeyFile{},
		"kubeconfig": KeyKubeconfig{Cluster: "kubernetes", Server: "https://cp-1:6443", User: "kube-apiserver"},
	}
	tests := []struct {
		name    string
		earlier func(t *testing.T, f Files) // what an earlier run left
		spec    Spec
		current bool // the earlier key is the one of the certificate in force
		kept    bool
		resumed bool
		// loose is what LooseKey says of the reused key, "" for nothing.
		loose   string
		wantErr []string
	}{
		{name: "nothing there", spec: spec},
		{name: "same certificate", earlier: written(spec), spec: spec, kept: true},
		{name: "SANs in another order", earlier: written(withSANs("kubernetes.default", "kubernetes", "cp-1")), spec: spec, kept: true},
		{name: "a SAN added since", earlier: written(spec), spec: withSANs("cp-1", "kubernetes", "kubernetes.default", "api.example.com"),
			wantErr: []string{".csr was made for another certificate", "SANs", "remove it and"}},
		{name: "a SAN dropped since", earlier: written(spec), spec: withSANs("cp-1", "kubernetes"),
			wantErr: []string{".csr was made for another certificate", "kubernetes.default"}},
		{name: "key without its CSR", earlier: func(t *testing.T, f Files) {
			written(spec)(t, f)
			os.Remove(f.CSR)
		}, spec: spec, resumed: true},
		{name: "kept key readable by others", earlier: func(t *testing.T, f Files) {
			written(spec)(t, f)
			os.Chmod(f.Key, 0o644)
		}, spec: spec, kept: true, loose: "holds a private key but is mode 0644: make it readable by its owner only: chmod 600 "},
		{name: "key without its CSR readable by its group", earlier: func(t *testing.T, f Files) {
			written(spec)(t, f)
			os.Remove(f.CSR)
			os.Chmod(f.Key, 0o640)
		}, spec: spec, resumed: true, loose: "is mode 0640"},
		{name: "CSR without its key", earlier: func(t *testing.T, f Files) {
			written(spec)(t, f)
			os.Remove(f.Key)
		}, spec: spec, wantErr: []string{".csr exists without its key", "remove it"}},
		{name: "certificate without its key", earlier: func(t *testing.T, f Files) {
			os.MkdirAll(f.Dir, 0o700)
			os.WriteFile(f.Cert, []byte("x"), 0o644)
		}, spec: spec, wantErr: []string{".crt exists without the key it was signed for", "another --csr-dir"}},
		{name: "imported already", earlier: written(spec), spec: spec, current: true,
			wantErr: []string{"is the key of the certificate installed now", "use a new --csr-dir"}},
	}
	for slotName, slot := range slots {
		for _, tt := range tests {
			t.Run(slotName+"/"+tt.name, func(t *testing.T) {
				dir := t.TempDir()
				f := FilesOf(dir, "apiserver", slot)
				if tt.earlier != nil {
					tt.earlier(t, f)
				}
				var current crypto.PublicKey
				if tt.current {
					key, _, err := slot.ReadKey(f.Key)
					if err != nil {
						t.Fatal(err)
					}
					current = key.Public()
				}
				before := treetest.Snapshot(t, dir)
				c, err := PlanCSR(f, tt.spec, current)
				treetest.AssertSame(t, before, treetest.Snapshot(t, dir))
				if tt.wantErr != nil {
					treetest.ErrMentions(t, err, tt.wantErr...)
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if c.Kept != tt.kept || (c.Key != nil && !c.Kept) != tt.resumed {
					t.Fatalf("kept %v, resumed %v; want %v, %v", c.Kept, c.Key != nil && !c.Kept, tt.kept, tt.resumed)
				}
				if w := c.LooseKey(); tt.loose == "" && w != "" || tt.loose != "" && !strings.Contains(w, tt.loose) || tt.loose != "" && !strings.HasSuffix(w, f.Key) {
					t.Errorf("LooseKey() = %q, want %q naming %s", w, tt.loose, f.Key)
				}
				key, err := c.Write(rand.Reader, newKey)
				if err != nil {
					t.Fatal(err)
				}
				if tt.kept || tt.resumed {
					if !pki.SamePublicKey(key.Public(), c.Key.Public()) {
						t.Error("the earlier key was replaced")
					}
				}
				// What is there now is the request asked for, and kept
				// by the next run.
				again, err := PlanCSR(f, tt.spec, nil)
				if err != nil || !again.Kept {
					t.Fatalf("the next run does not keep it: %v", err)
				}
				r, err := Read(f.Request)
				if err != nil {
					t.Fatal(err)
				}
				if got := filepath.Join(f.Dir, slot.keyOf(r)); got != f.Key {
					t.Errorf("request names the key %s, want %s", got, f.Key)
				}
			})
		}
	}
}

// written leaves a key, CSR and request file made for s, as a run does.
func written(s Spec) func(t *testing.T, f Files) {
	return func(t *testing.T, f Files) {
		t.Helper()
		c, err := PlanCSR(f, s, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Write(rand.Reader, func() (crypto.Signer, error) { return pki.GenerateKey(rand.Reader, pki.ECDSAP256) }); err != nil {
			t.Fatal(err)
		}
	}
}
