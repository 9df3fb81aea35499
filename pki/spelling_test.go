package pki

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// spellingAllowed are the string literals outside the inventory that equal
// a certificate's name or file by coincidence: they name something else.
var spellingAllowed = map[string]string{
	"phases/copycerts/clusterca.go:ca.crt":   "the key of the kube-root-ca.crt ConfigMap, which kube-controller-manager publishes",
	"phases/clusterview/schema.go:etcd-peer": "an endpoint kind of the cluster view's schema, not the certificate",
	"cmd/ca.go:ca":                           "the command `certctl ca`",
	"phases/expiration/metrics.go:ca":        "a Prometheus label name",
	"phases/signer/metrics.go:ca":            "a Prometheus label name",
	"phases/signer/casource.go:ca":           "a structured log key",
}

// TestNoCertificateNameSpelled: outside the inventory (this package) and
// the tests, no Go file spells a certificate's name or file as a string
// literal (issue 12): they take it from the inventory, so that adding a
// certificate is a one-row change. Test helpers and the harness are tests.
func TestNoCertificateNameSpelled(t *testing.T) {
	names := map[string]bool{}
	for _, e := range Kubeadm() {
		for _, n := range []string{e.Name, e.CertName(), e.BaseName} {
			names[n] = true
		}
		if e.Kind != KindKubeconfig {
			for _, ext := range []string{".crt", ".key", ".pub"} {
				names[e.BaseName+ext] = true
			}
		}
	}
	used := map[string]bool{}
	checked := eachGoFile(t, []string{"pki"}, func(rel string, fset *token.FileSet, f *ast.File) {
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err != nil || !names[s] {
				return true
			}
			used[rel+":"+s] = true
			if _, ok := spellingAllowed[rel+":"+s]; !ok {
				t.Errorf("%s:%d spells %q: take it from the inventory (pki.Kubeadm(), pki's constants)", rel, fset.Position(lit.Pos()).Line, s)
			}
			return true
		})
	})
	for k := range spellingAllowed {
		if !used[k] {
			t.Errorf("spellingAllowed lists %s, which no file spells any more: remove it", k)
		}
	}
	if checked < 100 {
		t.Fatalf("only %d Go files checked: is the walk rooted at the repository?", checked)
	}
}

// plainReads are the files that may read with os.ReadFile, and why: each
// reads a file certctl itself writes under its lock, or one whose reader is
// not certctl's. Every other read of a node's file goes through ReadFile,
// so that a FIFO, socket or device in its place is refused, naming it,
// instead of blocking certctl.
var plainReads = map[string]string{
	"internal/freeport/freeport.go":          "the kernel's ip_local_port_range in /proc, for tests (internal/testcluster's ports, which read it before it moved)",
	"internal/kubeclient/client.go":          "a kubeconfig's client-certificate file, which client-go reads the same way when it connects",
	"internal/lock/holder.go":                "certctl's own lock holder file",
	"internal/txn/files.go":                  "certctl's own staged files, in its transaction folder",
	"internal/txn/recover.go":                "certctl's own transaction manifest; a target only once Lstat says it is a regular file (contentOf)",
	"manifests/staticpods/listener_linux.go": "the kernel's /proc/PID/cmdline of each process, to see a component's new process before it listens (processesRunning)",
	"phases/renewal/apirenew/pending.go":     "certctl's own record of refused CSRs",
}

// TestNodeFilesReadWithReadFile: outside plainReads, no Go file (but
// tests and the test helpers: the harness, treetest, doctest, which reads
// docs/) calls os.ReadFile.
func TestNodeFilesReadWithReadFile(t *testing.T) {
	used := map[string]bool{}
	eachGoFile(t, []string{"internal/treetest", "internal/doctest"}, func(rel string, _ *token.FileSet, f *ast.File) {
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok || sel.Sel.Name != "ReadFile" {
				return true
			}
			if id, ok := sel.X.(*ast.Ident); !ok || id.Name != "os" {
				return true
			}
			if _, ok := plainReads[rel]; ok {
				used[rel] = true
			} else {
				t.Errorf("%s calls os.ReadFile: read with pki.ReadFile, which refuses a FIFO in place of the file, or add the file to plainReads with the reason", rel)
			}
			return true
		})
	})
	for rel := range plainReads {
		if !used[rel] {
			t.Errorf("plainReads lists %s, which no longer calls os.ReadFile: drop it", rel)
		}
	}
}

// eachGoFile calls f with each non-test Go file of the repository, by its
// path from the repository's root, but those under the test harness, the
// tests, hack/, the build outputs and the folders skip names. It returns
// how many files it parsed.
func eachGoFile(t *testing.T, skip []string, f func(rel string, fset *token.FileSet, file *ast.File)) int {
	t.Helper()
	root, checked := "..", 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if slices.Contains(skip, rel) || slices.Contains([]string{"test", "internal/testcluster", "internal/pkitest", "hack", "_output", "_demo", ".git"}, rel) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(rel, ".go") || strings.HasSuffix(rel, "_test.go") {
			return nil
		}
		fset := token.NewFileSet()
		file, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		checked++
		f(rel, fset, file)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return checked
}
