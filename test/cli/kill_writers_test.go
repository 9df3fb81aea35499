package cli

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/util/keyutil"
	"sigs.k8s.io/yaml"
)

// defaultWriterKills is how many times TestKillWriters kills each command
// (seven of them: about 50 s on 2 cores shared with other work);
// CERTCTL_KILLS overrides it, -short makes it 4.
const defaultWriterKills = 10

// writerCase is one command of TestKillWriters: prepare makes the node the
// command starts from (once; every iteration starts from a copy of it at
// the same path), cmds is the command (several run one after the other),
// and check, when set, checks what a killed run left after the recovery.
type writerCase struct {
	name    string
	prepare func(t *testing.T, bin string, w writerNode)
	cmds    func(w writerNode) [][]string
	check   func(t *testing.T, w writerNode, start, end map[string][]byte)
	// again is the command run again to the end, when not cmds; exact,
	// that it then leaves the files of an uninterrupted run byte for byte.
	again func(t *testing.T, w writerNode) [][]string
	exact bool
	// manifestOnly: the command writes no certificate, openssl is skipped.
	manifestOnly bool
	// oneTxn: the command writes in one transaction; else in none
	// (checkWriterRecovery).
	oneTxn bool
	kind   string // with oneTxn, what recovery calls the transaction
}

// writerNode is the folder a case works in: a node's /etc/kubernetes with
// its manifest folder, and a CSR folder beside it.
type writerNode struct {
	node
	root, manifestDir, csrDir string
}

var writerID = []string{"--node-name", "cp-1", "--apiserver-advertise-address", "198.51.100.10", "--encryption-algorithm", "ECDSA-P256"}

func (w writerNode) initCmds() [][]string {
	return [][]string{
		append([]string{"init-phase", "certs", "all", "--cert-dir", w.certDir}, writerID...),
		append(append([]string{"init-phase", "kubeconfig", "all"}, w.flags()...), writerID...),
	}
}

func (w writerNode) signer(verb string) [][]string {
	c := []string{"signer", verb, "--manifest", filepath.Join(w.manifestDir, "kube-controller-manager.yaml")}
	if verb == "enable" {
		c = append(c, "--cert-dir", w.certDir)
	}
	return [][]string{c}
}

