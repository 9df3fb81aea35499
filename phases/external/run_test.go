package external

import (
	"bytes"
	"context"
	"os"
	"testing"

	"github.com/certctl/certctl/internal/output"
	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/phases/external/reqfile"
)

// TestRunImportRefusedSaysWhatWasInstalled: when a certificate is refused,
// the error says what became of the others: installed by this run, or
// already installed by an earlier one (a second run of the same import),
// never "installed" for files it did not write.
func TestRunImportRefusedSaysWhatWasInstalled(t *testing.T) {
	n := newExtNode(t)
	n.writeCSRs(t, "apiserver", "front-proxy-client", "etcd-peer")
	n.signAll(t)
	// The CA operator signed apiserver's certificate for another request.
	if err := os.WriteFile(reqfile.Path(n.csrDir, "apiserver"), read(t, reqfile.Path(n.csrDir, "front-proxy-client")), 0o644); err != nil {
		t.Fatal(err)
	}
	text, err := output.Parse("text")
	if err != nil {
		t.Fatal(err)
	}
	run := func() error {
		var out, errOut bytes.Buffer
		return RunImport(context.Background(), n.importOptions(), text, 0, &out, &errOut)
	}
	treetest.ErrMentions(t, run(), "1 certificate(s) refused", "first: apiserver", "the 2 other(s) were installed")

	err = run()
	treetest.ErrMentions(t, err, "1 certificate(s) refused", "the 2 other(s) were already installed")
	if bytes.Contains([]byte(err.Error()), []byte("other(s) were installed")) {
		t.Errorf("second run: %v, want no claim that it installed anything", err)
	}

	// One renewed again by the CA, one as before.
	n.sign(t, reqfile.Path(n.csrDir, "front-proxy-client"), nil, nil)
	treetest.ErrMentions(t, run(), "1 other(s) were installed and 1 were already installed")
}
