package cmd

import (
	"io"
	"strings"
	"testing"
)

// TestKubeconfigHelpSaysNodeDefault: the commands that connect as a
// control-plane node's commands do (apiFlags.nodeClient: admin.conf in
// --kubeconfig-dir first) say so in --kubeconfig's help, and
// check-expiration that it only connects with --cluster (it refuses
// --kubeconfig without). Its help said $KUBECONFIG came first.
func TestKubeconfigHelpSaysNodeDefault(t *testing.T) {
	root := NewRootCommand(io.Discard, io.Discard)
	for _, tc := range []struct {
		path []string
		want []string
	}{
		{[]string{"check-expiration"}, []string{"with --cluster: ", "default: admin.conf in --kubeconfig-dir, then $KUBECONFIG"}},
		{[]string{"ca", "rotate"}, []string{"default: admin.conf in --kubeconfig-dir, then $KUBECONFIG"}},
		{[]string{"ca", "status"}, []string{"default: admin.conf in --kubeconfig-dir, then $KUBECONFIG"}},
		{[]string{"certs", "upload"}, []string{"default: admin.conf in --kubeconfig-dir, then $KUBECONFIG"}},
	} {
		c, _, err := root.Find(tc.path)
		if err != nil {
			t.Fatal(err)
		}
		usage := c.Flags().Lookup("kubeconfig").Usage
		for _, w := range tc.want {
			if !strings.Contains(usage, w) {
				t.Errorf("%s --kubeconfig: %q lacks %q", strings.Join(tc.path, " "), usage, w)
			}
		}
	}
}
