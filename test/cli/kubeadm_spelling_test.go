package cli

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestKubeadmSpellings runs the binary as a kubeadm user would by habit: the
// kubeadm spellings do what certctl's own do, with the same exit status, and
// an unknown subcommand is an error (it used to print help and exit 0, so a
// cron line `certctl certs rotate` "succeeded").
func TestKubeadmSpellings(t *testing.T) {
	bin := certctlBin(t)
	n := makeNode(t, bin, "ECDSA-P256")

	for _, args := range [][]string{{"certs", "rotate"}, {"certs", "renw", "all"}, {"signer", "foo"}, {"init-phase", "foo"}} {
		r := runCode(t, bin, args...)
		if r.code == 0 || !strings.Contains(r.errOut, "unknown command") || !strings.Contains(r.errOut, "valid commands are") {
			t.Errorf("certctl %s: exit %d, stderr %q; want an unknown-command error listing the valid ones", strings.Join(args, " "), r.code, r.errOut)
		}
	}
	if r := runCode(t, bin, "renew", "all", "--no-such-flag"); r.code == 0 || !strings.Contains(r.errOut, "see 'certctl renew --help'") {
		t.Errorf("an unknown flag: exit %d, stderr %q; want an error with the --help hint", r.code, r.errOut)
	}

	own := runCode(t, bin, append([]string{"check-expiration"}, n.flags()...)...)
	kubeadm := runCode(t, bin, append([]string{"certs", "check-expiration"}, n.flags()...)...)
	if own.code != kubeadm.code || own.out != kubeadm.out {
		t.Errorf("certs check-expiration: exit %d, output\n%s\nwant what check-expiration gives: exit %d\n%s", kubeadm.code, kubeadm.out, own.code, own.out)
	}
	// certs list fits a 100-column terminal; -o wide has the rest.
	list := runCode(t, bin, append([]string{"certs", "list"}, n.flags()...)...)
	for _, l := range strings.Split(list.out, "\n") {
		if len(l) > 100 {
			t.Errorf("certs list: a line of %d columns: %q", len(l), l)
		}
	}
	if wide := runCode(t, bin, append([]string{"certs", "list", "-o", "wide"}, n.flags()...)...); wide.code != 0 || !strings.Contains(wide.out, filepath.Join(n.certDir, "apiserver.crt")) {
		t.Errorf("certs list -o wide: exit %d\n%s%s", wide.code, wide.out, wide.errOut)
	}
	if jp := runCode(t, bin, append([]string{"certs", "list", "-o", `jsonpath={.items[?(@.name=="sa")].key}`}, n.flags()...)...); jp.out != "ECDSA-P256\n" {
		t.Errorf("certs list -o jsonpath: exit %d, %q%s", jp.code, jp.out, jp.errOut)
	}

	r := runCode(t, bin, append([]string{"certs", "renew", "apiserver"}, n.flags()...)...)
	if r.code != 0 || !strings.Contains(r.out, "apiserver") {
		t.Fatalf("certs renew apiserver: exit %d\n%s%s", r.code, r.out, r.errOut)
	}
}
