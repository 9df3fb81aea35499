package cmd

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestUnknownSubcommand: a parent command refuses what it does not know,
// with the valid ones, instead of printing help and succeeding.
func TestUnknownSubcommand(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		wantErr string // "" for success
		wantOut string
	}{
		{[]string{"certs", "rotate"}, `unknown command "rotate" for "certctl certs": valid commands are certificate-key, check-expiration, download, generate-csr, import, list, renew, upload`, ""},
		{[]string{"certs", "renw"}, `(did you mean "renew"?)`, ""},
		{[]string{"signer", "foo"}, `unknown command "foo" for "certctl signer": valid commands are disable, enable, run`, ""},
		{[]string{"init-phase", "foo"}, `unknown command "foo" for "certctl init-phase"`, ""},
		{[]string{"renew", "--bogus"}, "unknown flag: --bogus (see 'certctl renew --help')", ""},
		{[]string{"certs"}, "", "Available Commands:"},
		{[]string{"certs", "renew", "--help"}, "", "certctl certs renew"},
		{[]string{"certs", "check-expiration", "--help"}, "", "certctl certs check-expiration"},
		{[]string{"deny", "csr-1"}, `required flag(s) "reason" not set (see 'certctl deny --help')`, ""},
		{[]string{"sign", "csr-1"}, `required flag(s) "ca-cert", "ca-key" not set (see 'certctl sign --help')`, ""},
		{[]string{"renw"}, `unknown command "renw" for "certctl" (did you mean "renew"?)`, ""}, // not deny, 2 edits away
		// help TOPIC: an unknown topic was the root's help (strict's parents
		// take any argument), with status 0 and no word of the typo.
		{[]string{"help", "renw"}, `unknown command "renw" for "certctl" (did you mean "renew"?): valid commands are approve, `, ""},
		{[]string{"help", "certs", "renw"}, `unknown command "renw" for "certctl certs" (did you mean "renew"?)`, ""},
		{[]string{"help", "certs", "renew"}, "", "certctl certs renew all|NAME..."},
		{[]string{"help"}, "", "Available Commands:"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var out, errOut bytes.Buffer
			root := NewRootCommand(&out, &errOut)
			root.SetArgs(tc.args)
			err := root.Execute()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("error %v", err)
				}
			} else if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
			}
			if !strings.Contains(out.String(), tc.wantOut) {
				t.Errorf("output does not contain %q:\n%s", tc.wantOut, out.String())
			}
		})
	}
}

// TestEveryParentRefusesUnknown: every command with subcommands, at any
// depth, refuses an unknown one with the same message, so that none is
// left out of strict (a parent with a RunE of its own would be).
func TestEveryParentRefusesUnknown(t *testing.T) {
	var parents [][]string
	var walk func(c *cobra.Command, path []string)
	walk = func(c *cobra.Command, path []string) {
		if c.HasSubCommands() && len(path) > 0 {
			parents = append(parents, path)
		}
		for _, sub := range c.Commands() {
			if sub.IsAvailableCommand() {
				walk(sub, append(slices.Clone(path), sub.Name()))
			}
		}
	}
	walk(NewRootCommand(io.Discard, io.Discard), nil)
	if len(parents) < 5 {
		t.Fatalf("only %d parent commands found: %v", len(parents), parents)
	}
	for _, p := range parents {
		root := NewRootCommand(io.Discard, io.Discard)
		root.SetArgs(append(slices.Clone(p), "nope"))
		want := fmt.Sprintf(`unknown command "nope" for "certctl %s": valid commands are `, strings.Join(p, " "))
		if err := root.Execute(); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("certctl %s nope: error %v, want one containing %q", strings.Join(p, " "), err, want)
		}
	}
}

