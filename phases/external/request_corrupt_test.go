package external

import (
	"context"
	"os"
	"testing"

	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/phases/external/reqfile"
)

// TestImportCorruptRequestFileSaysWhatToDo: a request file that is no
// longer JSON (an editor, a truncated copy back from the CA operator) is
// refused, and the reason says how to get it back: the command that wrote
// the CSR folder, run again for that certificate with the same --csr-dir,
// keeps the key and CSR and writes the request file again. The refusal
// only said "parse request file ...: invalid character ...".
func TestImportCorruptRequestFileSaysWhatToDo(t *testing.T) {
	n := newExtNode(t)
	n.writeCSRs(t, "apiserver")
	path := reqfile.Path(n.csrDir, "apiserver")
	n.sign(t, path, nil, nil)
	if err := os.WriteFile(path, []byte("{\"apiVersion\": \"certctl.io/v1\", \"kind\""), 0o644); err != nil {
		t.Fatal(err)
	}
	before := treetest.Snapshot(t, n.CertDir())
	res, err := Import(context.Background(), n.importOptions())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Refused) != 1 || res.Refused[0].Name != "apiserver" {
		t.Fatalf("refused %v, want apiserver", res.Refused)
	}
	assertMentions(t, res.Refused[0].Reason, "apiserver.request.json", "write it again", "--use-csr", "same --csr-dir")
	treetest.AssertSame(t, before, treetest.Snapshot(t, n.CertDir()))
}
