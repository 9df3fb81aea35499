package expiration

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/pkitest"
)

// TestTextfileStaleTemp: a check-expiration --textfile killed while it
// wrote (kill -9, or blocked past the grace after SIGTERM) leaves its
// temporary file, .certctl.prom.tmp-RANDOM, beside the file; node_exporter
// skips it, but one more piled up at each kill. The next write removes
// those of its own name older than a minute, and keeps one being written
// now (another run's) and those of other files.
func TestTextfileStaleTemp(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	dir := t.TempDir()
	textfile := filepath.Join(dir, "certctl.prom")
	old := time.Now().Add(-time.Hour)
	files := map[string]bool{ // name: removed
		".certctl.prom.tmp-123456":  true,
		".certctl.prom.tmp-654321":  false, // being written now
		".other.prom.tmp-123456":    false,
		".certctl.prom.tmp-notmine": false,
		"node.prom":                 false,
	}
	for name := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		if name != ".certctl.prom.tmp-654321" {
			if err := os.Chtimes(p, old, old); err != nil {
				t.Fatal(err)
			}
		}
	}
	var out, errOut bytes.Buffer
	o := Options{CertDir: n.CertDir(), KubeconfigDir: n.Dir, Now: checkAt, Textfile: textfile}
	if err := Report(t.Context(), o, "text", &out, &errOut); err != nil {
		t.Fatal(err)
	}
	for name, removed := range files {
		_, err := os.Stat(filepath.Join(dir, name))
		if gone := os.IsNotExist(err); gone != removed {
			t.Errorf("%s removed: %v, want %v", name, gone, removed)
		}
	}
	if _, err := os.Stat(textfile); err != nil {
		t.Errorf("--textfile not written: %v", err)
	}
}
