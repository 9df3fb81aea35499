package cmd

import (
	"slices"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/certctl/certctl/phases/renew"
)

// TestNewRequestFlag: --new-request alone (and =true, as when it was a
// boolean) is every certificate; =NAME,... (repeatable) those only;
// an unknown name is refused before any work.
func TestNewRequestFlag(t *testing.T) {
	for _, tc := range []struct {
		args  []string
		all   bool
		names []string
		err   string
	}{
		{args: nil},
		{args: []string{"--new-request"}, all: true},
		{args: []string{"--new-request=true"}, all: true},
		{args: []string{"--new-request=all"}, all: true},
		{args: []string{"--new-request=false"}},
		{args: []string{"--new-request=apiserver,admin.conf"}, names: []string{"apiserver", "admin.conf"}},
		{args: []string{"--new-request=super-admin.conf", "--new-request=apiserver,super-admin.conf"}, names: []string{"super-admin.conf", "apiserver"}},
		{args: []string{"--new-request=apiserver,kubelet.conf"}, err: `"kubelet.conf" is not a certificate certctl renews: use one of`},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var r renew.Request
			fs := pflag.NewFlagSet("renew", pflag.ContinueOnError)
			addUseAPIFlags(fs, &r)
			f := &r.APIOpts
			err := fs.Parse(tc.args)
			switch {
			case tc.err != "":
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
			case err != nil:
				t.Fatal(err)
			case f.NewRequest != tc.all || !slices.Equal(f.NewRequestFor, tc.names):
				t.Errorf("NewRequest %v, NewRequestFor %v; want %v, %v", f.NewRequest, f.NewRequestFor, tc.all, tc.names)
			}
		})
	}
}
