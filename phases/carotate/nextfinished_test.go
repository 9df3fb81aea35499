package carotate

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/pki"
)

// TestNextAfterTheEndSaysWhatRecovers: ca status's NEXT for a rotation
// that has ended (finished, aborted) whose files have problems said
// "restore the files from the last backup in certctl-backups", but the
// last backup, made by finish or the abort, holds the bundle from before
// it, the old and the new CA: restored, it is the same problem. Here
// ca.crt is restored from that backup; NEXT must say what the file must
// hold and how to get it from there, and, followed, clear the problem.
func TestNextAfterTheEndSaysWhatRecovers(t *testing.T) {
	for _, tc := range []struct {
		name, ca, want string
		abort          bool
	}{
		{"finished", pki.CAName, "ca.crt must hold the new CA alone", false},
		{"aborted", pki.FrontProxyCAName, "front-proxy-ca.crt must hold the old CA alone", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			// A minute apart: the backups' names sort as they were made.
			stages := []func(o *Options){nil, nil, nil}
			if tc.abort {
				stages = []func(o *Options){nil, func(o *Options) { o.Abort = true }}
			}
			for _, change := range stages {
				f.now = f.now.Add(time.Minute)
				f.rotate(t, tc.ca, change)
			}
			p := k(t, tc.ca).paths(f.node.CertDir())
			copies, _ := filepath.Glob(filepath.Join(f.node.Dir, "certctl-backups", "*", "pki", filepath.Base(p.Trust)))
			slices.Sort(copies)
			if len(copies) == 0 {
				t.Fatal("no backup of " + p.Trust)
			}
			if err := os.WriteFile(p.Trust, mustReadFile(t, copies[len(copies)-1]), 0o644); err != nil {
				t.Fatal(err)
			}
			f.now = f.now.Add(time.Minute)
			st := statusOf(t, f, tc.ca)
			if len(st.Problems) == 0 || strings.Contains(st.Next, "last backup") || !strings.Contains(st.Next, tc.want) || !strings.Contains(st.Next, "keep only the first") {
				t.Fatalf("ca status with %s from the last backup after stage %s: problems %q, NEXT %q; want %q and how", p.Trust, tc.name, st.Problems, st.Next, tc.want)
			}
			certs, err := readCerts(p.Trust)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p.Trust, pki.EncodeCert(certs[0]), 0o644); err != nil {
				t.Fatal(err)
			}
			if st := statusOf(t, f, tc.ca); len(st.Problems) > 0 {
				t.Errorf("after NEXT was followed: problems %q", st.Problems)
			}
		})
	}
}
