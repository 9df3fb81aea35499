package signer

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/lock"
	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/manifests"
	"github.com/certctl/certctl/pki"
)

// rotatingCA puts the node's ca at stage (trust or reissue) of a rotation,
// by hand (phases/carotate imports this package): ca.crt holds the CA that
// signs first, ca.key is its key, ca.old.crt and ca.new.crt hold one each,
// and the record says the stage. kube-controller-manager's manifest is
// kubeadm's, signing with ca.crt, as `kubeadm upgrade` writes it.
func rotatingCA(t *testing.T, stage string) (n *pkitest.Node, manifest string) {
	t.Helper()
	n = pkitest.NewNode(t, nil)
	old, oldKey := n.CA(t, "ca")
	key, err := pki.GenerateKey(rand.Reader, pki.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	e, _ := pki.Kubeadm().Find(pki.CAName)
	nw, err := pki.NewSelfSignedCA(rand.Reader, pki.Node{}.Profile(e), key, pki.Validity{NotBefore: pkitest.Made, NotAfter: pkitest.Made.Add(87600 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	fp := func(b []byte) string { return fmt.Sprintf("%x", sha256.Sum256(b)) }
	bundle, signKey := pki.EncodeCerts(old, nw), oldKey
	if stage == "reissue" {
		bundle, signKey = pki.EncodeCerts(nw, old), key
	}
	keyPEM, err := pki.MarshalPrivateKey(signKey)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"pki/ca.crt": bundle, "pki/ca.key": keyPEM, "pki/ca.old.crt": pki.EncodeCert(old), "pki/ca.new.crt": pki.EncodeCert(nw),
		"pki/.certctl-rotation-ca.json": fmt.Appendf(nil, `{"version":1,"ca":"ca","stage":%q,"oldCA":%q,"newCA":%q,"history":[],"restarted":true}`, stage, fp(old.Raw), fp(nw.Raw)),
	}
	data, err := os.ReadFile("../../manifests/staticpods/testdata/kubeadm/kube-controller-manager.yaml")
	if err != nil {
		t.Fatal(err)
	}
	files["manifests/kube-controller-manager.yaml"] = bytes.ReplaceAll(data, []byte("/etc/kubernetes/"), []byte(n.Dir+"/"))
	if err := os.Mkdir(n.Path("manifests"), 0o700); err != nil {
		t.Fatal(err)
	}
	for rel, data := range files {
		if err := os.WriteFile(n.Path(rel), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return n, n.Path("manifests/kube-controller-manager.yaml")
}

// TestEnableDuringRotation: after `kubeadm upgrade` at stage trust or
// reissue of a rotation of ca, kube-controller-manager's manifest signs
// with ca.crt, two CAs, which it refuses: signer enable refused too ("holds
// 2 certificates"), and the manifest had to be fixed by hand. It now writes
// the flags the stage writes (ca.old.crt at trust, ca.new.crt at reissue,
// with ca.key) and says so; it still refuses when the stage's files are
// not a CA it can sign with, or the record cannot be read.
func TestEnableDuringRotation(t *testing.T) {
	tests := []struct {
		name, stage string
		perSigner   bool
		damage      func(n *pkitest.Node)
		signs       string // "" for a refusal
		says        []string
	}{
		{name: "trust", stage: "trust", signs: "ca.old.crt", says: []string{"stage trust"}},
		{name: "reissue", stage: "reissue", signs: "ca.new.crt", says: []string{"stage reissue"}},
		{name: "per-signer", stage: "reissue", perSigner: true, signs: "ca.new.crt", says: []string{"stage reissue"}},
		{name: "stage file missing", stage: "trust", damage: func(n *pkitest.Node) { os.Remove(n.Path("pki/ca.old.crt")) },
			says: []string{"ca.old.crt", "stage trust", "not changed"}},
		{name: "key not the stage's", stage: "reissue", damage: func(n *pkitest.Node) {
			data, _ := os.ReadFile(n.Path("pki/ca.old.crt"))
			os.WriteFile(n.Path("pki/ca.new.crt"), data, 0o600)
		}, says: []string{"ca.new.crt", "stage reissue", "not changed"}},
		{name: "damaged record", stage: "trust", damage: func(n *pkitest.Node) { os.WriteFile(n.Path("pki/.certctl-rotation-ca.json"), []byte("{"), 0o600) },
			says: []string{".certctl-rotation-ca.json", "not changed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, manifest := rotatingCA(t, tt.stage)
			if tt.damage != nil {
				tt.damage(n)
			}
			before, _ := os.ReadFile(manifest)
			var out bytes.Buffer
			e := ManifestEdit{Manifest: manifest, BackupDir: t.TempDir(), Now: pkitest.Made.Add(time.Hour), Out: &out}
			err := Enable(context.Background(), e, n.CertDir(), tt.perSigner, 0)
			after, _ := os.ReadFile(manifest)
			msg := out.String()
			if err != nil {
				msg += err.Error()
			}
			for _, w := range tt.says {
				if !strings.Contains(msg, w) {
					t.Errorf("signer enable does not say %q:\n%s", w, msg)
				}
			}
			if tt.signs == "" {
				if err == nil || !bytes.Equal(before, after) {
					t.Errorf("signer enable: %v, want a refusal and the manifest unchanged", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("signer enable at %s: %v", tt.stage, err)
			}
			flags, err := manifests.SignerFlags(after)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]string{"cluster-signing-cert-file": tt.signs, "cluster-signing-key-file": "ca.key"}
			if tt.perSigner {
				want = map[string]string{}
				for _, f := range manifests.PerSignerCertFlags {
					want[f] = tt.signs
				}
			}
			for flag, file := range want {
				if flags[flag] != filepath.Join(n.CertDir(), file) {
					t.Errorf("--%s=%s, want %s", flag, flags[flag], filepath.Join(n.CertDir(), file))
				}
			}
		})
	}
}

// TestEnableReadsRotationUnderLock: signer enable read the CA-rotation
// record before it took the node's lock, so a `ca rotate` that held the
// lock and started a rotation meanwhile was missed: enable then pointed
// kube-controller-manager at ca.crt, which the stage had made a bundle of
// two CAs, and kube-controller-manager did not start. The record is now
// read under the lock.
func TestEnableReadsRotationUnderLock(t *testing.T) {
	n, manifest := rotatingCA(t, "trust")
	// Keep the rotation's files and put the node back as before it.
	rotation := map[string][]byte{}
	for _, rel := range []string{"pki/ca.crt", "pki/ca.old.crt", "pki/ca.new.crt", "pki/.certctl-rotation-ca.json"} {
		data, err := os.ReadFile(n.Path(rel))
		if err != nil {
			t.Fatal(err)
		}
		rotation[rel] = data
	}
	if err := os.WriteFile(n.Path("pki/ca.crt"), rotation["pki/ca.old.crt"], 0o600); err != nil {
		t.Fatal(err)
	}
	for _, rel := range []string{"pki/ca.old.crt", "pki/ca.new.crt", "pki/.certctl-rotation-ca.json"} {
		if err := os.Remove(n.Path(rel)); err != nil {
			t.Fatal(err)
		}
	}
	// A ca rotate (another process: the lock file opened apart from
	// phases/node's, which counts this process's own holds) holds the
	// lock while signer enable starts.
	path, err := lock.Beside(filepath.Dir(manifest))
	if err != nil {
		t.Fatal(err)
	}
	l, err := lock.AcquireWait(context.Background(), path, lock.Wait{})
	if err != nil {
		t.Fatal(err)
	}
	release := l.Release
	done := make(chan error, 1)
	var out bytes.Buffer
	go func() {
		e := ManifestEdit{Manifest: manifest, BackupDir: t.TempDir(), LockTimeout: time.Minute, Now: pkitest.Made.Add(time.Hour), Out: &out}
		done <- Enable(context.Background(), e, n.CertDir(), false, 0)
	}()
	time.Sleep(300 * time.Millisecond) // enable waits for the lock
	for rel, data := range rotation {
		if err := os.WriteFile(n.Path(rel), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	release()
	if err := <-done; err != nil {
		t.Fatalf("signer enable: %v\n%s", err, out.String())
	}
	after, _ := os.ReadFile(manifest)
	flags, err := manifests.SignerFlags(after)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(n.CertDir(), "ca.old.crt"); flags["cluster-signing-cert-file"] != want {
		t.Errorf("--cluster-signing-cert-file=%s, want %s, the trust stage's (the rotation started while enable waited for the lock)\n%s", flags["cluster-signing-cert-file"], want, out.String())
	}
}