// TestKillWriters SIGKILLs the commands that write, other than `renew all`
// and `ca rotate` (TestKillRenewAll, TestKillCARotation), at random
// instants spread over a measured run, then checks that check-expiration
// recovers and reports no problem but MISSING files; that every
// certificate matches its key and chains to its CA (openssl); that every
// file parses (PEM, kubeconfig, manifest YAML, JSON); that what the case
// says is atomic is all old or all new; that no staging or temporary file
// is left; and that running the command again to the end leaves what an
// uninterrupted run leaves.
func TestKillWriters(t *testing.T) {
	kills := killCount(t, defaultWriterKills)
	if testing.Short() && os.Getenv("CERTCTL_KILLS") == "" {
		kills = 4
	}
	bin := certctlBin(t)
	rng, seed := seededRand(t)
	allOrNone := func(t *testing.T, w writerNode, start, end map[string][]byte) {
		t.Helper()
		var old, changed []string
		for _, rel := range certFiles() {
			switch data := read(t, filepath.Join(w.root, rel)); {
			case bytes.Equal(data, start[rel]):
				old = append(old, rel)
			case bytes.Equal(data, end[rel]):
				changed = append(changed, rel)
			default:
				t.Errorf("%s is neither the old one nor the one an uninterrupted run writes", rel)
			}
		}
		if len(old) != 0 && len(changed) != 0 {
			t.Errorf("%q are the old ones and %q new: want all or none", old, changed)
		}
	}
	for _, tc := range []writerCase{
		{name: "init-phase on an empty folder", cmds: writerNode.initCmds},
		{name: "init-phase on a half-made folder", cmds: writerNode.initCmds, prepare: func(t *testing.T, bin string, w writerNode) {
			for _, c := range w.initCmds() {
				run(t, bin, c...)
			}
			// apiserver.key without its certificate is what a kill may leave.
			for _, f := range []string{"pki/apiserver.crt", "pki/etcd/peer.crt", "pki/etcd/peer.key", "pki/front-proxy-client.crt", "pki/front-proxy-client.key", "scheduler.conf", "super-admin.conf"} {
				if err := os.Remove(filepath.Join(w.dir, f)); err != nil {
					t.Fatal(err)
				}
			}
		}},
		{name: "certs import", check: allOrNone, exact: true, oneTxn: true, kind: "import", prepare: func(t *testing.T, bin string, w writerNode) {
			w.make(t, bin)
			run(t, bin, append([]string{"renew", "all", "--use-csr", "--csr-dir", w.csrDir}, w.flags()...)...)
			signCSRs(t, w)
		}, cmds: func(w writerNode) [][]string {
			return [][]string{append([]string{"certs", "import", "--csr-dir", w.csrDir}, w.flags()...)}
		}},
		{name: "restore latest", check: allOrNone, exact: true, oneTxn: true, kind: "restore", again: firstBackup, prepare: func(t *testing.T, bin string, w writerNode) {
			w.make(t, bin)
			run(t, bin, append([]string{"renew", "all"}, w.flags()...)...)
		}, cmds: func(w writerNode) [][]string {
			return [][]string{append([]string{"restore", "latest"}, w.flags()...)}
		}},
		{name: "signer enable", check: manifestOldOrNew, exact: true, manifestOnly: true, prepare: func(t *testing.T, bin string, w writerNode) {
			w.make(t, bin)
			run(t, bin, w.signer("disable")[0]...)
			removeAll(t, filepath.Join(w.dir, "tmp"))
		}, cmds: func(w writerNode) [][]string { return w.signer("enable") }},
		{name: "signer disable", check: manifestOldOrNew, exact: true, manifestOnly: true, prepare: func(t *testing.T, bin string, w writerNode) {
			w.make(t, bin)
		}, cmds: func(w writerNode) [][]string { return w.signer("disable") }},
		{name: "renew all --use-csr", check: csrsMatchKeys, prepare: func(t *testing.T, bin string, w writerNode) {
			w.make(t, bin)
		}, cmds: func(w writerNode) [][]string {
			return [][]string{append([]string{"renew", "all", "--use-csr", "--csr-dir", w.csrDir}, w.flags()...)}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, tmpl := preparedWriterNode(t, bin, tc.prepare)
			start := snapshotFiles(t, w.root)

			// The reference: an uninterrupted run, timed (shortest of 3).
			var runTime time.Duration
			var end map[string][]byte
			for range 3 {
				w.reset(t, tmpl)
				s := time.Now()
				for _, c := range tc.cmds(w) {
					run(t, bin, c...)
				}
				runTime = min(cmp0(runTime, time.Since(s)), time.Since(s))
				end = snapshotFiles(t, w.root)
			}
			t.Logf("%s takes %v", tc.name, runTime)
			parseAll(t, w.root)
			verifyOpenSSL(t, w.presentPairs(t, t.TempDir()))

			for i := range kills {
				delay := time.Duration(rng.Float64() * 1.2 * float64(runTime))
				if i == 0 {
					delay = 0
				}
				w.reset(t, tmpl)
				killed, out := runKilled(t, bin, tc.cmds(w), delay)
				fail := func(format string, args ...any) {
					t.Helper()
					t.Fatalf("iteration %d (killed=%v after %v, seed %d): "+format+"\n%s", append(append([]any{i, killed, delay, seed}, args...), out)...)
				}
				r := runCode(t, bin, append([]string{"check-expiration"}, w.flags()...)...)
				// Exit 1 when it finds nothing at all (killed before the
				// first file).
				if r.code != 0 && !(r.code == 1 && strings.Contains(r.errOut, "error: none of the")) {
					fail("check-expiration exits %d after the kill:\n%s%s", r.code, r.out, r.errOut)
				}
				if p := problems(r.out); len(p) > 0 {
					fail("check-expiration reports problems after the kill:\n%s\n%s", strings.Join(p, "\n"), r.errOut)
				}
				// What recovery says must be what happened.
				checkWriterRecovery(t, tc, w, start, end, r.errOut)
				parseAll(t, w.root)
				if !tc.manifestOnly {
					verifyOpenSSL(t, w.presentPairs(t, t.TempDir()))
				}
				if tc.check != nil {
					tc.check(t, w, start, end)
				}
				// The CSR folder's are removed by the next --use-csr run
				// (TestCSRFolderTempFilesAreRecovered): check-expiration
				// does not look there. It does in the manifest folder and
				// its backups (TestReadRemovesManifestTempFiles).
				left := slices.DeleteFunc(leftovers(w.root), func(p string) bool {
					return strings.HasPrefix(p, w.csrDir+"/")
				})
				if len(left) > 0 {
					fail("left behind after the recovery: %q", left)
				}
				if t.Failed() {
					fail("failed after the recovery; check-expiration said:\n%s%s", r.out, r.errOut)
				}
				again := tc.cmds(w)
				if tc.again != nil {
					again = tc.again(t, w)
				}
				for _, c := range again {
					if r := runCode(t, bin, c...); r.code != 0 {
						fail("the same command again: certctl %s exits %d:\n%s%s", strings.Join(c, " "), r.code, r.out, r.errOut)
					}
				}
				if left := leftovers(w.root); len(left) > 0 {
					fail("left behind after the command ran again: %q", left)
				}
				final := snapshotFiles(t, w.root)
				if got, want := names(final), names(end); !slices.Equal(got, want) {
					fail("the command run again leaves the files\n%q\nwant those of an uninterrupted run\n%q", got, want)
				}
				for rel, data := range final {
					if tc.exact && !strings.Contains(rel, "*") && !bytes.Equal(data, end[rel]) {
						t.Errorf("the command run again leaves another %s than an uninterrupted run", rel)
					}
				}
				// An exact case's files are the reference's, checked
				// with openssl above.
				parseAll(t, w.root)
				if !tc.exact {
					verifyOpenSSL(t, w.presentPairs(t, t.TempDir()))
				}
				if tc.check != nil {
					tc.check(t, w, start, end)
				}
				if t.Failed() {
					fail("failed after the command ran again")
				}
			}
		})
	}
}

