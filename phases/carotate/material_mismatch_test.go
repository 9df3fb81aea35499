package carotate

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/certctl/certctl/pki"
)

// replaceSide puts another CA (certificate and key) in place of the files
// certFile and keyFile.
func replaceSide(t *testing.T, certFile, keyFile string) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	c, kf := writeCA(t, t.TempDir(), caTemplate(true), key)
	if err := os.WriteFile(certFile, mustReadFile(t, c), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, mustReadFile(t, kf), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestChangedCAFilesSayWhatRecovers: when the CA files of a stage are not
// the CAs of the record, the error said "restore them from the last
// backup in certctl-backups, or remove the record to give up the
// rotation", naming ca.key and ca.crt. Each stage's backup holds the files
// from before it (reissue's ca.key is the old key), and without its record
// certctl refuses the files of a rotation in progress. The error must name
// the files it compared, say where a true copy of each is, and, followed,
// let the rotation go on.
func TestChangedCAFilesSayWhatRecovers(t *testing.T) {
	t.Run("old CA changed at reissue", func(t *testing.T) {
		f := newFixture(t)
		f.rotate(t, pki.CAName, nil)
		f.rotate(t, pki.CAName, nil)
		p := k(t, pki.CAName).paths(f.node.CertDir())
		replaceSide(t, p.OldCert, p.OldKey)
		err := rotateErr(t, f)
		msg := err.Error()
		if strings.Contains(msg, "last backup") || strings.Contains(msg, "remove the record") || !strings.Contains(msg, p.OldCert) || !strings.Contains(msg, p.OldKey) || strings.Contains(msg, p.NewCert) {
			t.Fatalf("old CA changed at reissue: %q; want %s and %s named, no last backup, no record removed", msg, p.OldCert, p.OldKey)
		}
		// The old certificate: the second of ca.crt; the old key: ca.key
		// of the backup reissue made.
		if !strings.Contains(msg, p.OldCert+" as certificate 2 of "+p.Trust) {
			t.Fatalf("old CA changed at reissue: %q; want %s as certificate 2 of %s", msg, p.OldCert, p.Trust)
		}
		m := regexp.MustCompile(regexp.QuoteMeta(p.OldKey) + ` as (\S+/certctl-backups/[^ ,;]+/pki/ca\.key)`).FindStringSubmatch(msg)
		if m == nil {
			t.Fatalf("old CA changed at reissue: %q; want the backup that holds the old key", msg)
		}
		certs, err := readCerts(p.Trust)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p.OldCert, pki.EncodeCert(certs[1]), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p.OldKey, mustReadFile(t, m[1]), 0o600); err != nil {
			t.Fatal(err)
		}
		if rec := f.rotate(t, pki.CAName, nil); rec.Stage != StageFinished {
			t.Errorf("after the files were put back as the error says: stage %s, want %s", rec.Stage, StageFinished)
		}
	})
	t.Run("new CA changed at trust", func(t *testing.T) {
		f := newFixture(t)
		f.rotate(t, pki.CAName, nil)
		p := k(t, pki.CAName).paths(f.node.CertDir())
		replaceSide(t, p.NewCert, p.NewKey)
		msg := rotateErr(t, f).Error()
		// The new key is in no backup: trust made it.
		if strings.Contains(msg, "last backup") || strings.Contains(msg, "remove the record") || !strings.Contains(msg, p.NewCert+" as certificate 2 of "+p.Trust) || !strings.Contains(msg, p.NewKey+": no copy") || strings.Contains(msg, "certctl-backups/2") {
			t.Fatalf("new CA changed at trust: %q; want %s from %s and no copy of %s", msg, p.NewCert, p.Trust, p.NewKey)
		}
	})
	t.Run("record of another rotation", func(t *testing.T) {
		f := newFixture(t)
		f.rotate(t, pki.CAName, nil)
		p := k(t, pki.CAName).paths(f.node.CertDir())
		rec := map[string]any{}
		if err := json.Unmarshal(mustReadFile(t, p.Record), &rec); err != nil {
			t.Fatal(err)
		}
		rec["oldCA"], rec["newCA"] = strings.Repeat("a", 64), strings.Repeat("b", 64)
		data, _ := json.Marshal(rec)
		if err := os.WriteFile(p.Record, data, 0o600); err != nil {
			t.Fatal(err)
		}
		msg := rotateErr(t, f).Error()
		if strings.Contains(msg, "someone changed them") || strings.Contains(msg, "remove the record") || !strings.Contains(msg, "A damaged record") || !strings.Contains(msg, p.Record) {
			t.Fatalf("record of another rotation: %q; want the record written again (\"A damaged record\")", msg)
		}
	})
	t.Run("sa old key changed at reissue", func(t *testing.T) {
		f := newFixture(t)
		f.rotate(t, pki.SAName, nil)
		f.rotate(t, pki.SAName, nil)
		restartsRecorded(t, f, pki.SAName)
		p := k(t, pki.SAName).paths(f.node.CertDir())
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		pem, _ := pki.MarshalPrivateKey(key)
		if err := os.WriteFile(p.OldKey, pem, 0o600); err != nil {
			t.Fatal(err)
		}
		f.now = f.now.Add(2 * DefaultMaxTokenLifetime)
		var err error
		o := f.options(nil)
		o.Out = &strings.Builder{}
		_, err = Rotate(t.Context(), pki.SAName, o)
		if err == nil {
			t.Fatal("finish of sa with sa.old.key changed went on")
		}
		msg := err.Error()
		if strings.Contains(msg, "last backup") || strings.Contains(msg, "remove the record") || !regexp.MustCompile(regexp.QuoteMeta(p.OldKey)+` as \S+/certctl-backups/[^ ,;]+/pki/`+regexp.QuoteMeta(filepath.Base(p.Key))).MatchString(msg) {
			t.Fatalf("sa.old.key changed at reissue: %q; want the backup of sa.key that reissue made", msg)
		}
	})
}

// rotateErr runs the next stage of ca, which must be refused.
func rotateErr(t *testing.T, f *fixture) error {
	t.Helper()
	o := f.options(nil)
	o.Out = &strings.Builder{}
	_, err := Rotate(t.Context(), pki.CAName, o)
	if err == nil {
		t.Fatal("the next stage went on with the CA files changed")
	}
	return err
}
