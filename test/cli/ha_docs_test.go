package cli

import (
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestHADocsJoinOffline runs what docs/ha.md's joining node does that
// needs no API server, as written (test/e2e/copycerts_test.go runs the
// whole flow against a cluster): its join.yaml, /etc/kubernetes replaced by
// a temporary folder, and its init-phase commands. Without the shared
// files they say to run certs download first; with them (copied from a
// node, as certs download writes them) they make the node's own
// certificates and kubeadm join's three kubeconfig files.
func TestHADocsJoinOffline(t *testing.T) {
	bin := certctlBin(t)
	if key := strings.TrimSpace(run(t, bin, "certs", "certificate-key")); !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(key) {
		t.Errorf("certs certificate-key printed %q, want 64 hex digits (kubeadm's AES-256 key)", key)
	}
	dir := filepath.Join(t.TempDir(), "etc-kubernetes")
	if err := os.MkdirAll(filepath.Join(dir, "pki", "etcd"), 0o755); err != nil {
		t.Fatal(err)
	}
	block := strings.ReplaceAll(docBlockIn(t, "ha.md", "sh", "# On the node that joins"), "/etc/kubernetes", dir)
	m := regexp.MustCompile(`(?s)cat > join.yaml <<'EOF'\n(.*?)\nEOF\n`).FindStringSubmatch(block)
	if m == nil {
		t.Fatalf("docs/ha.md's join block has no join.yaml:\n%s", block)
	}
	if err := os.WriteFile(filepath.Join(dir, "join.yaml"), []byte(m[1]), 0o600); err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range docCommands(t, block) {
		if strings.HasPrefix(l, "certctl init-phase ") {
			lines = append(lines, l)
		}
	}
	if len(lines) != 2 {
		t.Fatalf("docs/ha.md's join block: init-phase lines %q, want certs and kubeconfig", lines)
	}
	r := runCode(t, bin, strings.Fields(strings.ReplaceAll(strings.TrimPrefix(lines[0], "certctl "), " join.yaml", " "+filepath.Join(dir, "join.yaml")))...)
	if r.code != 1 || !strings.Contains(r.errOut, "certs download") {
		t.Errorf("%s without the shared files: exit %d, want 1 and a pointer to certs download\n%s%s", lines[0], r.code, r.out, r.errOut)
	}

	cluster := makeNode(t, bin, "ECDSA-P256")
	for _, f := range []string{"ca.crt", "ca.key", "front-proxy-ca.crt", "front-proxy-ca.key", "etcd/ca.crt", "etcd/ca.key", "sa.key", "sa.pub"} {
		if err := os.WriteFile(filepath.Join(dir, "pki", f), mustRead(t, filepath.Join(cluster.certDir, f)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, l := range lines {
		runDocCommand(t, bin, dir, l)
	}
	crt := parseCert(t, filepath.Join(dir, "pki", "apiserver.crt"))
	for _, san := range []string{"cp-2", "cp.example.com"} {
		if !slices.Contains(crt.DNSNames, san) {
			t.Errorf("apiserver.crt's DNS SANs %q lack %s", crt.DNSNames, san)
		}
	}
	if !slices.ContainsFunc(crt.IPAddresses, func(ip net.IP) bool { return ip.Equal(net.ParseIP("192.0.2.12")) }) {
		t.Errorf("apiserver.crt's IP SANs %v lack the advertise address 192.0.2.12", crt.IPAddresses)
	}
	if cn := parseCert(t, filepath.Join(dir, "pki", "etcd", "server.crt")).Subject.CommonName; cn != "cp-2" {
		t.Errorf("etcd/server.crt's CN %q, want cp-2", cn)
	}
	for name, server := range map[string]string{"admin.conf": "https://cp.example.com:6443", "controller-manager.conf": "https://192.0.2.12:6443", "scheduler.conf": "https://192.0.2.12:6443"} {
		if data, err := os.ReadFile(filepath.Join(dir, name)); err != nil || !strings.Contains(string(data), "server: "+server+"\n") {
			t.Errorf("%s: want server %s (%v)", name, server, err)
		}
	}
	for _, name := range []string{"super-admin.conf", "kubelet.conf"} {
		if _, err := os.Stat(filepath.Join(dir, name)); !os.IsNotExist(err) {
			t.Errorf("%s: kubeadm join makes none on a joining node (%v)", name, err)
		}
	}
}

// TestHADocsTimerLine runs docs/ha.md's renewal line for every node, as
// written, on a node whose certificates are fresh (its folders added): it
// has nothing to do, so it restarts nothing and needs no API server, and
// exits 2, which the timer's unit counts as success.
func TestHADocsTimerLine(t *testing.T) {
	bin := certctlBin(t)
	n := makeRotationNode(t, bin)
	lines := docCommands(t, docBlockIn(t, "ha.md", "sh", "certctl renew all --if-expires-within"))
	if len(lines) != 1 {
		t.Fatalf("docs/ha.md's renewal block: %q", lines)
	}
	args := append(strings.Fields(strings.TrimPrefix(lines[0], "certctl ")), append(n.flags(), "--manifest-dir", n.manifestDir)...)
	if r := runCode(t, bin, args...); r.code != 2 || !strings.Contains(r.out, "Nothing to do") {
		t.Errorf("certctl %s: exit %d, want 2 (nothing to do)\n%s%s", strings.Join(args, " "), r.code, r.out, r.errOut)
	}
}
