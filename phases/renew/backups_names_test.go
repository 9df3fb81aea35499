package renew

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/output"
	"github.com/certctl/certctl/internal/treetest"
)

// TestListBackupsBesideEveryName: a certificate folder reached by two
// names (/etc/pki, a link to /data/pki) keeps the backups of a run beside
// the name it was given (/etc/certctl-backups or /data/certctl-backups);
// `certctl restore` given one name listed only those beside it, and said
// there was no backup. It lists those beside every name, oldest first,
// each with its folder: the table has a FOLDER column then, the JSON every
// root.
func TestListBackupsBesideEveryName(t *testing.T) {
	for _, tc := range []struct{ name, givenAs string }{
		{"given the real folder", "real"},
		{"given the link", "link"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			etc, link, real := treetest.LinkedFolder(t)
			byLink := filepath.Join(etc, "certctl-backups", "20261206T100000Z")
			byReal := filepath.Join(filepath.Dir(real), "certctl-backups", "20261206T110000Z")
			for dir, created := range map[string]string{byLink: "2026-12-06T10:00:00Z", byReal: "2026-12-06T11:00:00Z"} {
				if err := os.MkdirAll(dir, 0o700); err != nil {
					t.Fatal(err)
				}
				m := `{"version":1,"created":"` + created + `","certDir":"` + real + `","kubeconfigDir":"` + etc + `","files":[]}`
				if err := os.WriteFile(filepath.Join(dir, "backup.json"), []byte(m), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			given := map[string]string{"link": link, "real": real}[tc.givenAs]

			var out, errOut bytes.Buffer
			if err := ListBackups(context.Background(), given, etc, output.Format{Name: "text"}, &out, &errOut); err != nil {
				t.Fatalf("ListBackups: %v\n%s", err, errOut.String())
			}
			text := out.String()
			i, j := strings.Index(text, "20261206T100000Z"), strings.Index(text, "20261206T110000Z")
			if i < 0 || j < 0 || i > j {
				t.Fatalf("the list given %s does not show both backups, oldest first:\n%s", given, text)
			}
			for _, dir := range []string{byLink, byReal} {
				if !strings.Contains(text, dir) {
					t.Errorf("the list does not say where %s is:\n%s", filepath.Base(dir), text)
				}
			}

			out.Reset()
			if err := ListBackups(context.Background(), given, etc, output.Format{Name: "json"}, &out, &errOut); err != nil {
				t.Fatal(err)
			}
			var list BackupList
			if err := json.Unmarshal(out.Bytes(), &list); err != nil {
				t.Fatal(err)
			}
			if len(list.Items) != 2 || len(list.Roots) != 2 || list.Roots[0] != list.Root {
				t.Errorf("JSON: %d items, roots %q (root %s); want 2 items, the given name's root first of 2", len(list.Items), list.Roots, list.Root)
			}
		})
	}
}
