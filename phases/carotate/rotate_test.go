package carotate

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/manifests"
	"github.com/certctl/certctl/pki"
	"github.com/certctl/certctl/pki/kubeconfig"
)

// fixture is a node made by certctl's init phases, with kubeadm's static
// pod manifests pointing at its folders.
type fixture struct {
	node        *pkitest.Node
	manifestDir string
	now         time.Time
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	n := pkitest.NewNode(t, nil)
	dir := filepath.Join(n.Dir, "manifests")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	src := "../../manifests/staticpods/testdata/kubeadm"
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		data = bytes.ReplaceAll(data, []byte("/etc/kubernetes/"), []byte(n.Dir+"/"))
		if err := os.WriteFile(filepath.Join(dir, e.Name()), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return &fixture{node: n, manifestDir: dir, now: pkitest.Made.Add(24 * time.Hour)}
}

func (f *fixture) options(change func(o *Options)) Options {
	o := Options{CertDir: f.node.CertDir(), KubeconfigDir: f.node.Dir, ManifestDir: f.manifestDir,
		KeyAlgorithm: pki.ECDSAP256, Restarted: f.rotating(),
		Now: func() time.Time { return f.now }, Rand: rand.Reader}
	if change != nil {
		change(&o)
	}
	return o
}

// rotating reports whether a rotation is in progress on the node: the
// tests then say that the components restarted, as a user runs the next
// stage with --restarted (which starts no rotation).
func (f *fixture) rotating() bool {
	for _, name := range Names() {
		k, _ := kindOf(name)
		if rec, _ := ReadRecord(k.paths(f.node.CertDir()).Record); rec.Active() {
			return true
		}
	}
	return false
}

func (f *fixture) rotate(t *testing.T, name string, change func(o *Options)) *Record {
	t.Helper()
	var out bytes.Buffer
	o := f.options(change)
	o.Out = &out
	rec, err := Rotate(context.Background(), name, o)
	if err != nil {
		t.Fatalf("ca rotate %s: %v\n%s", name, err, out.String())
	}
	return rec
}

// cas reads the old and new CA of a rotation from its record and files,
// whatever the stage: the certificates by fingerprint.
func cas(t *testing.T, k kind, p paths) map[string]*x509.Certificate {
	t.Helper()
	out := map[string]*x509.Certificate{}
	for _, path := range []string{p.OldCert, p.NewCert, p.Trust} {
		certs, err := readCerts(path)
		if err != nil {
			continue
		}
		for _, c := range certs {
			out[fingerprint(c)] = c
		}
	}
	return out
}

// checkStage checks the files of the rotation of name against what stage
// says, independently of Verify: the trust file's order, the key, every
// certificate's signer, kubeconfigs' CA data and the manifest's signing
// flags.
func checkStage(t *testing.T, f *fixture, name string, rec *Record, signer string, trust []string, snapshot map[string]*x509.Certificate) {
	t.Helper()
	k, _ := kindOf(name)
	p := k.paths(f.node.CertDir())
	got, err := trusted(k, p.Trust)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ",") != strings.Join(trust, ",") {
		t.Errorf("%s at %s: %s holds %v, want %v", name, rec.Stage, p.Trust, short(got), short(trust))
	}
	key, err := pki.ReadKeyFile(p.Key)
	if err != nil {
		t.Fatal(err)
	}
	if k.sa {
		if keyFingerprint(key.Public()) != signer {
			t.Errorf("%s at %s: sa.key is not the signing key", name, rec.Stage)
		}
		return
	}
	ca := snapshot[signer]
	if ca == nil {
		t.Fatalf("%s: signer %s unknown", name, signer)
	}
	if pki.KeyMatches(ca, key) != nil {
		t.Errorf("%s at %s: %s does not match the signing CA", name, rec.Stage, p.Key)
	}
	hs, err := heldOf(k, false, f.node.CertDir(), f.node.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(hs) == 0 {
		t.Fatalf("%s: no certificate of the CA found", name)
	}
	for _, h := range hs {
		if err := pki.VerifySignedBy(h.cert, h.inter, ca, f.now); err != nil {
			t.Errorf("%s at %s: %s: %v", name, rec.Stage, h.file, err)
		}
		if h.entry.Kind == pki.KindLeaf {
			lk, err := pki.ReadKeyFile(pki.Store{Dir: f.node.CertDir()}.KeyPath(h.entry.BaseName))
			if err != nil || pki.KeyMatches(h.cert, lk) != nil {
				t.Errorf("%s: key does not match: %v", h.file, err)
			}
		}
		if h.entry.Kind == pki.KindKubeconfig {
			cfg, err := kubeconfig.Load(h.file)
			if err != nil {
				t.Fatal(err)
			}
			data, _ := kubeconfig.CACerts(cfg)
			var ids []string
			for _, c := range data {
				ids = append(ids, fingerprint(c))
			}
			if strings.Join(ids, ",") != strings.Join(trust, ",") {
				t.Errorf("%s at %s: CA data %v, want %v", h.file, rec.Stage, short(ids), short(trust))
			}
		}
	}
	if k.signing {
		data, err := os.ReadFile(filepath.Join(f.manifestDir, "kube-controller-manager.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		flags, err := manifests.SignerFlags(data)
		if err != nil {
			t.Fatal(err)
		}
		signing, err := readCerts(flags["cluster-signing-cert-file"])
		if err != nil || len(signing) != 1 || fingerprint(signing[0]) != signer {
			t.Errorf("%s at %s: kube-controller-manager signs with %s (%d certificates, err %v), want the signing CA alone", name, rec.Stage, flags["cluster-signing-cert-file"], len(signing), err)
		}
		if flags["cluster-signing-key-file"] != p.Key {
			t.Errorf("kube-controller-manager's key file is %s, want %s", flags["cluster-signing-key-file"], p.Key)
		}
	}
}

func TestRotateEveryStage(t *testing.T) {
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			k, _ := kindOf(name)
			p := k.paths(f.node.CertDir())
			rec := f.rotate(t, name, nil)
			if rec.Stage != StageTrust || rec.OldCA == rec.NewCA {
				t.Fatalf("after the first call: %+v", rec)
			}
			snap := cas(t, k, p)
			old, nw := rec.OldCA, rec.NewCA
			checkStage(t, f, name, rec, old, []string{old, nw}, snap)
			if err := Verify(f.node.CertDir(), f.node.Dir, name, false, f.now); err != nil {
				t.Fatal(err)
			}

			f.now = f.now.Add(time.Minute)
			rec = f.rotate(t, name, nil)
			if rec.Stage != StageReissue || rec.ReissuedAt == nil {
				t.Fatalf("after the second call: %+v", rec)
			}
			checkStage(t, f, name, rec, nw, []string{nw, old}, snap)
			for _, stray := range p.stray(StageReissue) {
				if _, err := os.Stat(stray); err == nil {
					t.Errorf("%s is left at stage reissue", stray)
				}
			}

			restartsRecorded(t, f, name)
			f.now = f.now.Add(2 * time.Hour) // sa: past the tokens' lifetime
			rec = f.rotate(t, name, nil)
			if rec.Stage != StageFinished {
				t.Fatalf("after the third call: %+v", rec)
			}
			checkStage(t, f, name, rec, nw, []string{nw}, snap)
			for _, extra := range p.stray(StageFinished) {
				if _, err := os.Stat(extra); err == nil {
					t.Errorf("%s is left after finish", extra)
				}
			}
			if len(rec.History) != 3 {
				t.Errorf("history %+v, want 3 stages", rec.History)
			}
		})
	}
}

func TestAbort(t *testing.T) {
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			k, _ := kindOf(name)
			p := k.paths(f.node.CertDir())
			f.rotate(t, name, nil)
			rec := f.rotate(t, name, nil)
			snap := cas(t, k, p)
			old, nw := rec.OldCA, rec.NewCA

			rec = f.rotate(t, name, func(o *Options) { o.Abort = true })
			if rec.Stage != StageTrust || !rec.Aborting {
				t.Fatalf("abort from reissue: %+v", rec)
			}
			checkStage(t, f, name, rec, old, []string{old, nw}, snap)

			rec = f.rotate(t, name, func(o *Options) { o.Abort = true })
			if rec.Stage != StageAborted {
				t.Fatalf("abort from trust: %+v", rec)
			}
			checkStage(t, f, name, rec, old, []string{old}, snap)
			for _, extra := range p.stray(StageAborted) {
				if _, err := os.Stat(extra); err == nil {
					t.Errorf("%s is left after abort", extra)
				}
			}
		})
	}
}
