package renew

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/exitcode"
	"github.com/certctl/certctl/internal/output"
	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/phases/renewal/apirenew"
	"github.com/certctl/certctl/pki"
)

// TestDryRunAPIRefusedEarlier: a certificate whose pending CSR an earlier
// --use-api run found denied is not renewed by the same command again (it
// reports it at once and needs --new-request=NAME), so the dry run does
// not say it "would be renewed": it says why not and what to run, skips it
// with reason csr-refused, and exits as the real run would (6 when others
// are renewed, 1 when none is). With --new-request=NAME it would be, and
// so it would when the renewal wants a key of another algorithm than the
// pending key's (--encryption-algorithm changed since): the real run then
// makes a new key and CSR.
func TestDryRunAPIRefusedEarlier(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	now := pkitest.Made.Add(time.Hour)
	dir, err := apirenew.PendingDir(n.Cluster.CertificatesDir)
	if err != nil {
		t.Fatal(err)
	}
	host, err := nodeName("")
	if err != nil {
		t.Fatal(err)
	}
	key, err := pki.GenerateKey(rand.Reader, pki.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	pem, err := pki.MarshalPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	csr, err := apirenew.CSRName(host, "admin.conf", key.Public())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]string{"admin.conf.key": string(pem), "admin.conf.refused": csr + "\nwas denied (reason \"Nope\")\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	type summary struct {
		ExitCode int `json:"exitCode"`
		Renewed  []struct {
			Name string `json:"name"`
		} `json:"renewed"`
		Skipped []struct {
			Name, Reason string
		} `json:"skipped"`
	}
	for _, tc := range []struct {
		name       string
		args       []string
		newRequest []string
		alg        pki.KeyAlgorithm
		renewed    int
		code       int
		text       []string
	}{
		{"with another", []string{"apiserver", "admin.conf"}, nil, "", 1, exitcode.NotAllIssued,
			[]string{"[dry-run] admin.conf would not be renewed: its CSR " + csr + " was denied (reason \"Nope\") in an earlier run: renew it with --new-request=admin.conf", "[dry-run] 1 certificate(s) would be renewed"}},
		{"alone", []string{"admin.conf"}, nil, "", 0, 1, []string{"would not be renewed", "[dry-run] 0 certificate(s) would be renewed"}},
		{"new request", []string{"apiserver", "admin.conf"}, []string{"admin.conf"}, "", 2, 0, []string{"[dry-run] admin.conf would be renewed"}},
		{"same algorithm asked", []string{"apiserver", "admin.conf"}, nil, pki.ECDSAP256, 1, exitcode.NotAllIssued, []string{"admin.conf would not be renewed"}},
		{"another algorithm", []string{"apiserver", "admin.conf"}, nil, pki.RSA2048, 2, 0, []string{"[dry-run] admin.conf would be renewed"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := treetest.Snapshot(t, filepath.Dir(n.Dir))
			for _, format := range []string{"text", "json"} {
				var out, errOut bytes.Buffer
				o := Options{Cluster: n.Cluster, KubeconfigDir: n.Dir, Args: tc.args, DryRun: true, API: &API{NewRequestFor: tc.newRequest}, KeyAlgorithm: tc.alg,
					Format: output.Format{Name: format}, Now: func() time.Time { return now }, Out: &out, ErrOut: &errOut}
				err := Run(context.Background(), o)
				if code := exitcode.Of(err); code != tc.code {
					t.Errorf("%s: exit %d (%v), want %d\n%s", format, code, err, tc.code, out.String())
				}
				if format == "text" {
					for _, w := range tc.text {
						if !strings.Contains(out.String(), w) {
							t.Errorf("does not say %q:\n%s", w, out.String())
						}
					}
					continue
				}
				var s summary
				if err := json.Unmarshal(out.Bytes(), &s); err != nil {
					t.Fatalf("%v\n%s", err, out.String())
				}
				refused := len(s.Skipped) == 1 && s.Skipped[0].Name == "admin.conf" && s.Skipped[0].Reason == "csr-refused"
				if len(s.Renewed) != tc.renewed || s.ExitCode != tc.code || refused != (tc.code != 0) {
					t.Errorf("summary %+v", s)
				}
			}
			treetest.AssertSame(t, before, treetest.Snapshot(t, filepath.Dir(n.Dir)))
		})
	}
}
