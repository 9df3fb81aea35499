package cli

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/util/keyutil"

	"github.com/certctl/certctl/manifests"
	"github.com/certctl/certctl/pki"
	"github.com/certctl/certctl/pki/kubeconfig"
)

// defaultRotationKills is how many times TestKillCARotation kills `certctl
// ca rotate` (the issue asks for at least 100); CERTCTL_KILLS overrides it.
const defaultRotationKills = 120

// rotationNode is a node made by certctl with kubeadm's static pod
// manifests pointing at its folders.
type rotationNode struct {
	node
	manifestDir string
}

func makeRotationNode(t *testing.T, bin string) rotationNode {
	t.Helper()
	n := rotationNode{node: makeNode(t, bin, "ECDSA-P256")}
	n.manifestDir = filepath.Join(n.dir, "manifests")
	if err := os.Mkdir(n.manifestDir, 0o700); err != nil {
		t.Fatal(err)
	}
	// The test runs in test/cli.
	src := filepath.Join("..", "..", "manifests", "staticpods", "testdata", "kubeadm")
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		data = bytes.ReplaceAll(data, []byte("/etc/kubernetes/"), []byte(n.dir+"/"))
		if err := os.WriteFile(filepath.Join(n.manifestDir, e.Name()), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return n
}

// rotateArgs is the command line of the next stage of the rotation of ca:
// with --restarted while a rotation is in progress or restarts are owed
// (the user restarted what the last stage named), without it to start a
// rotation, which --restarted does not.
func (n rotationNode) rotateArgs(ca string, abort bool) []string {
	args := append([]string{"ca", "rotate", ca, "--manifest-dir", n.manifestDir, "--max-token-lifetime", "1ms", "--node-only"}, n.flags()...)
	data, _ := os.ReadFile(filepath.Join(n.certDir, ".certctl-rotation-"+ca+".json"))
	var rec rotationRecord
	if json.Unmarshal(data, &rec) == nil && (rec.Stage == "trust" || rec.Stage == "reissue" || len(rec.Restart) > 0 && !rec.Restarted) {
		args = append(args, "--restarted")
	}
	if abort {
		args = append(args, "--abort")
	}
	return args
}

// rotationRecord is the part of the stage record the test reads.
type rotationRecord struct {
	Stage    string `json:"stage"`
	Aborting bool   `json:"aborting"`
	OldCA    string `json:"oldCA"`
	NewCA    string `json:"newCA"`
	// Restart lists the components the last stage asked to restart;
	// Restarted, that they were.
	Restart   []string `json:"restart"`
	Restarted bool     `json:"restarted"`
}

func readRotationRecord(t *testing.T, path string) *rotationRecord {
	t.Helper()
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	} else if err != nil {
		t.Fatal(err)
	}
	var r rotationRecord
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	return &r
}

var rotationCAs = []struct{ name, base string }{{"ca", "ca"}, {"front-proxy-ca", "front-proxy-ca"}, {"etcd-ca", "etcd/ca"}, {"sa", "sa"}}

