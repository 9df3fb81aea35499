package cli

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/doctest"
	"github.com/certctl/certctl/internal/treetest"
)

// helpExample says how TestHelpExamples treats one line of a command's
// examples (certctl CMD --help, and docs/reference/ made from it).
type helpExample struct {
	// cluster, when set, is why the line cannot run here (an API server,
	// a kubelet): only its flags and arguments are checked.
	cluster string
	// state is the node the line runs on: "" a node made by certctl
	// (certificates, kubeconfigs, kube-controller-manager's manifest),
	// "empty" only kubeadm.yaml, "ca" kubeadm.yaml and the cluster CA,
	// "renewed" a node with one renewal (a backup) behind it, "signed" a
	// node with ./csr renewed with --use-csr and signed.
	state string
	// at is the node's folder when not /etc/kubernetes (kubeadm.yaml
	// stays there).
	at   string
	exit int    // the exit status the example documents
	want string // a regexp its stdout must match: what its comment says
	// unchanged: the line writes nothing (ROOT is as it was).
	unchanged bool
	// kept is a file (after the substitutions) the line must leave as
	// it was: a key --reuse-key keeps.
	kept string
	// file, when set, is a file (after the substitutions) the line must
	// have written, and fileWant a regexp its content must match.
	file, fileWant string
}

const (
	needsAPI     = "needs an API server"
	needsKubelet = "--restart-control-plane needs a kubelet that restarts the static pods and components that then serve"
)

