package renew

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/output"
	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/phases/renewal/apirenew"
	"github.com/certctl/certctl/pki"
)

// TestRenewFromDiskRemovesSupersededPendingKeys: a pending key of
// --use-api (kept so that a later --use-api run resumes its CSR) whose
// certificate is renewed from the CA on disk instead asks to renew a
// certificate that is replaced already: it stayed on disk, a private key
// nobody needs, until a later --use-api run resumed it and installed its
// CSR's certificate over the new one. The renewal now removes it, with
// its refusal note, in its own transaction, says so, and lists it in
// prunedPendingKeys; the pending key of a certificate it does not renew
// stays, and so does the folder that holds it. A dry run says which it
// would remove, and removes nothing.
func TestRenewFromDiskRemovesSupersededPendingKeys(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	pending, note := writePending(t, n.CertDir(), "admin.conf", "apiserver")
	var out, errOut bytes.Buffer
	o := Options{Cluster: n.Cluster, KubeconfigDir: n.Dir, Args: []string{"admin.conf", "scheduler.conf"},
		Now: func() time.Time { return pkitest.Made.Add(time.Hour) }, Out: &out, ErrOut: &errOut}
	// The dry run says it, and lists it, and removes nothing.
	before := treetest.Snapshot(t, filepath.Dir(n.Dir))
	dry := o
	dry.DryRun = true
	dry.defaults()
	rd := &run{o: dry, summary: newSummary(dry.Now(), dry.IfExpiresWithin)}
	if err := rd.run(context.Background()); err != nil {
		t.Fatalf("renew --dry-run: %v\n%s%s", err, out.String(), errOut.String())
	}
	treetest.AssertSame(t, before, treetest.Snapshot(t, filepath.Dir(n.Dir)))
	if want := "[dry-run] The pending key of admin.conf would be removed, and its CSR's request with it: admin.conf would be renewed from the CA on disk instead"; !strings.Contains(out.String(), want) || strings.Contains(out.String(), "pending key of apiserver") {
		t.Errorf("dry run does not say %q alone:\n%s", want, out.String())
	}
	if want := []prunedPendingKey{{Name: "admin.conf", File: pending["admin.conf"]}}; !slices.Equal(rd.summary.PrunedPendingKeys, want) {
		t.Errorf("dry run: prunedPendingKeys = %+v, want %+v", rd.summary.PrunedPendingKeys, want)
	}
	out.Reset()
	o.defaults()
	r := &run{o: o, summary: newSummary(o.Now(), o.IfExpiresWithin)}
	if err := r.run(context.Background()); err != nil {
		t.Fatalf("renew: %v\n%s%s", err, out.String(), errOut.String())
	}
	for _, f := range []string{pending["admin.conf"], note} {
		if _, err := os.Stat(f); !os.IsNotExist(err) {
			t.Errorf("%s is left after admin.conf was renewed from the CA on disk: %v", f, err)
		}
	}
	if _, err := os.Stat(pending["apiserver"]); err != nil {
		t.Errorf("the pending key of apiserver, not renewed: %v", err)
	}
	if want := "[renew] Removed the pending key of admin.conf, and its CSR's request with it: admin.conf is renewed from the CA on disk instead"; !strings.Contains(out.String(), want) {
		t.Errorf("output does not say %q:\n%s", want, out.String())
	}
	if want := []prunedPendingKey{{Name: "admin.conf", File: pending["admin.conf"]}}; !slices.Equal(r.summary.PrunedPendingKeys, want) {
		t.Errorf("prunedPendingKeys = %+v, want %+v", r.summary.PrunedPendingKeys, want)
	}
}

// writePending writes a pending key of --use-api for each of names, as
// a run that timed out leaves them, and a refusal note for the first;
// it returns the keys' files by name, and the note's.
func writePending(t *testing.T, certDir string, names ...string) (map[string]string, string) {
	t.Helper()
	dir, err := apirenew.PendingDir(certDir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	pending := map[string]string{}
	for _, name := range names {
		key, err := pki.GenerateKey(rand.Reader, pki.ECDSAP256)
		if err != nil {
			t.Fatal(err)
		}
		data, err := pki.MarshalPrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		pending[name] = filepath.Join(dir, name+".key")
		if err := os.WriteFile(pending[name], data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	note := filepath.Join(dir, names[0]+".refused")
	if err := os.WriteFile(note, []byte("certctl-cp-"+names[0]+"-0\nwas denied (reason \"No\")\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return pending, note
}

// TestRestoreRemovesSupersededPendingKeys: a restore replaces
// certificates as a renewal from the CAs on disk does, and a pending key
// of --use-api of one it restores asks to renew the certificate it
// replaced: a later --use-api run would install that CSR's certificate
// over the restored one. The restore removes it, with its refusal note,
// in its own transaction (the same rule: apirenew.SupersededBy), says so,
// and lists it in its summary's prunedPendingKeys; a dry run says it and
// writes nothing; the key of a certificate it does not restore stays.
func TestRestoreRemovesSupersededPendingKeys(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	var out, errOut bytes.Buffer
	clock := pkitest.Made.Add(time.Hour)
	o := Options{Cluster: n.Cluster, KubeconfigDir: n.Dir, Args: []string{"admin.conf"},
		Now: func() time.Time { return clock }, Out: &out, ErrOut: &errOut}
	if err := Run(context.Background(), o); err != nil {
		t.Fatal(err, errOut.String())
	}
	pending, note := writePending(t, n.CertDir(), "admin.conf", "apiserver")
	clock = clock.Add(time.Hour)

	before := treetest.Snapshot(t, filepath.Dir(n.Dir))
	dry := o
	dry.DryRun = true
	out.Reset()
	if err := Restore(context.Background(), dry, "latest"); err != nil {
		t.Fatal(err, errOut.String())
	}
	if want := "[dry-run] The pending key of admin.conf would be removed, and its CSR's request with it: admin.conf would be restored from the backup instead"; !strings.Contains(out.String(), want) || strings.Contains(out.String(), "pending key of apiserver") {
		t.Errorf("dry run does not say %q alone:\n%s", want, out.String())
	}
	out.Reset()
	dry.Format = output.Format{Name: "json"}
	if err := Restore(context.Background(), dry, "latest"); err != nil {
		t.Fatal(err, errOut.String())
	}
	var s RestoreSummary
	if err := json.Unmarshal(out.Bytes(), &s); err != nil {
		t.Fatalf("%v:\n%s", err, out.String())
	}
	want := []prunedPendingKey{{Name: "admin.conf", File: pending["admin.conf"]}}
	if !slices.Equal(s.PrunedPendingKeys, want) {
		t.Errorf("dry run: prunedPendingKeys = %+v, want %+v", s.PrunedPendingKeys, want)
	}
	treetest.AssertSame(t, before, treetest.Snapshot(t, filepath.Dir(n.Dir)))

	out.Reset()
	if err := Restore(context.Background(), o, "latest"); err != nil {
		t.Fatal(err, errOut.String())
	}
	for _, f := range []string{pending["admin.conf"], note} {
		if _, err := os.Stat(f); !os.IsNotExist(err) {
			t.Errorf("%s is left after admin.conf was restored: %v", f, err)
		}
	}
	if _, err := os.Stat(pending["apiserver"]); err != nil {
		t.Errorf("the pending key of apiserver, not restored: %v", err)
	}
	if want := "[restore] Removed the pending key of admin.conf, and its CSR's request with it: admin.conf is restored from the backup instead; a later --use-api run makes a new key and CSR"; !strings.Contains(out.String(), want) {
		t.Errorf("output does not say %q:\n%s", want, out.String())
	}
}
