package external

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/output"
	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/phases/renewal/apirenew"
	"github.com/certctl/certctl/pki"
)

// TestImportRemovesSupersededPendingKeys: a pending key of `renew
// --use-api` (kept so that a later --use-api run resumes its CSR) whose
// certificate an import replaces asks to renew a certificate that is
// replaced already: it stayed, and a later --use-api run resumed it and
// installed its CSR's certificate over the imported one. The import now
// removes it, with its refusal note, in its own transaction, by the rule
// of a renewal from the CAs on disk (apirenew.SupersededBy), says so, and
// lists it in prunedPendingKeys; the pending key of a certificate it does
// not import stays. A dry run says it and removes nothing.
func TestImportRemovesSupersededPendingKeys(t *testing.T) {
	n := newExtNode(t)
	n.writeCSRs(t, "admin.conf")
	n.signAll(t)
	dir, err := apirenew.PendingDir(n.CertDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	pending := map[string]string{}
	for _, name := range []string{"admin.conf", "apiserver"} {
		key, err := pki.GenerateKey(rand.Reader, pki.ECDSAP256)
		if err != nil {
			t.Fatal(err)
		}
		data, err := pki.MarshalPrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		pending[name] = filepath.Join(dir, name+".key")
		if err := os.WriteFile(pending[name], data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	note := filepath.Join(dir, "admin.conf.refused")
	if err := os.WriteFile(note, []byte("certctl-cp-admin.conf-0\nwas denied (reason \"No\")\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	want := []apirenew.PrunedKey{{Name: "admin.conf", File: pending["admin.conf"]}}
	text := func(res *ImportSummary, f string) string {
		var out bytes.Buffer
		if err := res.Print(&out, output.Format{Name: f}, nil); err != nil {
			t.Fatal(err)
		}
		return out.String()
	}

	// The dry run says it, and lists it, and removes nothing.
	before := treetest.Snapshot(t, filepath.Dir(n.Dir))
	dry := n.importOptions()
	dry.DryRun = true
	res, err := Import(context.Background(), dry)
	if err != nil {
		t.Fatalf("import --dry-run: %v", err)
	}
	treetest.AssertSame(t, before, treetest.Snapshot(t, filepath.Dir(n.Dir)))
	if !slices.Equal(res.PrunedPendingKeys, want) {
		t.Errorf("dry run: prunedPendingKeys = %+v, want %+v", res.PrunedPendingKeys, want)
	}
	if line := "[dry-run] The pending key of admin.conf would be removed, and its CSR's request with it: admin.conf would be imported instead"; !strings.Contains(text(res, "text"), line) {
		t.Errorf("dry run does not say %q:\n%s", line, text(res, "text"))
	}

	res, err = Import(context.Background(), n.importOptions())
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	for _, f := range []string{pending["admin.conf"], note} {
		if _, err := os.Stat(f); !os.IsNotExist(err) {
			t.Errorf("%s is left after admin.conf was imported: %v", f, err)
		}
	}
	if _, err := os.Stat(pending["apiserver"]); err != nil {
		t.Errorf("the pending key of apiserver, not imported: %v", err)
	}
	if !slices.Equal(res.PrunedPendingKeys, want) {
		t.Errorf("prunedPendingKeys = %+v, want %+v", res.PrunedPendingKeys, want)
	}
	if line := "[import] Removed the pending key of admin.conf, and its CSR's request with it: admin.conf is imported instead; a later --use-api run makes a new key and CSR"; !strings.Contains(text(res, "text"), line) {
		t.Errorf("output does not say %q:\n%s", line, text(res, "text"))
	}
	if js := text(res, "json"); !strings.Contains(js, `"prunedPendingKeys": [`) || !strings.Contains(js, pending["admin.conf"]) {
		t.Errorf("the JSON summary does not list the removed pending key:\n%s", js)
	}
}
