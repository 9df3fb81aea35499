package external

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/output"
	"github.com/certctl/certctl/phases/renewal"
)

// TestImportKeepBackups: an external-CA node renews only by --use-csr and
// import, so import's backups, which hold the old private keys, piled up
// with nothing to prune them. --keep-backups N keeps the N newest after an
// import that saved old files, its own backup always among them.
func TestImportKeepBackups(t *testing.T) {
	n := newExtNode(t)
	var made []string
	var last *ImportSummary
	for i := range 3 {
		n.csrDir = filepath.Join(t.TempDir(), "csr") // a new folder per renewal, as the docs say
		n.writeCSRs(t, "all")
		n.signAll(t)
		o := n.importOptions()
		o.KeepBackups = 2
		at := now.Add(time.Duration(i) * time.Hour)
		o.Now = func() time.Time { return at }
		res, err := Import(context.Background(), o)
		if err != nil {
			t.Fatalf("import %d: %v", i+1, err)
		}
		if res.BackupDir == "" {
			t.Fatalf("import %d saved no backup", i+1)
		}
		made = append(made, res.BackupDir)
		last = res
	}
	root, err := renewal.BackupRoot(n.CertDir())
	if err != nil {
		t.Fatal(err)
	}
	all, err := renewal.ListBackups(root)
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, b := range all {
		left = append(left, b.Dir)
	}
	if !slices.Equal(left, made[1:]) {
		t.Errorf("backups left = %q, want the two newest %q", left, made[1:])
	}
	if !slices.Equal(last.PrunedBackups, made[:1]) {
		t.Errorf("pruned = %q, want %q", last.PrunedBackups, made[:1])
	}
	if _, err := os.Stat(made[0]); !os.IsNotExist(err) {
		t.Errorf("the oldest backup %s is still there (%v)", made[0], err)
	}
	var out bytes.Buffer
	if err := last.Print(&out, output.Format{Name: "text"}, nil); err != nil {
		t.Fatal(err)
	}
	want := "Removed the old backup " + made[0] + " (--keep-backups 2)"
	if !strings.Contains(out.String(), want) {
		t.Errorf("output does not say %q:\n%s", want, out.String())
	}
	out.Reset()
	if err := last.Print(&out, output.Format{Name: "json"}, nil); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"prunedBackups": [`) || !strings.Contains(out.String(), filepath.Base(made[0])) {
		t.Errorf("the JSON summary does not list the pruned backup:\n%s", out.String())
	}
}

// TestImportKeepBackupsNegative: a negative --keep-backups is refused
// before anything is read, as renew refuses it.
func TestImportKeepBackupsNegative(t *testing.T) {
	o := ImportOptions{CSRDir: t.TempDir(), KeepBackups: -1}
	err := RunImport(context.Background(), o, output.Format{Name: "text"}, 0, &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "--keep-backups -1 must not be negative") {
		t.Errorf("RunImport = %v, want the refusal of --keep-backups -1", err)
	}
}