func cmp0(a, b time.Duration) time.Duration {
	if a == 0 {
		return b
	}
	return a
}

// preparedWriterNode makes a writer node, prepares it (prepare may be nil)
// and copies it as the template that each run starts from (w.reset).
func preparedWriterNode(t *testing.T, bin string, prepare func(t *testing.T, bin string, w writerNode)) (writerNode, string) {
	t.Helper()
	base := t.TempDir()
	tmpl := filepath.Join(base, "template")
	w := newWriterNode(filepath.Join(base, "work"))
	if err := os.MkdirAll(w.root, 0o700); err != nil {
		t.Fatal(err)
	}
	if prepare != nil {
		prepare(t, bin, w)
	}
	copyTree(t, w.root, tmpl)
	return w, tmpl
}

func newWriterNode(root string) writerNode {
	dir := filepath.Join(root, "etc-kubernetes")
	return writerNode{node: node{dir: dir, certDir: filepath.Join(dir, "pki")}, root: root,
		manifestDir: filepath.Join(dir, "manifests"), csrDir: filepath.Join(root, "csr")}
}

// make makes the node's certificates, kubeconfigs and kubeadm's manifests
// (makeRotationNode's).
func (w writerNode) make(t *testing.T, bin string) {
	t.Helper()
	for _, c := range w.initCmds() {
		run(t, bin, c...)
	}
	src := filepath.Join("..", "..", "manifests", "staticpods", "testdata", "kubeadm")
	if err := os.Mkdir(w.manifestDir, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"kube-controller-manager.yaml", "kube-apiserver.yaml"} {
		data := bytes.ReplaceAll(read(t, filepath.Join(src, name)), []byte("/etc/kubernetes/"), []byte(w.dir+"/"))
		if err := os.WriteFile(filepath.Join(w.manifestDir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// reset puts the template back at the node's path.
func (w writerNode) reset(t *testing.T, tmpl string) {
	t.Helper()
	removeAll(t, w.root)
	copyTree(t, tmpl, w.root)
}

func removeAll(t *testing.T, p string) {
	t.Helper()
	if err := os.RemoveAll(p); err != nil {
		t.Fatal(err)
	}
}

func copyTree(t *testing.T, from, to string) {
	t.Helper()
	if out, err := exec.Command("cp", "-a", from, to).CombinedOutput(); err != nil {
		t.Fatalf("cp -a %s %s: %v\n%s", from, to, err, out)
	}
}

// runKilled runs cmds one after the other and SIGKILLs the one running
// after delay; it reports whether one was killed, and the output.
func runKilled(t *testing.T, bin string, cmds [][]string, delay time.Duration) (bool, string) {
	t.Helper()
	deadline := time.Now().Add(delay)
	var out bytes.Buffer
	for _, c := range cmds {
		cmd := exec.Command(bin, c...)
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("certctl %s failed on its own: %v\n%s", strings.Join(c, " "), err, out.String())
			}
		case <-time.After(time.Until(deadline)):
			cmd.Process.Kill()
			<-done
			return true, out.String()
		}
	}
	return false, out.String()
}

// problems lists check-expiration's table rows with a problem other than
// a missing file.
func problems(out string) []string {
	var p []string
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) == 0 || f[0] == "CERTIFICATE" || f[0] == "CA" || f[0] == "!MISSING!" || f[len(f)-1] == "-" {
			continue
		}
		p = append(p, l)
	}
	return p
}

