package carotate

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/pki"
)

// TestDryRunNamesTheLaterStages: --to and --all-stages --dry-run plan the
// next stage only (the later ones depend on its files), and said nothing of
// the others, as if the call were one stage; the plan now ends with the
// stages that follow and how to see them. Without --to, nothing more.
func TestDryRunNamesTheLaterStages(t *testing.T) {
	for _, tt := range []struct {
		name   string
		change func(*Options)
		want   string
	}{
		{"--all-stages", func(o *Options) { o.AllStages = true }, "[dry-run] then, after the restarts of stage trust (--restart-control-plane), stage reissue, then finish: run --dry-run again after stage trust to see what they write\n"},
		{"--to reissue", func(o *Options) { o.To = StageReissue }, "[dry-run] then, after the restarts of stage trust (--restart-control-plane), stage reissue: run --dry-run again after stage trust to see what it writes\n"},
		{"--to trust", func(o *Options) { o.To = StageTrust }, ""},
		{"one stage", func(*Options) {}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			before := treetest.Snapshot(t, f.node.Dir)
			var out bytes.Buffer
			o := f.options(func(o *Options) { o.DryRun = true; tt.change(o) })
			o.Out = &out
			if _, err := Rotate(context.Background(), pki.FrontProxyCAName, o); err != nil {
				t.Fatal(err)
			}
			treetest.AssertSame(t, before, treetest.Snapshot(t, f.node.Dir))
			got := out.String()
			if !strings.HasPrefix(got, "[dry-run] front-proxy-ca: the next stage is trust; nothing was written\n") {
				t.Errorf("plan:\n%s\nwant stage trust first", got)
			}
			if tt.want == "" && strings.Contains(got, "[dry-run] then") || tt.want != "" && !strings.HasSuffix(got, tt.want) {
				t.Errorf("plan:\n%s\nwant it to end with %q", got, tt.want)
			}
		})
	}
}
