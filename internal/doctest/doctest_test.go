package doctest

import (
	"regexp"
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
