package staticpods

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/certctl/certctl/pki"
)

// TestLoadPendingBesideEveryName: a certificate folder reached by two
// names (/etc/kubernetes/pki, a link to /data/pki) has a record of owed
// restarts beside each; a run given either name reads both, merged, and a
// Save leaves the merged record beside the name it was given and none
// beside the other: a restart finished is cleared where it was found.
func TestLoadPendingBesideEveryName(t *testing.T) {
	set, err := Load(kubeadmDir(t))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name     string
		given    []string // changed files owed beside the given name
		other    []string // beside the other name
		restored []string // components restarted by the run
		want     []string // components owed after the run's Save
	}{
		{"owed beside the other name only, restarted", nil, []string{"/etc/kubernetes/scheduler.conf"}, []string{pki.KubeScheduler}, nil},
		{"owed beside the other name only, not restarted", nil, []string{"/etc/kubernetes/scheduler.conf"}, nil, []string{pki.KubeScheduler}},
		{"owed beside both, one restarted", []string{"/etc/kubernetes/pki/etcd/server.crt"}, []string{"/etc/kubernetes/scheduler.conf"}, []string{pki.KubeScheduler}, []string{pki.Etcd}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			given, other := filepath.Join(t.TempDir(), PendingFileName), filepath.Join(t.TempDir(), PendingFileName)
			for path, files := range map[string][]string{given: tc.given, other: tc.other} {
				p, err := LoadPending(path)
				if err != nil {
					t.Fatal(err)
				}
				for _, a := range set.Affected(files) {
					p.Owe(a, now)
				}
				if err := p.Save(); err != nil {
					t.Fatal(err)
				}
			}
			p, err := LoadPending(given, other, filepath.Join(t.TempDir(), PendingFileName))
			if err != nil {
				t.Fatal(err)
			}
			var owed []string
			for _, c := range p.Components {
				owed = append(owed, c.Component)
			}
			if want := componentsOf(set, tc.given, tc.other); !slices.Equal(owed, want) {
				t.Fatalf("owed %q, want %q (beside both names)", owed, want)
			}
			for _, c := range tc.restored {
				p.Record(Result{Component: c, Status: Restarted})
			}
			if err := p.Save(); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Lstat(other); !os.IsNotExist(err) {
				t.Errorf("the record beside the other name is still there (%v): what it owed is now beside the given name", err)
			}
			q, err := LoadPending(given)
			if err != nil {
				t.Fatal(err)
			}
			var left []string
			for _, c := range q.Components {
				left = append(left, c.Component)
			}
			if !slices.Equal(left, tc.want) {
				t.Errorf("owed after the run %q, want %q", left, tc.want)
			}
		})
	}
}

func componentsOf(set *Set, lists ...[]string) []string {
	var files []string
	for _, l := range lists {
		files = append(files, l...)
	}
	var out []string
	for _, a := range set.Affected(files) {
		out = append(out, a.Component)
	}
	return out
}