// TestKillCARotation SIGKILLs `certctl ca rotate` at random instants of
// every stage (trust, reissue, finish, and --abort from both) of every CA,
// then lets `certctl check-expiration` recover, and checks that the files
// are exactly those of the stage the record names: the trust file holds
// the stage's CAs in its order, the signing key matches the first, every
// certificate and kubeconfig client certificate of the CA matches its key
// and chains to the CA that signs at that stage, every kubeconfig trusts
// the stage's CAs, kube-controller-manager signs with a single certificate
// of the signing CA, and nothing is left behind. The next call resumes.
func TestKillCARotation(t *testing.T) {
	kills := killCount(t, defaultRotationKills)
	bin := certctlBin(t)
	rng, seed := seededRand(t)
	n := makeRotationNode(t, bin)

	// A stage's wall time, measured on a throw-away node.
	m := makeRotationNode(t, bin)
	var stage time.Duration
	for range 3 {
		s := time.Now()
		run(t, bin, m.rotateArgs("ca", false)...)
		stage = max(stage, time.Since(s))
	}
	t.Logf("a stage of ca takes up to %v", stage)

	stats := map[string]int{}
	for i := range kills {
		ca := rotationCAs[(i/3)%len(rotationCAs)] // three kills per CA in a row: one stage after another
		recPath := filepath.Join(n.certDir, ".certctl-rotation-"+ca.name+".json")
		before := readRotationRecord(t, recPath)
		files := snapshotFiles(t, n.dir)
		abort := before != nil && (before.Stage == "trust" || before.Stage == "reissue") && rng.IntN(5) == 0
		// Uniform over [0, 1.3 stage], and every other one over [0.5, 1.05
		// stage], where the transaction commits (reading the settings and
		// checking the files come first).
		span := [2]float64{0, 1.3}
		if i%2 == 1 {
			span = [2]float64{0.5, 1.05}
		}
		delay := time.Duration((span[0] + rng.Float64()*(span[1]-span[0])) * float64(stage))
		cmd := exec.Command(bin, n.rotateArgs(ca.name, abort)...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(delay)
		_ = cmd.Process.Kill()
		err := cmd.Wait()
		if cmd.ProcessState.Exited() && err != nil {
			t.Fatalf("iteration %d: ca rotate %s failed on its own: %v\n%s", i, ca.name, err, out.String())
		}
		rec := run(t, bin, append([]string{"check-expiration"}, n.flags()...)...)
		after := readRotationRecord(t, recPath)
		moved := before == nil && after != nil || before != nil && after != nil && (before.Stage != after.Stage || before.Aborting != after.Aborting || before.NewCA != after.NewCA)
		stats[map[bool]string{true: "stage made", false: "stage not made"}[moved]]++
		if strings.Contains(rec, "[recover] finished") {
			stats["rolled forward"]++
		}
		if strings.Contains(rec, "[recover] discarded") {
			stats["discarded"]++
		}
		if after != nil {
			checkRotationStage(t, n, ca.name, ca.base, after)
		}
		// What recovery says must be what happened.
		checkRotationRecovery(t, rec, n.dir, recPath, files, moved, rotationStray(ca.base, before))
		status := runOut(t, bin, "ca", "status", "-o", "json", "--node-only", "--cert-dir", n.certDir, "--kubeconfig-dir", n.dir)
		if strings.Contains(status, `"problems": [`) && !strings.Contains(status, `"problems": []`) {
			t.Errorf("iteration %d: ca status reports problems:\n%s", i, status)
		}
		if left := leftovers(n.dir); len(left) > 0 {
			t.Errorf("iteration %d: left behind: %q", i, left)
		}
		if t.Failed() {
			t.Fatalf("iteration %d (%s, abort=%v, killed after %v, seed %d): record %+v -> %+v\n%s\ncheck-expiration:\n%s", i, ca.name, abort, delay, seed, before, after, out.String(), rec)
		}
	}
	t.Logf("%d kills: %v", kills, stats)
}

func sha(der []byte) string {
	s := sha256.Sum256(der)
	return hex.EncodeToString(s[:])
}

// checkRotationStage checks the files of the rotation of name against its
// record, with no code of the rotation's own.
func checkRotationStage(t *testing.T, n rotationNode, name, base string, rec *rotationRecord) {
	t.Helper()
	var trust []string
	switch {
	case rec.Stage == "trust":
		trust = []string{rec.OldCA, rec.NewCA}
	case rec.Stage == "reissue":
		trust = []string{rec.NewCA, rec.OldCA}
	case rec.Stage == "finished":
		trust = []string{rec.NewCA}
	case rec.Stage == "aborted":
		trust = []string{rec.OldCA}
	default:
		t.Fatalf("%s: unknown stage %q", name, rec.Stage)
	}
	s := pki.Store{Dir: n.certDir}
	key, err := s.ReadKey(base)
	if err != nil {
		t.Fatal(err)
	}
	if name == "sa" {
		data, err := os.ReadFile(s.PublicKeyPath(base))
		if err != nil {
			t.Fatal(err)
		}
		keys, err := keyutil.ParsePublicKeysPEM(data)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, k := range keys {
			der, _ := x509.MarshalPKIXPublicKey(k)
			got = append(got, sha(der))
		}
		if !slices.Equal(got, trust) {
			t.Errorf("sa at %s: sa.pub holds %d keys in another order than the stage's", rec.Stage, len(got))
		}
		der, _ := x509.MarshalPKIXPublicKey(key.Public())
		if sha(der) != trust[0] {
			t.Errorf("sa at %s: sa.key is not the key that signs at this stage", rec.Stage)
		}
		return
	}
	data, err := os.ReadFile(s.CertPath(base))
	if err != nil {
		t.Fatal(err)
	}
	bundle, err := pki.ParseCerts(data)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range bundle {
		got = append(got, sha(c.Raw))
	}
	if !slices.Equal(got, trust) {
		t.Fatalf("%s at %s: %s holds another set or order of CAs than the stage's", name, rec.Stage, s.CertPath(base))
	}
	signer := bundle[0]
	if pki.KeyMatches(signer, key) != nil {
		t.Errorf("%s at %s: %s does not match the first certificate of %s", name, rec.Stage, s.KeyPath(base), s.CertPath(base))
	}
	now := time.Now()
	for _, l := range leaves {
		if l.ca != base {
			continue
		}
		cert, inter, err := s.ReadCert(l.base)
		if err != nil {
			t.Fatal(err)
		}
		k, err := s.ReadKey(l.base)
		if err != nil {
			t.Fatal(err)
		}
		if pki.KeyMatches(cert, k) != nil {
			t.Errorf("%s at %s: %s does not match its key", name, rec.Stage, l.base)
		}
		if err := pki.VerifySignedBy(cert, inter, signer, now); err != nil {
			t.Errorf("%s at %s: %s is not signed by the CA that signs at this stage: %v", name, rec.Stage, l.base, err)
		}
	}
	if name != "ca" {
		return
	}
	for _, kc := range append(slices.Clone(kubeconfigs), "kubelet.conf") {
		cfg, err := kubeconfig.Load(filepath.Join(n.dir, kc))
		if err != nil {
			t.Fatal(err)
		}
		cas, err := kubeconfig.CACerts(cfg)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, c := range cas {
			ids = append(ids, sha(c.Raw))
		}
		if !slices.Equal(ids, trust) {
			t.Errorf("ca at %s: %s trusts another set or order of CAs than the stage's", rec.Stage, kc)
		}
		cert, k, err := kubeconfig.ClientCert(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if pki.KeyMatches(cert, k) != nil {
			t.Errorf("ca at %s: %s: the client key does not match", rec.Stage, kc)
		}
		if err := pki.VerifySignedBy(cert, nil, signer, now); err != nil {
			t.Errorf("ca at %s: %s is not signed by the CA that signs at this stage: %v", rec.Stage, kc, err)
		}
	}
	data, err = os.ReadFile(filepath.Join(n.manifestDir, "kube-controller-manager.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	flags, err := manifests.SignerFlags(data)
	if err != nil {
		t.Fatal(err)
	}
	sd, err := os.ReadFile(flags["cluster-signing-cert-file"])
	if err != nil {
		t.Fatalf("ca at %s: kube-controller-manager's signing certificate: %v", rec.Stage, err)
	}
	sc, err := pki.ParseCerts(sd)
	if err != nil || len(sc) != 1 || sha(sc[0].Raw) != trust[0] {
		t.Errorf("ca at %s: kube-controller-manager signs with %s, which is not the signing CA alone", rec.Stage, flags["cluster-signing-cert-file"])
	}
	if flags["cluster-signing-key-file"] != s.KeyPath(base) {
		t.Errorf("ca at %s: kube-controller-manager's signing key is %s", rec.Stage, flags["cluster-signing-key-file"])
	}
}

// rotationStray are the files, relative to the node's folder, that the
// rotation of the CA base at rec's stage no longer needs, which every ca
// rotate removes before it begins (phases/carotate's paths.stray): the key
// of the CA that does not sign at trust and at reissue, every .old and
// .new file once the rotation ended. None without a record.
func rotationStray(base string, rec *rotationRecord) []string {
	if rec == nil {
		return nil
	}
	pki := func(ext string) string { return filepath.Join("pki", base+ext) }
	switch rec.Stage {
	case "trust":
		return []string{pki(".old.key")}
	case "reissue":
		return []string{pki(".new.key")}
	}
	return []string{pki(".old.crt"), pki(".new.crt"), pki(".old.key"), pki(".new.key")}
}
