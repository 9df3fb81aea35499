package cmd

import (
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// TestAllFromNodeHelp: pflag takes the first `...` of a flag's usage as
// its value name, so a backquoted command in --all-from-node's usage
// showed in --help as "--all-from-node certctl renew --use-api". The
// value name must be NODE and the usage must still say whose CSRs.
func TestAllFromNodeHelp(t *testing.T) {
	for _, name := range []string{"approve", "deny"} {
		root := NewRootCommand(&strings.Builder{}, &strings.Builder{})
		c, _, err := root.Find([]string{name})
		if err != nil {
			t.Fatal(err)
		}
		f := c.Flags().Lookup("all-from-node")
		if f == nil {
			t.Fatalf("%s has no --all-from-node", name)
		}
		varname, usage := pflag.UnquoteUsage(f)
		if varname != "NODE" {
			t.Errorf("%s --help shows --all-from-node %s, want --all-from-node NODE", name, varname)
		}
		if !strings.Contains(usage, "certctl renew --use-api") || !strings.Contains(usage, "NODE") {
			t.Errorf("%s --all-from-node usage %q should name certctl renew --use-api and NODE", name, usage)
		}
	}
}
