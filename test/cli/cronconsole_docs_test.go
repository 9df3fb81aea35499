package cli

import (
	"strings"
	"testing"
)

// TestCronDocsConsole runs docs/cron.md's console examples that need no
// kubelet, as written, on a node whose certificates were all renewed in
// one run (as the timer leaves them), and compares what certctl prints
// with the document (times aside, "..." for lines left out). Of the
// restore example, only the list: restoring with --restart-control-plane
// needs a kubelet (test/e2e).
func TestCronDocsConsole(t *testing.T) {
	bin := certctlBin(t)
	for _, tc := range []struct{ name, marker string }{
		{name: "nothing to do", marker: "$ sudo certctl renew all --if-expires-within 720h\n"},
		{name: "restore list", marker: "$ sudo certctl restore\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := makeConfigNode(t, bin)
			run(t, bin, append([]string{"renew", "all"}, n.flags()...)...)
			block := docBlockIn(t, "cron.md", "console", tc.marker)
			if i := strings.Index(block, "\n$ sudo certctl restore latest --restart-control-plane"); i >= 0 {
				block = block[:i]
			}
			want, got := runConsole(t, bin, block, n.dir, n.flags()...)
			checkConsole(t, "cron.md", want, got)
		})
	}
}
