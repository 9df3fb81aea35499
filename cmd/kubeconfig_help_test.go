package cmd

import (
	"io"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/certctl/certctl/internal/kubeclient"
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
		{[]string{"renew"}, []string{"with --use-api: ", "default: admin.conf in --kubeconfig-dir, then $KUBECONFIG"}},
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

// TestContextBesideKubeconfig: every command with --kubeconfig has
// --context, kubectl's choice of one context of a kubeconfig that holds
// several clusters.
func TestContextBesideKubeconfig(t *testing.T) {
	root := NewRootCommand(io.Discard, io.Discard)
	var walk func(c *cobra.Command)
	seen := 0
	walk = func(c *cobra.Command) {
		if c.Flags().Lookup("kubeconfig") != nil {
			seen++
			if c.Flags().Lookup("context") == nil {
				t.Errorf("%s has --kubeconfig but no --context", c.CommandPath())
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	if seen < 10 {
		t.Errorf("%d commands with --kubeconfig, want renew, approve, deny, sign, signer run, ca rotate and status, certs upload and download, check-expiration", seen)
	}
}

// TestKubeconfigHelpOneWording: where --kubeconfig's default means the
// same (internal/kubeclient's one precedence), its help says it in the
// same words: kubeclient.KubeconfigHelp, after what the command does with
// it ("with --cluster: "). renew said KUBECONFIG-DIR/admin.conf, ca
// rotate, ca status and certs upload left out the pod's service account,
// and each wording differed.
func TestKubeconfigHelpOneWording(t *testing.T) {
	root := NewRootCommand(io.Discard, io.Discard)
	for _, tc := range []struct {
		path    []string
		nodeDir bool
	}{
		{[]string{"approve"}, false}, {[]string{"deny"}, false}, {[]string{"sign"}, false}, {[]string{"signer", "run"}, false},
		{[]string{"renew"}, true}, {[]string{"ca", "rotate"}, true}, {[]string{"ca", "status"}, true},
		{[]string{"certs", "upload"}, true}, {[]string{"check-expiration"}, true},
	} {
		c, _, err := root.Find(tc.path)
		if err != nil {
			t.Fatal(err)
		}
		usage := c.Flags().Lookup("kubeconfig").Usage
		if want := kubeclient.KubeconfigHelp(tc.nodeDir); !strings.HasSuffix(usage, want) {
			t.Errorf("%s --kubeconfig: %q, want it to end with %q", strings.Join(tc.path, " "), usage, want)
		}
	}
}
