package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/pki"
)

// TestCANotPEM: a CA certificate file in a form CAs hand certificates out
// in but not PEM (a Windows CA's DER .cer, a PKCS#7 bundle) is refused by
// every command that reads the CA, with what the file holds and the
// openssl command that converts it, not "restore it from a backup" (a
// copy made from the CA's .cer never had a PEM backup); every file stays
// as it was. Running the printed command then makes renew work.
func TestCANotPEM(t *testing.T) {
	bin := certctlBin(t)
	for _, form := range []struct{ name, openssl, says string }{
		{"DER", "openssl x509 -outform der", "it holds a DER certificate, not PEM: convert it with `openssl x509 -inform der -in "},
		{"PKCS#7", "openssl crl2pkcs7 -nocrl -certfile /dev/stdin", "it holds a PKCS#7 bundle, not PEM certificates: convert it with `openssl pkcs7 -print_certs -in "},
	} {
		t.Run(form.name, func(t *testing.T) {
			n := makeNode(t, bin, "ECDSA-P256")
			caFile := filepath.Join(n.certDir, "ca.crt")
			convert := exec.Command("sh", "-c", form.openssl+" < "+caFile+" > "+caFile+".new && mv "+caFile+".new "+caFile)
			if out, err := convert.CombinedOutput(); err != nil {
				t.Fatalf("%s: %v\n%s", form.openssl, err, out)
			}
			before := treetest.Snapshot(t, n.dir)
			for _, tc := range []struct {
				args []string
				exit int
			}{
				{[]string{"renew", "all"}, 1},
				{[]string{"check-expiration"}, 3},
				{[]string{"certs", "list"}, 0}, // a listing, as for every unreadable file
				{[]string{"init-phase", "certs", "all", "--node-name", "cp-1", "--apiserver-advertise-address", "198.51.100.10"}, 1},
				{[]string{"ca", "status", "--node-only"}, 0}, // a report: the CA's row counts the problem
				{[]string{"signer", "status"}, 0},            // a report: ca-unusable, with a problem line
				{[]string{"ca", "rotate", "ca", "--node-only", "--dry-run"}, 1},
			} {
				args := tc.args
				code, stdout, stderr := runAll(t, nil, bin, append(args, n.flags()...)...)
				out := stdout + stderr
				if code != tc.exit || !strings.Contains(out, form.says+pki.ShellQuote(caFile)) {
					t.Errorf("certctl %s: exit %d, want %d and %q\n%s", strings.Join(args, " "), code, tc.exit, form.says, out)
				}
				if regexp.MustCompile(`ca\.crt[^\n]*(restore it from a backup|fix the permissions|before rotating)`).MatchString(out) {
					t.Errorf("certctl %s: wrong advice for the CA file\n%s", strings.Join(args, " "), out)
				}
			}
			after := treetest.Snapshot(t, n.dir)
			lockFile := filepath.Join(n.dir, ".certctl.lock") // records the last run
			delete(before, lockFile)
			delete(after, lockFile)
			treetest.AssertSame(t, before, after)

			// The command the error prints, run as printed, fixes the file.
			_, _, stderr := runAll(t, nil, bin, append([]string{"renew", "all"}, n.flags()...)...)
			printed := regexp.MustCompile("convert it with `([^`]+)`").FindStringSubmatch(stderr)
			if printed == nil {
				t.Fatalf("no command in %q", stderr)
			}
			if out, err := exec.Command("sh", "-c", printed[1]).CombinedOutput(); err != nil {
				t.Fatalf("%s: %v\n%s", printed[1], err, out)
			}
			run(t, bin, append([]string{"renew", "all"}, n.flags()...)...)
			if data, err := os.ReadFile(caFile); err != nil || !strings.Contains(string(data), "-----BEGIN CERTIFICATE-----") {
				t.Errorf("ca.crt after %s: %.40q, %v", printed[1], data, err)
			}
		})
	}
}
