package cli

import (
	"slices"
	"strings"
	"testing"

	"github.com/certctl/certctl/phases/renewal"
)

// TestCompletionAfterArgs: cobra offers a command's names (ValidArgs) for
// the first argument only, and the shell's file names after it and for a
// command that takes no argument: `renew apiserver <TAB>` offered files,
// not the other certificates renew takes, and `init-phase certs all
// <TAB>`, `certs list <TAB>` files the command refuses. Flags with a
// fixed set of values offer them (--new-request=NAME,... the names not
// given yet), and the -dir flags folders only.
func TestCompletionAfterArgs(t *testing.T) {
	bin := certctlBin(t)
	const noFiles, dirs = ":4", ":16"
	others := slices.DeleteFunc(renewal.Names()[1:], func(n string) bool { return n == "apiserver" || n == "admin.conf" })
	for _, tc := range []struct {
		args      []string
		want      []string
		directive string
	}{
		{[]string{"renew", "apiserver", "admin.conf", ""}, others, noFiles},
		{[]string{"certs", "renew", "apiserver", "admin.conf", ""}, others, noFiles},
		{[]string{"renew", "apiserver", "s"}, []string{"super-admin.conf", "scheduler.conf"}, noFiles},
		{[]string{"renew", "all", ""}, nil, noFiles},
		{[]string{"init-phase", "certs", "all", ""}, nil, noFiles},
		{[]string{"init-phase", "kubeconfig", "admin", ""}, nil, noFiles},
		{[]string{"ca", "rotate", "ca", ""}, nil, noFiles},
		{[]string{"certs", "list", ""}, nil, noFiles},
		{[]string{"check-expiration", ""}, nil, noFiles},
		{[]string{"ca", "rotate", "ca", "--to", ""}, []string{"trust", "reissue", "finish"}, noFiles},
		{[]string{"install-timer", "--schedule", ""}, []string{"daily", "hourly", "monthly", "weekly"}, noFiles},
		{[]string{"renew", "all", "--use-api", "--new-request="}, renewal.Names(), noFiles},
		{[]string{"renew", "all", "--use-api", "--new-request=apiserver,admin.conf,s"}, []string{"apiserver,admin.conf,super-admin.conf", "apiserver,admin.conf,scheduler.conf"}, noFiles},
		{[]string{"renew", "all", "--cert-dir", ""}, nil, dirs},
		{[]string{"certs", "import", "--csr-dir", ""}, nil, dirs},
		{[]string{"install-timer", "--unit-dir", ""}, nil, dirs},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			r := runCode(t, bin, append([]string{"__complete"}, tc.args...)...)
			lines := strings.Split(strings.TrimSpace(r.out), "\n")
			if r.code != 0 || len(lines) == 0 {
				t.Fatalf("exit %d\n%s%s", r.code, r.out, r.errOut)
			}
			got, directive := lines[:len(lines)-1], lines[len(lines)-1]
			if !slices.Equal(got, tc.want) || directive != tc.directive {
				t.Errorf("%q %s, want %q %s", got, directive, tc.want, tc.directive)
			}
		})
	}
}
