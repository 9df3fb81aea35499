package apirenew

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/phases/renewal"
)

// TestRefusalNoteKind: a refusal note says how the CSR was refused in a
// field of its own (kind: denied, failed, rejected), and the next run
// reads that, not the words of its message: before, a CSR issued a
// certificate certctl refused was told from a denied or failed one only
// by the start of the message noted (rejectedPrefix), so new words there
// would have turned its advice into a denied CSR's. A note written by an
// older certctl (the CSR's name and the message, nothing more) is read as
// before: rejected when its words say so.
func TestRefusalNoteKind(t *testing.T) {
	const wrongCA = `was issued a certificate signed by "other", not by the CA "kubernetes" of the certificate it renews`
	for _, tc := range []struct {
		name     string
		note     string // %CSR% is the CSR's name
		rejected bool
		state    string
	}{
		{"old rejected", "%CSR%\n" + wrongCA + "\n", true, wrongCA},
		{"old denied", "%CSR%\nwas denied (reason \"Nope\")\n", false, `was denied (reason "Nope")`},
		{"old failed", "%CSR%\nfailed: the signer x refused it (reason \"R\")\n", false, `failed: the signer x refused it (reason "R")`},
		{"rejected", "%CSR%\ngot a certificate certctl does not install\nkind: rejected\n", true, "got a certificate certctl does not install"},
		{"denied", "%CSR%\n" + wrongCA + "\nkind: denied\n", false, wrongCA},
		{"failed", "%CSR%\nfailed: the signer x refused it\nkind: failed\n", false, "failed: the signer x refused it"},
		{"changed", "%CSR%\nwas issued a certificate that no longer fits\nkind: changed\n", true, "was issued a certificate that no longer fits"},
		{"unknown kind", "%CSR%\nwas refused somehow\nkind: later\n", false, "was refused somehow"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cs, ca, dir := fakeClient(), newTestCA(t), t.TempDir()
			is, out := newIssuer(t, cs, dir, func(o *Options) { o.Timeout = time.Minute })
			key := newKey(t)
			if err := is.pending.save("admin.conf", key); err != nil {
				t.Fatal(err)
			}
			csr, err := CSRName("cp-1", "admin.conf", key.Public())
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(is.pending.refusedPath("admin.conf"), []byte(strings.ReplaceAll(tc.note, "%CSR%", csr)), 0o600); err != nil {
				t.Fatal(err)
			}
			err = is.Obtain(context.Background(), []renewal.Request{ca.request(t, "admin.conf", adminProfile)})
			var inc *IncompleteError
			if !errors.As(err, &inc) || len(inc.NotIssued) != 1 {
				t.Fatalf("Obtain: %#v\n%s", err, out)
			}
			n := inc.NotIssued[0]
			if !n.Refused || n.Rejected != tc.rejected || n.Changed != (tc.name == "changed") || n.State != tc.state+" in an earlier run" {
				t.Errorf("read as %+v, want refused, rejected %v, state %q", n, tc.rejected, tc.state+" in an earlier run")
			}
			if csrCount(t, cs) != 0 {
				t.Error("a CSR was created for a refusal noted")
			}
		})
	}
}

// TestRefusalNoteWritten: markRefused writes each kind, the message on
// one line, and refused reads back what it wrote.
func TestRefusalNoteWritten(t *testing.T) {
	p := pending{dir: t.TempDir()}
	for ph, kind := range refusalKinds {
		for _, why := range []string{"was denied (reason \"R\": no)", "failed: a message\nkind: rejected"} {
			if err := p.markRefused("apiserver", "csr-1", ph, why); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(p.refusedPath("apiserver"))
			if err != nil {
				t.Fatal(err)
			}
			if lines := strings.Split(string(b), "\n"); len(lines) != 4 || lines[0] != "csr-1" || lines[2] != "kind: "+kind || lines[3] != "" {
				t.Errorf("%s note of %q: %q", kind, why, b)
			}
			got, gotWhy, ok := p.refused("apiserver", "csr-1")
			if !ok || got != ph || gotWhy != strings.Split(string(b), "\n")[1] {
				t.Errorf("%s note of %q read back as %v %q %v", kind, why, got, gotWhy, ok)
			}
			if _, _, ok := p.refused("apiserver", "csr-2"); ok {
				t.Errorf("%s note of csr-1 read for csr-2", kind)
			}
		}
	}
}
