package config

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/treetest"
)

// TestConnectSkipsNonRegularKubeconfig: without --config, a FIFO (or a
// folder) in place of admin.conf or super-admin.conf is not opened for the
// ConfigMap, which blocked on the FIFO: it is passed over as a missing file
// is, and what the run says about the ConfigMap names it and why.
func TestConnectSkipsNonRegularKubeconfig(t *testing.T) {
	for _, tc := range []struct {
		name    string
		prepare func(t *testing.T, dir string)
		opened  string // the file Open gets, "" for none
		want    []string
	}{
		{"admin.conf a FIFO, no super-admin.conf", func(t *testing.T, dir string) {
			treetest.FIFO(t, filepath.Join(dir, "admin.conf"))
		}, "", []string{"admin.conf is not a regular file but a FIFO"}},
		{"admin.conf a FIFO, super-admin.conf there", func(t *testing.T, dir string) {
			treetest.FIFO(t, filepath.Join(dir, "admin.conf"))
			if err := os.WriteFile(filepath.Join(dir, "super-admin.conf"), nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}, "super-admin.conf", []string{"admin.conf is not a regular file but a FIFO", "super-admin.conf: no API server"}},
		{"super-admin.conf a FIFO", func(t *testing.T, dir string) {
			treetest.FIFO(t, filepath.Join(dir, "super-admin.conf"))
		}, "", []string{"super-admin.conf is not a regular file but a FIFO"}},
		{"admin.conf a folder", func(t *testing.T, dir string) {
			if err := os.Mkdir(filepath.Join(dir, "admin.conf"), 0o755); err != nil {
				t.Fatal(err)
			}
		}, "", []string{"admin.conf is not a regular file but a folder"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			tc.prepare(t, dir)
			var opened []string
			var warn strings.Builder
			r := &Resolver{
				CertDir: filepath.Join(dir, "pki"), CertDirSet: true, KubeconfigDir: dir, Warn: &warn,
				// As kubeclient does: read the file, which blocks on a FIFO.
				Open: func(path, _ string) (ConfigMapGetter, error) {
					opened = append(opened, path)
					if _, err := os.ReadFile(path); err != nil {
						return nil, err
					}
					return nil, fmt.Errorf("%s: no API server", path)
				},
			}
			err := treetest.Unblocked(t, "Layered", func() error { _, err := r.Layered(nil); return err })
			if err != nil {
				t.Fatal(err)
			}
			if want := []string{}; tc.opened != "" {
				want = append(want, filepath.Join(dir, tc.opened))
				if !slices.Equal(opened, want) {
					t.Errorf("opened %q, want %q", opened, want)
				}
			} else if len(opened) > 0 {
				t.Errorf("opened %q, want none", opened)
			}
			for _, w := range tc.want {
				if !strings.Contains(warn.String(), w) {
					t.Errorf("output %q does not say %q", warn.String(), w)
				}
			}
			if strings.Count(warn.String(), "\n") != 1 || !strings.HasPrefix(warn.String(), "[config] ") {
				t.Errorf("output %q: want one [config] line", warn.String())
			}
		})
	}
}