// helpExamples classifies every line of every command's examples: a new
// example fails TestHelpExamples until it is added here. Keyed by the line
// as doctest.Examples gives it (sudo taken off, continuations joined).
var helpExamples = map[string]helpExample{
	"certctl init-phase certs all --config kubeadm.yaml":                           {state: "empty", want: `\bapiserver\b`},
	"certctl init-phase kubeconfig all --config kubeadm.yaml":                      {state: "ca", want: `admin\.conf`},
	"certctl init-phase certs all --use-csr --csr-dir ./csr --config kubeadm.yaml": {state: "empty", file: "csr/apiserver.csr", fileWant: "CERTIFICATE REQUEST"},
	"certctl certs list": {want: `apiserver`},
	"certctl approve csr-8vq2x --kubeconfig /etc/kubernetes/admin.conf --config kubeadm.yaml": {cluster: needsAPI},
	"certctl approve --all-from-node cp-1 --config kubeadm.yaml":                              {cluster: needsAPI},
	"certctl ca rotate ca --restart-control-plane":                                            {cluster: needsAPI + " (the rotation's ConfigMap) and " + needsKubelet},
	"certctl ca rotate ca --certificate-key KEY --restart-control-plane":                      {cluster: needsAPI + " (the first node's Secret)"},
	"certctl ca rotate etcd-ca --all-stages --restart-control-plane":                          {cluster: needsAPI + " (the rotation's ConfigMap) and " + needsKubelet},
	"certctl ca rotate ca --forget-node cp-3":                                                 {cluster: needsAPI + " (the rotation's ConfigMap and Nodes; e2e TestRotateGatesOnThreeNodes runs it)"},
	"certctl ca status":              {want: `(?m)^ca +none .*certctl ca rotate ca `},
	"certctl certs check-expiration": {want: `(?m)^apiserver +\d{4}-\d\d-\d\d \d\d:\d\d +3\d\dd +ca +no +-$`},
	`certctl certs check-expiration -o jsonpath='{.certificates[?(@.name=="apiserver")].expirationDate}'`: {want: `^\d{4}-\d\d-\d\dT`},
	"certctl certs check-expiration --warn-within 336h -o json > /var/lib/certctl/certs.json":             {file: "/var/lib/certctl/certs.json", fileWant: `"apiserver"`},
	"certctl certs check-expiration --textfile /var/lib/node_exporter/textfile/certctl.prom >/dev/null":   {file: "/var/lib/node_exporter/textfile/certctl.prom", fileWant: `certctl_`},
	"certctl certs check-expiration --cluster":                                                            {cluster: needsAPI + " (the control-plane nodes) and their served certificates"},
	"certctl certs check-expiration --config kubeadm.yaml":                                                {want: `apiserver`},
	"certctl check-expiration": {want: `(?m)^apiserver +\d{4}-\d\d-\d\d \d\d:\d\d +3\d\dd +ca +no +-$`},
	`certctl check-expiration -o jsonpath='{.certificates[?(@.name=="apiserver")].expirationDate}'`: {want: `^\d{4}-\d\d-\d\dT`},
	"certctl check-expiration --warn-within 336h -o json > /var/lib/certctl/certs.json":             {file: "/var/lib/certctl/certs.json", fileWant: `"apiserver"`},
	"certctl check-expiration --textfile /var/lib/node_exporter/textfile/certctl.prom >/dev/null":   {file: "/var/lib/node_exporter/textfile/certctl.prom", fileWant: `certctl_`},
	"certctl check-expiration --cluster":                                                                                                     {cluster: needsAPI + " (the control-plane nodes) and their served certificates"},
	"certctl check-expiration --config kubeadm.yaml":                                                                                         {want: `apiserver`},
	`certctl certs download --certificate-key "$KEY" --kubeconfig bootstrap.conf`:                                                            {cluster: needsAPI + " (the kubeadm-certs Secret)"},
	"certctl certs generate-csr --csr-dir ./csr --config kubeadm.yaml":                                                                       {state: "empty", file: "csr/apiserver.csr", fileWant: "CERTIFICATE REQUEST"},
	"certctl certs import --csr-dir ./csr":                                                                                                   {state: "signed", want: `apiserver installed`},
	"certctl certs import --csr-dir ./csr --dry-run --cert-dir /srv/k8s/pki --kubeconfig-dir /srv/k8s":                                       {unchanged: true, want: `apiserver`, state: "signed", at: "/srv/k8s"},
	"certctl certs list --cert-dir /etc/kubernetes/pki --kubeconfig-dir /etc/kubernetes":                                                     {want: `apiserver`},
	"certctl certs list -o wide":                                                                                                             {want: `apiserver`},
	`certctl certs list -o jsonpath='{range .items[*]}{.name}{"\t"}{.expirationDate}{"\n"}{end}'`:                                            {want: `(?m)^apiserver\t\d{4}-`},
	"certctl certs renew all --config kubeadm.yaml":                                                                                          {want: `(?s)(\[renew\] \S+ renewed: .*){11}`},
	"certctl certs renew apiserver admin.conf":                                                                                               {want: `^\[renew\] Using [^\n]*\n\[renew\] apiserver renewed: [^\n]*\n\[renew\] admin\.conf renewed: [^\n]*\n\[backup\]`},
	"certctl certs renew all --reuse-key --cert-dir /srv/k8s/pki --kubeconfig-dir /srv/k8s":                                                  {at: "/srv/k8s", want: `(?s)(\[renew\] \S+ renewed: .*){11}`, kept: "/srv/k8s/pki/apiserver.key"},
	"certctl certs renew apiserver admin.conf --use-api":                                                                                     {cluster: needsAPI + " (the certificates API)"},
	"certctl certs renew all --dry-run":                                                                                                      {unchanged: true, want: `(?s)(\[dry-run\] \S+ would be renewed: .*){11}`},
	"certctl certs renew all --update-sans --config kubeadm.yaml":                                                                            {want: `(?s)(\[renew\] \S+ renewed: .*){11}`},
	"certctl certs renew all --if-expires-within 720h --restart-control-plane --keep-backups 10 --quiet":                                     {exit: 2, unchanged: true, want: `^$`},
	"certctl renew all --config kubeadm.yaml":                                                                                                {want: `(?s)(\[renew\] \S+ renewed: .*){11}`},
	"certctl renew apiserver admin.conf":                                                                                                     {want: `^\[renew\] Using [^\n]*\n\[renew\] apiserver renewed: [^\n]*\n\[renew\] admin\.conf renewed: [^\n]*\n\[backup\]`},
	"certctl renew all --reuse-key --cert-dir /srv/k8s/pki --kubeconfig-dir /srv/k8s":                                                        {at: "/srv/k8s", want: `(?s)(\[renew\] \S+ renewed: .*){11}`, kept: "/srv/k8s/pki/apiserver.key"},
	"certctl renew apiserver admin.conf --use-api":                                                                                           {cluster: needsAPI + " (the certificates API)"},
	"certctl renew all --dry-run":                                                                                                            {unchanged: true, want: `(?s)(\[dry-run\] \S+ would be renewed: .*){11}`},
	"certctl renew all --update-sans --config kubeadm.yaml":                                                                                  {want: `(?s)(\[renew\] \S+ renewed: .*){11}`},
	"certctl renew all --if-expires-within 720h --restart-control-plane --keep-backups 10 --quiet":                                           {exit: 2, unchanged: true, want: `^$`},
	"KEY=$(certctl certs certificate-key)":                                                                                                   {},
	`certctl certs upload --certificate-key "$KEY" --kubeconfig /etc/kubernetes/admin.conf`:                                                  {cluster: needsAPI + " (the kubeadm-certs Secret)"},
	"certctl config view > kubeadm.yaml":                                                                                                     {file: "kubeadm.yaml", fileWant: `ClusterConfiguration`},
	`certctl deny csr-8vq2x --reason UnknownSAN --message "evil.example.com is not ours"`:                                                    {cluster: needsAPI},
	"certctl deny --all-from-node cp-1 --reason NotScheduled":                                                                                {cluster: needsAPI},
	"certctl init-phase certs apiserver --apiserver-cert-extra-sans api.example.com":                                                         {state: "ca", want: `DNS names \[[^\]]*\bapi\.example\.com\b`},
	"certctl init-phase kubeconfig admin --kubeconfig-dir /tmp/admin --control-plane-endpoint cp.example.com:6443":                           {file: "/tmp/admin/admin.conf", fileWant: `server: https://cp.example.com:6443`},
	"certctl init-phase kubeconfig all --use-csr --csr-dir ./csr --config kubeadm.yaml":                                                      {state: "ca", file: "csr/admin.conf.csr", fileWant: "CERTIFICATE REQUEST"},
	"certctl install-timer --dry-run":                                                                                                        {unchanged: true, want: `certctl-renew\.timer`},
	"certctl install-timer --config /etc/kubernetes/kubeadm.yaml --cert-dir /srv/k8s/pki --kubeconfig-dir /srv/k8s --schedule '*-*-* 02:00'": {at: "/srv/k8s", file: "/etc/systemd/system/certctl-renew.timer", fileWant: `OnCalendar=\*-\*-\* 02:\d\d:00`},
	"certctl install-timer --offset 20m # on the second node":                                                                                {file: "/etc/systemd/system/certctl-renew.timer", fileWant: `OnCalendar=\*-\*-\* 00:20:00`},
	"certctl install-timer --certctl-path /opt/bin/certctl":                                                                                  {file: "/etc/systemd/system/certctl-renew.service", fileWant: `/opt/bin/certctl`},
	"certctl restore":                                  {state: "renewed", want: `\d{8}T\d{6}Z`},
	"certctl restore latest --dry-run":                 {unchanged: true, state: "renewed", want: `apiserver`},
	"certctl restore latest --restart-control-plane":   {state: "renewed", cluster: needsKubelet},
	"certctl restore -o jsonpath='{.items[-1:].name}'": {state: "renewed", want: `^\d{8}T\d{6}Z\n?$`},
	"certctl sign my-svc.my-namespace --ca-cert ca.pem --ca-key ca-key.pem --signing-config server-signing-config.json": {cluster: needsAPI + " (the CSR to sign)"},
	"certctl signer disable --dry-run":                                                 {unchanged: true, want: `(?m)^\+\+\+ .*kube-controller-manager\.yaml \(new\)`},
	"certctl signer disable":                                                           {file: "manifests/kube-controller-manager.yaml", fileWant: `--cluster-signing-cert-file=\n`},
	"certctl signer enable --dry-run":                                                  {unchanged: true, want: `(?m)^\+\+\+ .*kube-controller-manager\.yaml \(new\)`},
	"certctl signer enable --cluster-signing-duration 720h":                            {file: "manifests/kube-controller-manager.yaml", fileWant: `--cluster-signing-duration=720h`},
	"certctl signer run --kubeconfig /etc/kubernetes/admin.conf --config kubeadm.yaml": {cluster: needsAPI},
	"certctl signer run --kubeconfig signer.conf --cert-dir /var/empty --signer example.com/serving=ca.pem,ca-key.pem,server-signing-config.json":                                       {cluster: needsAPI},
	"certctl signer run --leader-elect --cert-dir /pki --config /config/kubeadm.yaml --control-plane-node cp-1=192.0.2.10 --control-plane-node cp-2=192.0.2.11 --listen-address :10290": {cluster: needsAPI},
	"certctl signer status":                                  {want: `(?m)^kube-controller-manager's signer: on$`},
	"certctl signer status -o jsonpath='{.builtIn.enabled}'": {want: `^(true|false)\n?$`},
}

