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
