package doctest

import (
	"reflect"
	"testing"
)

func TestExamples(t *testing.T) {
	help := `Renew things.

Usage:
  certctl renew [flags]

Examples:
  # Everything
  sudo certctl renew all --config kubeadm.yaml
  sudo certctl renew all   --dry-run

  certctl signer run --kubeconfig signer.conf \
      --signer a=b,c,d
  KEY=$(certctl certs certificate-key)
  # Comment of a line that is no certctl command
  echo done

Flags:
  -h, --help   help for renew
`
	want := []Example{
		{Comment: "Everything", Line: "certctl renew all --config kubeadm.yaml"},
		{Comment: "Everything", Line: "certctl renew all --dry-run"},
		{Line: "certctl signer run --kubeconfig signer.conf --signer a=b,c,d"},
		{Line: "KEY=$(certctl certs certificate-key)"},
	}
	if got := Examples(help); !reflect.DeepEqual(got, want) {
		t.Errorf("Examples:\n%q\nwant\n%q", got, want)
	}
	if got := Examples("Usage:\n  certctl version\n"); got != nil {
		t.Errorf("Examples of a help without examples: %q", got)
	}
}

func TestSplitCommand(t *testing.T) {
	for _, tc := range []struct {
		line         string
		words, flags []string
	}{
		{"certctl renew apiserver admin.conf --use-api", []string{"renew", "apiserver", "admin.conf"}, []string{"--use-api"}},
		{"certctl ca rotate ca -o json --x=1 later", []string{"ca", "rotate", "ca"}, []string{"-o", "--x"}},
		{"certctl check-expiration --warn-within 336h -o json > /var/lib/x.json", []string{"check-expiration"}, []string{"--warn-within", "-o"}},
		{"certctl certs certificate-key) --not-this", []string{"certs", "certificate-key"}, nil},
		{"certctl list | grep --count x", []string{"list"}, nil},
	} {
		words, flags := SplitCommand(tc.line)
		if !reflect.DeepEqual(words, tc.words) || !reflect.DeepEqual(flags, tc.flags) {
			t.Errorf("SplitCommand(%q) = %q, %q, want %q, %q", tc.line, words, flags, tc.words, tc.flags)
		}
	}
}

// TestCommandLines: every way a document shows a certctl command a user
// would copy is found, with all its flags: inline with sudo, in a command
// substitution, run by its path from cron or systemd, and continued on the
// next lines with a backslash. Prose about certctl is no command line.
func TestCommandLines(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       []string
	}{
		{"inline", "run `certctl renew all --dry-run` first", []string{"certctl renew all --dry-run"}},
		{"inline with sudo", "then `sudo certctl init-phase certs sa --config kubeadm.yaml`.", []string{"certctl init-phase certs sa --config kubeadm.yaml"}},
		{"console", "$ sudo certctl ca status\nCA  STAGE\n", []string{"certctl ca status"}},
		{"node console", "node-1$ sudo certctl ca rotate ca   # trust\n", []string{"certctl ca rotate ca"}},
		{"substitution", "KEY=$(certctl certs certificate-key)\n", []string{"certctl certs certificate-key"}},
		{"cron", "*/15 * * * * root /usr/local/bin/certctl check-expiration --textfile /x.prom >/dev/null\n", []string{"certctl check-expiration --textfile /x.prom >/dev/null"}},
		{"systemd", "ExecStart=/usr/local/bin/certctl renew all --quiet\n", []string{"certctl renew all --quiet"}},
		{"continued", "sudo certctl certs upload --certificate-key \"$KEY\" \\\n    --cert-dir /etc/kubernetes/pki\n", []string{"certctl certs upload --certificate-key \"$KEY\" --cert-dir /etc/kubernetes/pki"}},
		{"prose", "certctl-renew.service runs it; --certctl-path sets it\n", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := CommandLines(tc.text); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("CommandLines(%q) = %q, want %q", tc.text, got, tc.want)
			}
		})
	}
}