// TestHelpExamples checks the examples of every command's --help (what
// docs/reference/ shows; read from the binary, so they cannot drift): each
// line's flags and arguments with doctest.Checker, as the docs' lines are;
// and each line that needs no cluster (helpExamples) runs, as written but
// for these substitutions, in a temporary folder ROOT:
//   - "sudo " is dropped (doctest.Examples);
//   - the line runs by sh in ROOT/etc/kubernetes, with certctl in PATH.
//     That folder holds kubeadm.yaml (node cp-1, its API server at
//     127.0.0.1:9 where nothing listens) and the node of the example's
//     state, made by certctl from that file (exampleNodes);
//   - every absolute path P in the line is ROOT/P: /etc/kubernetes is the
//     node's folder, /srv/k8s the node's when the example's "at" says so,
//     /var/lib/certctl/certs.json a file in ROOT;
//   - a flag of the command whose default is under /etc (--cert-dir,
//     --kubeconfig-dir, --unit-dir, --manifest) and which the line does
//     not give is added with ROOT/default; --manifest-dir only with
//     --restart-control-plane (certctl refuses it otherwise).
//
// It must exit with the status the example documents and print (or write)
// what its comment says.
func TestHelpExamples(t *testing.T) {
	bin := certctlBin(t)
	c := &doctest.Checker{Bin: bin}
	seen := map[string]bool{}
	nodes := exampleNodes{bin: bin, made: map[string]string{}, tmp: t.TempDir()}
	for _, path := range commandPaths(t, c, nil) {
		help, err := c.Help(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, ex := range doctest.Examples(help) {
			name := "certctl " + strings.Join(path, " ") + ": " + ex.Line
			e, ok := helpExamples[ex.Line]
			if !ok {
				t.Errorf("%s: not in helpExamples: say how it runs, or why it cannot", name)
				continue
			}
			seen[ex.Line] = true
			_, cmdline, _ := strings.Cut(ex.Line, "certctl ")
			problems, _, err := c.Check("certctl " + cmdline)
			if err != nil {
				t.Errorf("%s: %v", name, err)
			}
			for _, p := range problems {
				t.Errorf("%s: %s", name, p)
			}
			if e.cluster == "" && len(problems) == 0 {
				t.Run(ex.Line, func(t *testing.T) { runHelpExample(t, c, nodes, name, ex, e) })
			}
		}
	}
	for line := range helpExamples {
		if !seen[line] {
			t.Errorf("helpExamples has %q, which no command's examples show any more", line)
		}
	}
}

// commandPaths are the paths of the command at path and of every command
// under it, from the "Available Commands:" of their --help.
func commandPaths(t *testing.T, c *doctest.Checker, path []string) [][]string {
	t.Helper()
	help, err := c.Help(path)
	if err != nil {
		t.Fatal(err)
	}
	paths := [][]string{path}
	_, sub, _ := strings.Cut(help, "\nAvailable Commands:\n")
	for _, l := range strings.Split(sub, "\n") {
		f := strings.Fields(l)
		if len(f) == 0 || !strings.HasPrefix(l, "  ") {
			break
		}
		if f[0] != "help" {
			paths = append(paths, commandPaths(t, c, append(append([]string{}, path...), f[0]))...)
		}
	}
	return paths
}

var (
	etcFlagDefault = regexp.MustCompile(`(?m)^\s+(?:-[a-zA-Z], )?(--[-a-z0-9]+) string .*\(default "(/etc/[^"]*)"\)`)
	absPath        = regexp.MustCompile(`(^|[\s=>'"])(/[^\s'"]*)`)
)

// runHelpExample runs one example line with the substitutions
// TestHelpExamples states and checks its exit status, output and files.
func runHelpExample(t *testing.T, c *doctest.Checker, nodes exampleNodes, name string, ex doctest.Example, e helpExample) {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, "etc", "kubernetes")
	at := "/etc/kubernetes"
	if e.at != "" {
		at = e.at
	}
	nodes.copyTo(t, root, at, e.state)

	line := absPath.ReplaceAllStringFunc(ex.Line, func(s string) string {
		m := absPath.FindStringSubmatch(s)
		if m[2] == "/dev/null" {
			return s
		}
		mkdirAll(t, filepath.Dir(filepath.Join(root, m[2])))
		return m[1] + filepath.Join(root, m[2])
	})
	_, rest, _ := strings.Cut(line, "certctl ")
	words, _ := doctest.SplitCommand("certctl " + rest)
	path, _, err := c.Path(words)
	if err != nil {
		t.Fatal(err)
	}
	help, _ := c.Help(path)
	var extra []string
	for _, m := range etcFlagDefault.FindAllStringSubmatch(help, -1) {
		if strings.Contains(line, m[1]+" ") || strings.Contains(line, m[1]+"=") ||
			m[1] == "--manifest-dir" && !strings.Contains(line, "--restart-control-plane") {
			continue // --manifest-dir is refused without --restart-control-plane
		}
		v := filepath.Join(root, m[2])
		mkdirAll(t, filepath.Dir(v))
		if m[1] == "--unit-dir" {
			mkdirAll(t, v)
		}
		extra = append(extra, m[1], v)
	}
	cmdPath := "certctl " + strings.Join(path, " ")
	line = strings.Replace(line, cmdPath, strings.Join(append([]string{cmdPath}, extra...), " "), 1)

	bindir := filepath.Join(root, "bin")
	mkdirAll(t, bindir)
	if err := os.Symlink(c.Bin, filepath.Join(bindir, "certctl")); err != nil {
		t.Fatal(err)
	}
	before := treetest.Snapshot(t, root)
	var keptBefore []byte
	if e.kept != "" {
		keptBefore = mustRead(t, filepath.Join(root, e.kept))
	}
	var stdout, stderr strings.Builder
	cmd := exec.Command("sh", "-c", line)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PATH="+bindir+":"+os.Getenv("PATH"))
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	out := stdout.String() + stderr.String()
	if code != e.exit {
		t.Errorf("%s (run as %s): exit status %d, want %d\n%s", name, line, code, e.exit, out)
		return
	}
	if e.kept != "" && !bytes.Equal(keptBefore, mustRead(t, filepath.Join(root, e.kept))) {
		t.Errorf("%s (run as %s) changed %s (%s)", name, line, e.kept, ex.Comment)
	}
	if e.unchanged {
		treetest.AssertSame(t, before, treetest.Snapshot(t, root))
	}
	if e.want != "" && !regexp.MustCompile(e.want).MatchString(stdout.String()) {
		t.Errorf("%s (run as %s) printed\n%s\nwant on stdout a match of %s (%s)", name, line, out, e.want, ex.Comment)
	}
	if e.file != "" {
		f := filepath.Join(dir, e.file)
		if filepath.IsAbs(e.file) {
			f = filepath.Join(root, e.file)
		}
		data, err := os.ReadFile(f)
		if err != nil || !regexp.MustCompile(e.fileWant).Match(data) {
			t.Errorf("%s (run as %s): %s: %v\n%s\nwant a match of %s (%s)\noutput:\n%s", name, line, e.file, err, data, e.fileWant, ex.Comment, out)
		}
	}
}