// TestEveryCertDirRefusesRelative: every command with --cert-dir refuses
// a relative one, as kubeadm does, with the same message (certs list,
// certs import and restore took it as given). install-timer writes it into
// the unit as an absolute path instead.
func TestEveryCertDirRefusesRelative(t *testing.T) {
	args := map[string][]string{
		"approve": {"x"}, "sign": {"x", "--ca-cert", "/x/ca.crt", "--ca-key", "/x/ca.key"}, "ca rotate": {"ca"},
		"certs download": {"--certificate-key", strings.Repeat("0", 64)}, "certs import": {"--csr-dir", "/nonexistent"},
		"renew": {"all"}, "certs renew": {"all"}, "certs generate-csr": {"--csr-dir", "/nonexistent"},
	}
	var paths [][]string
	var walk func(c *cobra.Command, path []string)
	walk = func(c *cobra.Command, path []string) {
		if c.Runnable() && c.Flags().Lookup("cert-dir") != nil && path[0] != "install-timer" {
			paths = append(paths, path)
		}
		for _, sub := range c.Commands() {
			if sub.IsAvailableCommand() {
				walk(sub, append(slices.Clone(path), sub.Name()))
			}
		}
	}
	walk(NewRootCommand(io.Discard, io.Discard), nil)
	if len(paths) < 15 {
		t.Fatalf("only %d commands with --cert-dir found: %v", len(paths), paths)
	}
	for _, p := range paths {
		name := strings.Join(p, " ")
		a := append(append(slices.Clone(p), args[name]...), "--cert-dir", "relpki")
		if root := NewRootCommand(io.Discard, io.Discard); func() bool { c, _, _ := root.Find(p); return c.Flags().Lookup("kubeconfig-dir") != nil }() {
			a = append(a, "--kubeconfig-dir", t.TempDir()) // never the machine's /etc/kubernetes
		}
		if _, _, err := execute(t, a...); err == nil || !strings.Contains(err.Error(), `invalid --cert-dir "relpki": path is not absolute`) {
			t.Errorf("certctl %s --cert-dir relpki: error %v, want the relative path refused", name, err)
		}
	}
}

// TestWrongArgumentsSayUsage: a wrong number of arguments says the usage
// line and where the help is, not cobra's bare "accepts 1 arg(s),
// received 0".
func TestWrongArgumentsSayUsage(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		wantErr string
	}{
		{[]string{"ca", "rotate"}, "accepts 1 arg(s), received 0: usage: certctl ca rotate ca|front-proxy-ca|etcd-ca|sa [flags] (see 'certctl ca rotate --help')"},
		{[]string{"sign"}, "accepts 1 arg(s), received 0: usage: certctl sign NAME [flags] (see 'certctl sign --help')"},
		{[]string{"restore", "a", "b"}, "accepts at most 1 arg(s), received 2: usage: certctl restore [BACKUP|latest] [flags] (see 'certctl restore --help')"},
		{[]string{"check-expiration", "x"}, `unknown command "x" for "certctl check-expiration": usage: certctl check-expiration [flags] (see 'certctl check-expiration --help')`},
		// approve's own message already says where the help is: once.
		{[]string{"approve"}, "name at least one CSR, or pass --all-from-node NODE (see 'certctl approve --help')"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			root := NewRootCommand(io.Discard, io.Discard)
			root.SetArgs(tc.args)
			if err := root.Execute(); err == nil || err.Error() != tc.wantErr {
				t.Fatalf("error %v, want %q", err, tc.wantErr)
			}
		})
	}
	// Every command that refuses five arguments says where its help is.
	refused := 0
	eachCommand(NewRootCommand(io.Discard, io.Discard), func(c *cobra.Command) {
		if !c.Runnable() || c.Args == nil {
			return
		}
		err := c.Args(c, []string{"a", "b", "c", "d", "e"})
		if err == nil {
			return
		}
		refused++
		if want := "(see '" + c.CommandPath() + " --help')"; !strings.HasSuffix(err.Error(), want) {
			t.Errorf("%s with five arguments: error %q, want one ending in %q", c.CommandPath(), err, want)
		}
	})
	if refused < 15 {
		t.Errorf("only %d commands refused five arguments", refused)
	}
}
