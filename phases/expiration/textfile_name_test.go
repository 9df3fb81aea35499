package expiration

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/pkitest"
)

// TestTextfileName: node_exporter's textfile collector reads only the
// files named *.prom in its folder; --textfile certctl.txt was written
// without a word, and no metric ever reached Prometheus. It is still
// written, with a warning that says what to name it.
func TestTextfileName(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	for _, tc := range []struct {
		name string
		warn bool
	}{{"certctl.prom", false}, {"certctl.txt", true}, {"certctl.prom.tmp", true}} {
		var out, errOut bytes.Buffer
		o := Options{CertDir: n.CertDir(), KubeconfigDir: n.Dir, Now: checkAt, Textfile: filepath.Join(t.TempDir(), tc.name)}
		if err := Report(t.Context(), o, "text", &out, &errOut); err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(errOut.String(), "[warning]") && strings.Contains(errOut.String(), ".prom"); got != tc.warn {
			t.Errorf("--textfile %s: warning %v, want %v:\n%s", tc.name, got, tc.warn, errOut.String())
		}
	}
}

// TestTextfileWriteError: a --textfile that cannot be written is named
// once, with the flag, and a full file system is not also told to check
// that the folder exists ("write metrics to X: write X: ...").
func TestTextfileWriteError(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	p := filepath.Join(t.TempDir(), "nodir", "certctl.prom")
	var out, errOut bytes.Buffer
	o := Options{CertDir: n.CertDir(), KubeconfigDir: n.Dir, Now: checkAt, Textfile: p}
	err := Report(t.Context(), o, "text", &out, &errOut)
	if err == nil || strings.Count(err.Error(), p) != 1 || !strings.HasPrefix(err.Error(), "--textfile: ") || !strings.Contains(err.Error(), "check that its folder exists and is writable") {
		t.Errorf("error %v: want --textfile, %s once, and what to check", err, p)
	}
}
