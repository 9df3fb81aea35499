package external

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
)

// TestWriteCSRsWarnsLooseKey: renew --use-csr reuses a key an earlier run
// left in the CSR folder; one that group or others may read is reused
// with the one-line warning init-phase and renew give of a loose key,
// naming the chmod to run, and one at 0600 without a word.
func TestWriteCSRsWarnsLooseKey(t *testing.T) {
	tests := []struct {
		name    string
		target  string
		resumed bool // the CSR is gone: the key alone is reused
		mode    os.FileMode
		want    string
	}{
		{name: "kept pair, key 0644", target: "apiserver", mode: 0o644, want: "holds a private key but is mode 0644: make it readable by its owner only: chmod 600 "},
		{name: "kept kubeconfig, 0640", target: "admin.conf", mode: 0o640, want: "is mode 0640"},
		{name: "resumed key, 0644", target: "etcd-peer", resumed: true, mode: 0o644, want: "is mode 0644"},
		{name: "kept pair, key 0600", target: "apiserver", mode: 0o600},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := newExtNode(t)
			res := n.writeCSRs(t, tt.target)
			keyFile := res.Requested[0].Files[0]
			if tt.resumed {
				for _, f := range res.Requested[0].Files[1:] {
					if err := os.Remove(f); err != nil {
						t.Fatal(err)
					}
				}
			}
			if err := os.Chmod(keyFile, tt.mode); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			o := n.csrOptions()
			o.Out = &out
			if _, err := WriteCSRs(context.Background(), n.targets(t, tt.target), n.csrDir, o); err != nil {
				t.Fatal(err)
			}
			if tt.want == "" {
				if strings.Contains(out.String(), "[warning]") {
					t.Errorf("a warning for a key at %04o:\n%s", tt.mode, out.String())
				}
				return
			}
			assertMentions(t, out.String(), "[warning] "+keyFile, tt.want, "chmod 600 "+keyFile)
		})
	}
}
