package doctest

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestLinesMatch(t *testing.T) {
	csr := Variable{regexp.MustCompile(`-[0-9a-f]{12}\b`), "-XXXXXXXXXXXX"}
	for _, tc := range []struct {
		name      string
		want, got []string
		vars      []Variable
		match     bool
	}{
		{name: "same", want: []string{"a", "b"}, got: []string{"a", "b"}, match: true},
		{name: "a word differs", want: []string{"a", "b c"}, got: []string{"a", "b d"}},
		{name: "a line more", want: []string{"a"}, got: []string{"a", "b"}},
		{name: "... stands for lines", want: []string{"a", "...", "d"}, got: []string{"a", "b", "c", "d"}, match: true},
		{name: "... stands for no line", want: []string{"a", "...", "d"}, got: []string{"a", "d"}, match: true},
		{name: "dates and serials", want: []string{"until 2027-11-22T06:18:49Z, serial 3F9A0C5B12E4D7A1"}, got: []string{"until 2028-01-02T03:04:05Z, serial 0123456789ABCDEF"}, match: true},
		{name: "a serial with a leading zero byte", want: []string{"serial 3F9A0C5B12E4D7A1)"}, got: []string{"serial 9A0C5B12E4D7A1)"}, match: true},
		{name: "a date's width", want: []string{"2027-11-22 06:18  x"}, got: []string{"2027-11-22 06:18 x"}},
		{name: "a list elided", want: []string{"(apiserver, ..., scheduler.conf); 1"}, got: []string{"(apiserver, admin.conf, etcd-peer, scheduler.conf); 1"}, match: true},
		{name: "an elided list's first item", want: []string{"(apiserver, ..., scheduler.conf)"}, got: []string{"(admin.conf, etcd-peer, scheduler.conf)"}},
		{name: "an elided list of none", want: []string{"(apiserver, ..., scheduler.conf)"}, got: []string{"(apiserver, scheduler.conf)"}},
		{name: "variable", want: []string{"CSR certctl-cp-1-apiserver-3f2a9c01d2e4 for"}, got: []string{"CSR certctl-cp-1-apiserver-0123456789ab for"}, vars: []Variable{csr}, match: true},
		{name: "variable left out", want: []string{"CSR certctl-cp-1-apiserver-3f2a9c01d2e4 for"}, got: []string{"CSR certctl-cp-1-apiserver-0123456789ab for"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := LinesMatch(tc.want, tc.got, tc.vars...); got != tc.match {
				t.Errorf("LinesMatch(%q, %q) = %v, want %v", tc.want, tc.got, got, tc.match)
			}
		})
	}
}

func TestCommandLine(t *testing.T) {
	for _, tc := range []struct {
		line, args string
		ok         bool
	}{
		{"$ sudo certctl renew all --use-api", "renew all --use-api", true},
		{"$ certctl approve csr-8vq2x", "approve csr-8vq2x", true},
		{"$ sudo certctl ca rotate ca --restart-control-plane     # trust", "ca rotate ca --restart-control-plane", true},
		{"$ echo $?", "", false},
		{"[renew] certctl renew", "", false},
	} {
		args, ok := CommandLine(tc.line)
		if args != tc.args && tc.ok || ok != tc.ok {
			t.Errorf("CommandLine(%q) = %q, %v; want %q, %v", tc.line, args, ok, tc.args, tc.ok)
		}
	}
}

func TestWords(t *testing.T) {
	for _, tc := range []struct {
		line string
		want []string
		err  bool
	}{
		{line: "renew all  --use-api", want: []string{"renew", "all", "--use-api"}},
		{line: `sign csr-1 --subject 'CN=a b'`, want: []string{"sign", "csr-1", "--subject", "CN=a b"}},
		{line: `x --a="b c" d`, want: []string{"x", "--a=b c", "d"}},
		{line: `x "a \"q\" \$b \\ \c"`, want: []string{"x", `a "q" $b \ \c`}},
		{line: `x a\ b 'it'\''s'`, want: []string{"x", "a b", "it's"}},
		{line: `x '' ""`, want: []string{"x", "", ""}},
		{line: `x 'open`, err: true},
		{line: `x "open`, err: true},
		{line: `x end\`, err: true},
	} {
		got, err := Words(tc.line)
		if (err != nil) != tc.err || !tc.err && !slices.Equal(got, tc.want) {
			t.Errorf("Words(%q) = %q, %v; want %q, error %v", tc.line, got, err, tc.want, tc.err)
		}
	}
}

// TestRunConsoleQuoted: a console line's quoted argument reaches certctl
// as one argument, as a shell would pass it.
func TestRunConsoleQuoted(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "args")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\nfor a; do echo \"[$a]\"; done\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	want, got := RunConsole(bin, "$ certctl sign x --subject 'CN=a b'\n[x]\n", "/tmp/k", "--cert-dir", "/tmp/k/pki")
	exp := []string{"$ certctl sign x --subject 'CN=a b'", "[sign]", "[x]", "[--subject]", "[CN=a b]", "[--cert-dir]", "[/tmp/k/pki]"}
	if !slices.Equal(got, exp) || len(want) != 2 {
		t.Errorf("RunConsole: got %q, want %q (document lines %q)", got, exp, want)
	}
	_, got = RunConsole(bin, "$ certctl sign 'x\n", "/tmp/k")
	if len(got) != 2 || !strings.Contains(got[1], "unterminated") {
		t.Errorf("RunConsole with an unterminated quote: got %q, want the line and an error", got)
	}
}