// snapshotFiles reads every regular file under root but the lock files,
// keyed by path relative to root, backups and manifest backups named by
// their folder's base only (their folder is named after the time).
func snapshotFiles(t *testing.T, root string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() || d.Name() == ".certctl.lock" {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		parts := strings.Split(rel, string(filepath.Separator))
		for i := range parts[:len(parts)-1] {
			if parts[i] == "certctl-backups" || strings.HasPrefix(parts[i], "certctl-backup-manifests-") {
				parts[i+boolInt(parts[i] == "certctl-backups")] = "*"
			}
		}
		data, err := os.ReadFile(p)
		out[strings.Join(parts, "/")] = data
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func names(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// parseAll checks that every file under root is whole: PEM files hold only
// PEM blocks that parse, kubeconfigs and manifests parse as YAML, request
// files as JSON.
func parseAll(t *testing.T, root string) {
	t.Helper()
	for rel, data := range snapshotFiles(t, root) {
		switch ext := filepath.Ext(rel); ext {
		case ".crt", ".csr", ".key", ".pub":
			rest := data
			var n int
			for {
				var b *pem.Block
				if b, rest = pem.Decode(rest); b == nil {
					break
				}
				n++
				var err error
				switch b.Type {
				case "CERTIFICATE":
					_, err = x509.ParseCertificate(b.Bytes)
				case "CERTIFICATE REQUEST":
					_, err = x509.ParseCertificateRequest(b.Bytes)
				}
				if err != nil {
					t.Errorf("%s: %v", rel, err)
				}
			}
			if n == 0 || len(bytes.TrimSpace(rest)) > 0 {
				t.Errorf("%s: %d PEM blocks and %d bytes of something else", rel, n, len(bytes.TrimSpace(rest)))
			}
			if ext == ".key" {
				if _, err := keyutil.ParsePrivateKeyPEM(data); err != nil {
					t.Errorf("%s: %v", rel, err)
				}
			}
		case ".conf", ".yaml":
			var v map[string]any
			if err := yaml.Unmarshal(data, &v); err != nil || len(v) == 0 {
				t.Errorf("%s does not parse as YAML (%v)", rel, err)
			}
		case ".json":
			if !json.Valid(data) {
				t.Errorf("%s is not JSON", rel)
			}
		}
	}
}

// presentPairs is pairs for the files that exist: a certificate without its
// key is an error, a key without its certificate what a kill may leave
// (the command run again makes the certificate).
func (w writerNode) presentPairs(t *testing.T, scratch string) []pair {
	t.Helper()
	var out []pair
	exists := func(p string) bool { _, err := os.Stat(p); return err == nil }
	for _, ca := range []string{"ca", "front-proxy-ca", "etcd/ca"} {
		p := pair{ca, filepath.Join(w.certDir, ca+".crt"), filepath.Join(w.certDir, ca+".key"), filepath.Join(w.certDir, ca+".crt")}
		if exists(p.cert) {
			out = append(out, p)
		}
	}
	for _, l := range leaves {
		p := pair{l.base, filepath.Join(w.certDir, l.base+".crt"), filepath.Join(w.certDir, l.base+".key"), filepath.Join(w.certDir, l.ca+".crt")}
		if exists(p.cert) {
			out = append(out, p)
		}
	}
	for _, k := range kubeconfigs {
		if exists(filepath.Join(w.dir, k)) {
			out = append(out, w.kubeconfigPair(t, k, scratch))
		}
	}
	return out
}

func (w writerNode) kubeconfigPair(t *testing.T, k, scratch string) pair {
	t.Helper()
	cert, key, ca := embedded(t, filepath.Join(w.dir, k))
	if !bytes.Equal(ca, read(t, filepath.Join(w.certDir, "ca.crt"))) {
		t.Errorf("%s: certificate-authority-data is not ca.crt", k)
	}
	p := pair{k, filepath.Join(scratch, k+".crt"), filepath.Join(scratch, k+".key"), filepath.Join(w.certDir, "ca.crt")}
	if err := os.WriteFile(p.cert, cert, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p.key, key, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// certFiles is every leaf certificate of the node and the kubeconfigs,
// relative to a writerNode's root.
func certFiles() []string {
	var out []string
	for _, l := range leaves {
		out = append(out, "etc-kubernetes/pki/"+l.base+".crt")
	}
	for _, k := range kubeconfigs {
		out = append(out, "etc-kubernetes/"+k)
	}
	return out
}

// firstBackup is `restore` of the backup the case started with, by name:
// "latest" is, after a restore, the backup that restore made.
func firstBackup(t *testing.T, w writerNode) [][]string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(w.dir, "certctl-backups"))
	if err != nil || len(entries) == 0 {
		t.Fatalf("no backup in %s: %v", w.dir, err)
	}
	return [][]string{append([]string{"restore", entries[0].Name()}, w.flags()...)}
}

// signCSRs signs every request of the CSR folder with the node's own CAs,
// through docs/external-ca.md's sign.sh (TestDocumentedSignScript).
func signCSRs(t *testing.T, w writerNode) {
	t.Helper()
	scratch := t.TempDir()
	script := filepath.Join(scratch, "sign.sh")
	if err := os.WriteFile(script, []byte(docBlockIn(t, "external-ca.md", "sh", "# sign.sh CSRDIR CADIR")), 0o700); err != nil {
		t.Fatal(err)
	}
	for from, to := range map[string]string{"ca": "ca", "front-proxy-ca": "front-proxy-ca", "etcd/ca": "etcd-ca"} {
		for _, ext := range []string{".crt", ".key"} {
			if err := os.WriteFile(filepath.Join(scratch, to+ext), read(t, filepath.Join(w.certDir, from+ext)), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	if out, err := exec.Command("bash", script, w.csrDir, scratch).CombinedOutput(); err != nil {
		t.Fatalf("sign.sh: %v\n%s", err, out)
	}
}

// manifestOldOrNew checks that kube-controller-manager's manifest is the
// old one or the new one byte for byte, and that its backup, if any, is
// the old one.
func manifestOldOrNew(t *testing.T, w writerNode, start, end map[string][]byte) {
	t.Helper()
	const rel = "etc-kubernetes/manifests/kube-controller-manager.yaml"
	got := read(t, filepath.Join(w.root, rel))
	if !bytes.Equal(got, start[rel]) && !bytes.Equal(got, end[rel]) {
		t.Errorf("%s is neither the old manifest nor the new one:\n%s", rel, got)
	}
	backups, _ := filepath.Glob(filepath.Join(w.dir, "tmp", "certctl-backup-manifests-*", "*"))
	for _, b := range backups {
		if !bytes.Equal(read(t, b), start[rel]) {
			t.Errorf("backup %s is not the old manifest", b)
		}
	}
}

// csrsMatchKeys checks that the certificates are untouched and every CSR
// of the CSR folder is for the key beside it.
func csrsMatchKeys(t *testing.T, w writerNode, start, _ map[string][]byte) {
	t.Helper()
	for rel, data := range snapshotFiles(t, w.root) {
		if strings.HasPrefix(rel, "etc-kubernetes/") && !strings.HasPrefix(rel, "etc-kubernetes/.") && !bytes.Equal(data, start[rel]) {
			t.Errorf("%s changed: --use-csr writes only the CSR folder", rel)
		}
		if !strings.HasSuffix(rel, ".csr") {
			continue
		}
		b, _ := pem.Decode(data)
		if b == nil {
			continue // parseAll says so
		}
		csr, err := x509.ParseCertificateRequest(b.Bytes)
		if err != nil {
			continue
		}
		keyFile := filepath.Join(w.root, strings.TrimSuffix(rel, ".csr")+".key")
		var keyPEM []byte
		if strings.HasSuffix(rel, ".conf.csr") {
			_, keyPEM, _ = embedded(t, filepath.Join(w.root, strings.TrimSuffix(rel, ".csr")))
		} else {
			keyPEM = read(t, keyFile)
		}
		key, err := keyutil.ParsePrivateKeyPEM(keyPEM)
		if err != nil {
			t.Errorf("key of %s: %v", rel, err)
			continue
		}
		pub, _ := x509.MarshalPKIXPublicKey(csr.PublicKey)
		want, _ := x509.MarshalPKIXPublicKey(key.(crypto.Signer).Public())
		if !bytes.Equal(pub, want) {
			t.Errorf("%s is not for the key beside it", rel)
		}
	}
}
