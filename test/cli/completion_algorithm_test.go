package cli

import (
	"slices"
	"strings"
	"testing"
)

// TestCompletionEncryptionAlgorithm: `--encryption-algorithm <TAB>`
// offered the files of the current folder (no completion was registered,
// so the shell fell back to file names); it offers the algorithms the flag
// accepts, on every command that has it.
func TestCompletionEncryptionAlgorithm(t *testing.T) {
	bin := certctlBin(t)
	want := []string{"RSA-2048", "RSA-3072", "RSA-4096", "ECDSA-P256", "ECDSA-P384"}
	for _, args := range [][]string{
		{"renew", "all", "--encryption-algorithm", ""},
		{"init-phase", "certs", "all", "--encryption-algorithm", ""},
		{"ca", "rotate", "ca", "--encryption-algorithm", ""},
	} {
		r := runCode(t, bin, append([]string{"__complete"}, args...)...)
		lines := strings.Split(strings.TrimSpace(r.out), "\n")
		if r.code != 0 || len(lines) == 0 {
			t.Fatalf("%s: exit %d\n%s%s", strings.Join(args, " "), r.code, r.out, r.errOut)
		}
		// The last line is the directive: 4 is ShellCompDirectiveNoFileComp.
		if got := lines[:len(lines)-1]; !slices.Equal(got, want) || lines[len(lines)-1] != ":4" {
			t.Errorf("%s: %q, want %q and no file names (:4)", strings.Join(args, " "), lines, want)
		}
	}
}
