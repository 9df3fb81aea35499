package renew

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/exitcode"
	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/internal/txn"
	"github.com/certctl/certctl/pki"
)

// halfApplied leaves on n what a renewal of apiserver killed halfway
// through its renames leaves: its transaction committed, apiserver.crt
// the new certificate, apiserver.key still the old key, which does not
// match it (its staged file still in the transaction's folder). It
// returns the new key.
func halfApplied(t *testing.T, n *pkitest.Node, now time.Time) []byte {
	t.Helper()
	key := filepath.Join(n.CertDir(), "apiserver.key")
	old, err := os.ReadFile(key)
	if err != nil {
		t.Fatal(err)
	}
	o := Options{Cluster: n.Cluster, KubeconfigDir: n.Dir, Args: []string{"apiserver"}, NoBackup: true,
		Now: func() time.Time { return now }, Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}
	if err := Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	renewed, err := os.ReadFile(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(key, old, 0o600); err != nil {
		t.Fatal(err)
	}
	root, err := txn.Root(n.CertDir())
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "20260301T120000Z-0badcafe")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "1"), renewed, 0o600); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(renewed)
	// Entry 0, the certificate, was renamed into place: its staged file is gone.
	m := `{"version":1,"created":"2026-03-01T12:00:00Z","entries":[` +
		`{"target":"` + filepath.Join(n.CertDir(), "apiserver.crt") + `","staged":"0","mode":420,"uid":-1,"gid":-1,"sha256":""},` +
		`{"target":"` + key + `","staged":"1","mode":384,"uid":-1,"gid":-1,"sha256":"` + hex.EncodeToString(sum[:]) + `"}]}`
	if err := os.WriteFile(filepath.Join(dir, "manifest.json"), []byte(m), 0o600); err != nil {
		t.Fatal(err)
	}
	return renewed
}

// TestRenewRecoversBeforeReading: a renewal killed between the rename of
// a certificate and that of its key left them not matching, to be put
// right by "the next certctl command — typically the next cron run"
// (docs/renew.md). But the cron run, `renew all --if-expires-within
// 720h`, read the certificates before it took the lock, found the new
// one not due and nothing else either, and ended with "nothing to do"
// (exit 2) without taking the lock, so without recovering: every day,
// while kube-apiserver's next start would fail on a key that does not
// match its certificate. `renew --use-api` read the pair before the lock
// too, to request its CSR, and failed on the key that does not match it,
// run after run. A renewal now recovers first, whenever there is
// something to recover, before it decides what is due or requests
// anything.
func TestRenewRecoversBeforeReading(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		api  bool // --use-api, with an API server that is not there
		want int  // exit status
	}{
		{"cron, nothing due", []string{"all"}, false, exitcode.NothingToDo},
		{"cron, the half-renewed one named", []string{"apiserver"}, false, exitcode.NothingToDo},
		{"use-api", []string{"apiserver"}, true, exitcode.Failure},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := pkitest.NewNode(t, nil)
			now := pkitest.Made.Add(2 * time.Hour)
			renewed := halfApplied(t, n, now)
			var errOut bytes.Buffer
			o := Options{Cluster: n.Cluster, KubeconfigDir: n.Dir, Args: tc.args, Threshold: !tc.api, IfExpiresWithin: 720 * time.Hour,
				Now: func() time.Time { return now }, Out: &bytes.Buffer{}, ErrOut: &errOut}
			if tc.api {
				closed := n.APIKubeconfig(t, "https://127.0.0.1:1", pki.NewValidity(now, time.Hour, 24*time.Hour))
				o.API = &API{Kubeconfig: closed, Timeout: 5 * time.Second}
			}
			err := Run(context.Background(), o)
			if got := exitcode.Of(err); got != tc.want {
				t.Errorf("exit status %d (%v), want %d", got, err, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), "match") {
				t.Errorf("the run read the pair the kill left before recovering it: %v", err)
			}
			key, _ := os.ReadFile(filepath.Join(n.CertDir(), "apiserver.key"))
			if !bytes.Equal(key, renewed) {
				t.Errorf("apiserver.key is not the key of the renewal that committed: the run did not recover it\n%s", errOut.String())
			}
			cert, _, err := pki.ReadCertFile(filepath.Join(n.CertDir(), "apiserver.crt"))
			if err != nil {
				t.Fatal(err)
			}
			k, err := pki.ParsePrivateKey(key)
			if err != nil || !pki.SamePublicKey(cert.PublicKey, k.Public()) {
				t.Errorf("apiserver.crt and apiserver.key do not match after the run (%v)", err)
			}
			root, _ := txn.Root(n.CertDir())
			if _, err := os.Stat(root); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("the transaction folder %s is still there (%v)", root, err)
			}
			if !strings.Contains(errOut.String(), "[recover] finished renewal 20260301T120000Z-0badcafe") {
				t.Errorf("the run does not say it finished the interrupted renewal:\n%s", errOut.String())
			}
		})
	}
}
