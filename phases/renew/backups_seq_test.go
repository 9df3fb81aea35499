package renew

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/output"
)

// TestListBackupsShowsSeq: after the clock was set back, the backup made
// last is dated before the one made first; the list is in the order they
// were made (backup.json's seq), and said only CREATED, which then looked
// out of order. The seq is now in the JSON and a SEQ column of the table
// ("-" for a backup of an older certctl, without one, and an incomplete
// folder whose backup.json says none). An incomplete folder whose damaged
// backup.json still says its seq (another version's) showed "-" and no
// seq, though that seq places it (here last, which stops `latest`): it
// shows it now, still INCOMPLETE, with its error and the certDir it says.
func TestListBackupsShowsSeq(t *testing.T) {
	etc := t.TempDir()
	certDir := filepath.Join(etc, "pki")
	if err := os.Mkdir(certDir, 0o700); err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(etc, "certctl-backups")
	for name, m := range map[string]string{
		"20261206T080000Z": `{"version":1,"created":"2026-12-06T08:00:00Z","certDir":"` + certDir + `","kubeconfigDir":"` + etc + `","files":[]}`,
		"20261206T110000Z": `{"version":1,"created":"2026-12-06T11:00:00Z","certDir":"` + certDir + `","kubeconfigDir":"` + etc + `","files":[],"seq":1}`,
		"20261206T100000Z": `{"version":1,"created":"2026-12-06T10:00:00Z","certDir":"` + certDir + `","kubeconfigDir":"` + etc + `","files":[],"seq":2}`,
		"20261206T120000Z": `{`,
		"20261206T090000Z": `{"version":2,"created":"2026-12-06T09:00:00Z","certDir":"` + certDir + `","seq":3}`,
	} {
		dir := filepath.Join(root, name)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "backup.json"), []byte(m), 0o600); err != nil {
			t.Fatal(err)
		}
	}

	var out, errOut bytes.Buffer
	if err := ListBackups(context.Background(), certDir, etc, output.Format{Name: "json"}, &out, &errOut); err != nil {
		t.Fatalf("ListBackups: %v\n%s", err, errOut.String())
	}
	var list struct {
		Items []struct {
			Name    string `json:"name"`
			Seq     *int   `json:"seq"`
			CertDir string `json:"certDir"`
			Error   string `json:"error"`
		} `json:"items"`
	}
	if err := json.Unmarshal(out.Bytes(), &list); err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"20261206T080000Z": 0, "20261206T110000Z": 1, "20261206T100000Z": 2, "20261206T120000Z": 0, "20261206T090000Z": 3}
	var order []string
	if len(list.Items) != len(want) {
		t.Fatalf("JSON lists %d backups, want %d:\n%s", len(list.Items), len(want), out.String())
	}
	for _, it := range list.Items {
		order = append(order, it.Name)
		if it.Name == "20261206T090000Z" && (it.CertDir != certDir || !strings.Contains(it.Error, "version 2")) {
			t.Errorf("JSON: the damaged %s has certDir %q, error %q; want %s and its error", it.Name, it.CertDir, it.Error, certDir)
		}
		switch {
		case want[it.Name] == 0 && it.Seq != nil:
			t.Errorf("JSON: %s has seq %d, want none", it.Name, *it.Seq)
		case want[it.Name] != 0 && (it.Seq == nil || *it.Seq != want[it.Name]):
			t.Errorf("JSON: %s has seq %v, want %d", it.Name, it.Seq, want[it.Name])
		}
	}

	if want := "20261206T080000Z 20261206T110000Z 20261206T100000Z 20261206T090000Z 20261206T120000Z"; strings.Join(order, " ") != want {
		t.Errorf("JSON lists %s, want %s", order, want)
	}

	out.Reset()
	if err := ListBackups(context.Background(), certDir, etc, output.Format{Name: "text"}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		`NAME +SEQ +CREATED +FILES`,
		`20261206T080000Z +- +2026-12-06T08:00:00Z +0`,
		`20261206T110000Z +1 +2026-12-06T11:00:00Z +0`,
		`20261206T100000Z +2 +2026-12-06T10:00:00Z +0`,
		`20261206T120000Z +- +- +INCOMPLETE`,
		`20261206T090000Z +3 +- +INCOMPLETE`,
	} {
		if !regexp.MustCompile(`(?m)^` + line + `$`).MatchString(out.String()) {
			t.Errorf("the table has no line %q:\n%s", line, out.String())
		}
	}
}
