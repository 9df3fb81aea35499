package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRenewDocsRecoverRemovesTempFile: the temporary file an interrupted
// write leaves, as docs/renew.md's recovery example names it, is removed
// by the next command that writes, with the line the document shows
// (its folder for /etc/kubernetes).
func TestRenewDocsRecoverRemovesTempFile(t *testing.T) {
	bin := certctlBin(t)
	var want string
	for _, l := range strings.Split(docBlockIn(t, "renew.md", "console", "[recover] removed "), "\n") {
		if strings.HasPrefix(l, "[recover] removed ") {
			want = l
		}
	}
	const left = "/etc/kubernetes/pki/.apiserver.key.tmp-12345"
	if !strings.Contains(want, " "+left+", ") {
		t.Fatalf("docs/renew.md's [recover] removed line has changed: %q", want)
	}
	n := makeNode(t, bin, "ECDSA-P256")
	tmp := filepath.Join(n.certDir, filepath.Base(left))
	if err := os.WriteFile(tmp, []byte("half a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runCode(t, bin, append([]string{"renew", "front-proxy-client"}, n.flags()...)...)
	if want = strings.ReplaceAll(want, "/etc/kubernetes", n.dir); r.code != 0 || !strings.Contains(r.errOut, want+"\n") {
		t.Errorf("renew front-proxy-client: exit %d, want 0 and\n%s\n%s%s", r.code, want, r.out, r.errOut)
	}
	if _, err := os.Stat(tmp); !os.IsNotExist(err) {
		t.Errorf("%s is still there: %v", tmp, err)
	}
}