// exampleNodes makes each node an example runs on once, in a temporary
// ROOT, and copies it to the examples' ROOTs (most of the test's time
// would go to making them: sign.sh's openssl runs, above all).
type exampleNodes struct {
	bin, tmp string
	made     map[string]string // state and folder: its ROOT
}

// copyTo copies the node of state in folder at (helpExample) to root,
// with its ROOT in the files that name it (kubeadm.yaml, a backup's
// record) replaced by root.
func (n exampleNodes) copyTo(t *testing.T, root, at, state string) {
	t.Helper()
	key := state + " " + at
	from, ok := n.made[key]
	if !ok {
		from = filepath.Join(n.tmp, strconv.Itoa(len(n.made)))
		prepareExampleNode(t, n.bin, filepath.Join(from, "etc", "kubernetes"), filepath.Join(from, at), state)
		n.made[key] = from
	}
	if out, err := exec.Command("cp", "-a", from+"/.", root).CombinedOutput(); err != nil {
		t.Fatalf("cp -a %s/. %s: %v\n%s", from, root, err, out)
	}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil || !bytes.Contains(data, []byte(from)) {
			return err
		}
		return os.WriteFile(path, bytes.ReplaceAll(data, []byte(from), []byte(root)), 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// prepareExampleNode writes kubeadm.yaml in dir, naming node's
// certificate folder, and makes the node of state in folder node
// (helpExample.state).
func prepareExampleNode(t *testing.T, bin, dir, node, state string) {
	t.Helper()
	n := newConfigNodeIn(t, node)
	cfg := "--config=" + n.config
	// The kubeconfigs' API server is a port where nothing listens, so
	// that a command that tries the kubeadm-config ConfigMap (without
	// --config) is refused at once rather than waiting on 198.51.100.10.
	data := append(mustRead(t, n.config), "controlPlaneEndpoint: 127.0.0.1:9\n"...)
	if err := os.WriteFile(n.config, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if node != dir {
		mkdirAll(t, dir)
		if err := os.Rename(n.config, filepath.Join(dir, "kubeadm.yaml")); err != nil {
			t.Fatal(err)
		}
		cfg = "--config=" + filepath.Join(dir, "kubeadm.yaml")
	}
	cwd, dir := dir, node
	switch state {
	case "empty":
		return
	case "ca":
		run(t, bin, "init-phase", "certs", "ca", cfg)
		return
	}
	run(t, bin, "init-phase", "certs", "all", cfg)
	run(t, bin, "init-phase", "kubeconfig", "all", cfg, "--kubeconfig-dir", dir)
	mkdirAll(t, filepath.Join(dir, "manifests"))
	data = mustRead(t, filepath.Join("..", "..", "manifests", "testdata", "kubeadm.yaml"))
	if err := os.WriteFile(filepath.Join(dir, "manifests", "kube-controller-manager.yaml"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	switch state {
	case "renewed":
		run(t, bin, "renew", "all", cfg, "--kubeconfig-dir", dir)
	case "signed":
		// What the import's example says came before: renew --use-csr
		// into ./csr, then the CA operator signed it (docs/external-ca.md's
		// sign.sh, with the node's CAs).
		csr := filepath.Join(cwd, "csr")
		run(t, bin, "renew", "all", "--use-csr", "--csr-dir", csr, cfg, "--kubeconfig-dir", dir)
		docSignScript(t, n.node)(csr)
	}
}

func mkdirAll(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}
