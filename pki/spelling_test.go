package pki

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// spellingAllowed are the string literals outside the inventory that equal
// a certificate's name or file by coincidence: they name something else.
var spellingAllowed = map[string]string{
	"phases/carotate/cluster_gates.go:ca.crt": "the key of the kube-root-ca.crt ConfigMap, which kube-controller-manager publishes",
	"phases/clusterview/schema.go:etcd-peer":  "an endpoint kind of the cluster view's schema, not the certificate",
	"cmd/ca.go:ca":                            "the command `certctl ca`",
	"phases/expiration/metrics.go:ca":         "a Prometheus label name",
	"phases/signer/metrics.go:ca":             "a Prometheus label name",
	"phases/signer/casource.go:ca":            "a structured log key",
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
	root := ".."
	checked, used := 0, map[string]bool{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			switch rel {
			case "pki", "test", "internal/testcluster", "internal/pkitest", "hack", "_output", "_demo", ".git":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(rel, ".go") || strings.HasSuffix(rel, "_test.go") {
			return nil
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		checked++
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
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for k := range spellingAllowed {
		if !used[k] {
			t.Errorf("spellingAllowed lists %s, which no file spells any more: remove it", k)
		}
	}
	if checked < 100 {
		t.Fatalf("only %d Go files checked: is the walk rooted at the repository?", checked)
	}
}
