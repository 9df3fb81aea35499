package carotate

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/pki"
)

// TestLostKeyOfTheDroppedCA: a key that the next step drops with its CA
// blocked that step. With the new CA's key of stage trust gone (trust made
// it, no backup holds it), reissue cannot go on, and --abort, which needs
// no more than the new CA's certificate to take it out of the bundles,
// failed too with a bare "no such file": no way out but by hand, while
// ca status advised --abort. With the old key of stage reissue gone,
// finish, which drops the old CA, failed the same way. Each step now goes
// on without the key it drops, and the refusal of the step that needs it
// says which step can still go on.
func TestLostKeyOfTheDroppedCA(t *testing.T) {
	for _, name := range []string{pki.CAName, pki.SAName} {
		t.Run(name+"/trust", func(t *testing.T) {
			f := newFixture(t)
			f.rotate(t, name, nil)
			p := k(t, name).paths(f.node.CertDir())
			if err := os.Remove(p.NewKey); err != nil {
				t.Fatal(err)
			}
			f.now = f.now.Add(time.Minute)
			_, err := Rotate(context.Background(), name, f.options(nil))
			if err == nil || !strings.Contains(err.Error(), p.NewKey) || !strings.Contains(err.Error(), "no backup holds it") || !strings.Contains(err.Error(), "--abort") {
				t.Fatalf("reissue without %s: %v, want a refusal naming it and --abort", p.NewKey, err)
			}
			if got := problems(t, f, name); !strings.Contains(got, "--abort") {
				t.Errorf("ca status problems: %q, want the way out (--abort)", got)
			}
			rec := f.rotate(t, name, func(o *Options) { o.Abort = true })
			if rec.Stage != StageAborted {
				t.Fatalf("abort left stage %q", rec.Stage)
			}
			if got, err := trusted(k(t, name), p.Trust); err != nil || len(got) != 1 || got[0] != rec.OldCA {
				t.Errorf("%s after the abort holds %v (%v), want the old CA alone %s", p.Trust, got, err, rec.OldCA)
			}
			if got := problems(t, f, name); got != "" {
				t.Errorf("ca status after the abort: %q", got)
			}
		})
		t.Run(name+"/reissue", func(t *testing.T) {
			f := newFixture(t)
			p := k(t, name).paths(f.node.CertDir())
			oldKey := mustReadFile(t, p.Key)
			f.rotate(t, name, nil)
			f.now = f.now.Add(time.Minute)
			f.rotate(t, name, nil)
			restartsRecorded(t, f, name)
			if err := os.Remove(p.OldKey); err != nil {
				t.Fatal(err)
			}
			// The refusal says the backup of stage reissue holds it.
			rel, _ := filepath.Rel(f.node.CertDir(), p.Key)
			backups, _ := filepath.Glob(filepath.Join(f.node.Dir, "certctl-backups", "*", "pki", rel))
			held := false
			for _, b := range backups {
				held = held || bytes.Equal(mustReadFile(t, b), oldKey)
			}
			if !held {
				t.Fatalf("no backup holds the old key as %s: %v", rel, backups)
			}
			_, err := Rotate(context.Background(), name, f.options(func(o *Options) { o.Abort = true }))
			if err == nil || !strings.Contains(err.Error(), p.OldKey) || !strings.Contains(err.Error(), "finish does not need it") || !strings.Contains(err.Error(), "holds it as "+rel) {
				t.Fatalf("abort without %s: %v, want a refusal naming it, finish and the backup", p.OldKey, err)
			}
			f.now = f.now.Add(2 * DefaultMaxTokenLifetime) // sa: the old key's tokens have expired
			rec := f.rotate(t, name, nil)
			if rec.Stage != StageFinished {
				t.Fatalf("finish left stage %q", rec.Stage)
			}
			if got, err := trusted(k(t, name), p.Trust); err != nil || len(got) != 1 || got[0] != rec.NewCA {
				t.Errorf("%s after finish holds %v (%v), want the new CA alone %s", p.Trust, got, err, rec.NewCA)
			}
		})
	}
}

// problems are the problems ca status reports for the rotation of name.
func problems(t *testing.T, f *fixture, name string) string {
	t.Helper()
	r, err := Status(context.Background(), StatusOptions{CertDir: f.node.CertDir(), KubeconfigDir: f.node.Dir, ManifestDir: f.manifestDir, Now: f.now})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range r.CAs {
		if s.CA == name {
			return strings.Join(s.Problems, "; ")
		}
	}
	t.Fatalf("ca status has no %s", name)
	return ""
}

// TestLostRecordSaysSetTheStage: the files of a rotation in progress
// without its record are refused, and the refusal said "put the record
// back" from a backup, whose copy is of the stage before the step that
// wrote it: put back as it is, it names the wrong stage. It now points at
// docs/ca-rotation.md's steps, which set the stage.
func TestLostRecordSaysSetTheStage(t *testing.T) {
	f := newFixture(t)
	f.rotate(t, pki.CAName, nil)
	f.now = f.now.Add(time.Minute)
	f.rotate(t, pki.CAName, nil)
	p := k(t, pki.CAName).paths(f.node.CertDir())
	if err := os.Remove(p.Record); err != nil {
		t.Fatal(err)
	}
	_, err := Rotate(context.Background(), pki.CAName, f.options(nil))
	if err == nil || !strings.Contains(err.Error(), p.OldKey) || !strings.Contains(err.Error(), `"A damaged record"`) || !strings.Contains(err.Error(), "set its stage") {
		t.Fatalf("rotate without the record: %v, want the files, the document's steps and the stage to set", err)
	}
	if got := problems(t, f, pki.CAName); !strings.Contains(got, `"A damaged record"`) {
		t.Errorf("ca status without the record: %q, want the document's steps", got)
	}
}
