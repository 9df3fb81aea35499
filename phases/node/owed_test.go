package node

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/manifests/staticpods"
)

// TestLoadOwedBesideEitherName: `renew --restart-control-plane` given
// /etc/pki, a link to /data/pki, records a restart it could not do beside
// the name it was given (/etc/.certctl-restarts.json); a run, or
// check-expiration, given /data/pki read only /data/.certctl-restarts.json
// and neither retried nor reported it. LoadOwed reads the records beside
// every name (aliases), and a Save that clears it clears it there.
func TestLoadOwedBesideEitherName(t *testing.T) {
	for _, tc := range []struct{ name, recordedAs, givenAs string }{
		{"recorded through the link, read given the real folder", "link", "real"},
		{"recorded in the real folder, read given the link", "real", "link"},
		{"recorded and read through the link", "link", "link"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			etc, link, real := treetest.LinkedFolder(t)
			names := map[string]string{"link": link, "real": real}
			recorded, err := staticpods.PendingPath(names[tc.recordedAs])
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(recorded, []byte(`{"version":1,"components":[{"component":"kube-scheduler","manifest":"m","files":["`+filepath.Join(etc, "scheduler.conf")+`"],"since":"2026-03-01T10:00:00Z"}]}`), 0o600); err != nil {
				t.Fatal(err)
			}
			owed, err := LoadOwed(names[tc.givenAs], []string{etc})
			if err != nil {
				t.Fatal(err)
			}
			if owed.Get("kube-scheduler") == nil {
				t.Fatalf("LoadOwed(%s) = %+v, want the restart recorded beside %s", names[tc.givenAs], owed.Components, recorded)
			}
			owed.Forget("kube-scheduler")
			if err := owed.Save(); err != nil {
				t.Fatal(err)
			}
			for _, n := range []string{link, real} {
				p, _ := staticpods.PendingPath(n)
				if _, err := os.Lstat(p); !os.IsNotExist(err) {
					t.Errorf("%s is left once nothing is owed (%v)", p, err)
				}
			}
		})
	}
}

// TestLoadOwedBelowAFile: renew reads the restarts owed first; below a
// file it said "read the restarts still owed from DIR/.certctl-restarts.json:
// open ...: not a directory", which names neither the file nor the flag.
func TestLoadOwedBelowAFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	certDir := filepath.Join(file, "pki")
	_, err := LoadOwed(certDir, []string{t.TempDir()})
	if want := "--cert-dir " + certDir + " is inside " + file + ", which is a file, not a folder"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("LoadOwed: %v, want %q", err, want)
	}
}
