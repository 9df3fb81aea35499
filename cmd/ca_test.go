package cmd

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/pki"
)

// TestCAStatusNextCarriesFolderFlags: ca status's NEXT commands, copied as
// printed, act on the folders the user named, not on /etc/kubernetes.
func TestCAStatusNextCarriesFolderFlags(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	out, _, err := execute(t, "ca", "status", "--node-only", "-o", "json", "--cert-dir", n.CertDir(), "--kubeconfig-dir", n.Dir)
	if err != nil {
		t.Fatal(err)
	}
	var report struct {
		CAs []struct{ CA, Next string } `json:"cas"`
	}
	if err := json.Unmarshal([]byte(out), &report); err != nil || len(report.CAs) == 0 {
		t.Fatalf("ca status -o json: %v, %d CAs\n%s", err, len(report.CAs), out)
	}
	flags := " --cert-dir " + n.CertDir() + " --kubeconfig-dir " + n.Dir
	for _, st := range report.CAs {
		if want := "certctl ca rotate " + st.CA + flags + " "; !strings.Contains(st.Next, want) {
			t.Errorf("%s: next %q, want %q", st.CA, st.Next, want)
		}
	}
}

func TestRerunFlags(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{args: nil, want: ""},
		{args: []string{"--cert-dir", "/etc/kubernetes/pki"}, want: " --cert-dir /etc/kubernetes/pki"},
		{args: []string{"--cert-dir", "/srv/my pki", "--node-only"}, want: " --cert-dir '/srv/my pki' --node-only"},
		{args: []string{"--node-only=false", "--kubeconfig", "/k'c"}, want: ` --kubeconfig '/k'\''c'`},
		{args: []string{"--other", "x"}, want: ""},
	}
	for _, tt := range tests {
		c := &cobra.Command{}
		c.Flags().String("cert-dir", "/etc/kubernetes/pki", "")
		c.Flags().String("kubeconfig", "", "")
		c.Flags().Bool("node-only", false, "")
		c.Flags().String("other", "", "")
		if err := c.ParseFlags(tt.args); err != nil {
			t.Fatal(err)
		}
		if got := rerunFlags(c, "cert-dir", "kubeconfig", "node-only", "absent"); got != tt.want {
			t.Errorf("%q: %q, want %q", tt.args, got, tt.want)
		}
	}
}

// TestCAStatusExternalEtcd: with an external etcd whose CA is in the
// certificate folder (kubeadm's documented etcd.external.caFile
// /etc/kubernetes/pki/etcd/ca.crt), ca status reads the settings as ca
// rotate does and leaves etcd-ca out, instead of listing it with a next
// command that rotate refuses. Without etcd.external it is listed.
func TestCAStatusExternalEtcd(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	for _, external := range []bool{true, false} {
		out, _, err := execute(t, "ca", "status", "--node-only", "-o", "json", "--config", kubeadmConfig(t, n, external), "--kubeconfig-dir", n.Dir)
		if err != nil {
			t.Fatal(err)
		}
		var report struct {
			CAs []struct{ CA string } `json:"cas"`
		}
		if err := json.Unmarshal([]byte(out), &report); err != nil {
			t.Fatal(err)
		}
		listed := slices.ContainsFunc(report.CAs, func(s struct{ CA string }) bool { return s.CA == pki.EtcdCAName })
		if listed == external {
			t.Errorf("etcd.external %t: etcd-ca listed %t\n%s", external, listed, out)
		}
	}
}

// kubeadmConfig writes a ClusterConfiguration of n's certificate folder;
// with external, an etcd.external whose files are n's etcd CA and
// apiserver-etcd-client, as kubeadm's documentation lays them out.
func kubeadmConfig(t *testing.T, n *pkitest.Node, external bool) string {
	t.Helper()
	doc := "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\ncertificatesDir: " + n.CertDir() + "\n"
	if external {
		doc += "etcd:\n  external:\n    endpoints: [https://10.0.0.5:2379]\n    caFile: " + n.Path("pki/etcd/ca.crt") +
			"\n    certFile: " + n.Path("pki/apiserver-etcd-client.crt") + "\n    keyFile: " + n.Path("pki/apiserver-etcd-client.key") + "\n"
	}
	cfg := filepath.Join(t.TempDir(), "kubeadm.yaml")
	if err := os.WriteFile(cfg, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestCertsListExternalEtcd: certs list --config with etcd.external lists
// the external etcd's files, as check-expiration does, and not the etcd
// certificates of a local etcd.
func TestCertsListExternalEtcd(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	for _, external := range []bool{true, false} {
		out, _, err := execute(t, "certs", "list", "-o", "json", "--config", kubeadmConfig(t, n, external), "--kubeconfig-dir", n.Dir)
		if err != nil {
			t.Fatal(err)
		}
		var list struct {
			Items []struct{ Name string } `json:"items"`
		}
		if err := json.Unmarshal([]byte(out), &list); err != nil {
			t.Fatal(err)
		}
		has := func(name string) bool {
			return slices.ContainsFunc(list.Items, func(i struct{ Name string }) bool { return i.Name == name })
		}
		if has("external-etcd-client") != external || has("etcd-server") == external {
			t.Errorf("etcd.external %t: external-etcd-client listed %t, etcd-server %t\n%s", external, has("external-etcd-client"), has("etcd-server"), out)
		}
	}
}

// TestUnknownNameBeforeSettings: a name no configuration has is refused
// before the node's settings are read (the [config] line, and without
// --config the kubeadm-config ConfigMap, which waits for an API server
// that does not answer), with the message the workflow gives.
func TestUnknownNameBeforeSettings(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	for _, tc := range []struct {
		args    []string
		wantErr string
	}{
		{[]string{"renew", "bogus"}, `unknown certificate "bogus": use all, or one or more of `},
		{[]string{"renew"}, "name what to renew: all, or one or more of "},
		{[]string{"renew", "bogus", "-o", "json"}, `unknown certificate "bogus"`},
		{[]string{"ca", "rotate", "bogus"}, `unknown CA "bogus": rotate one of `},
		{[]string{"init-phase", "certs", "bogus"}, `unknown certs phase "bogus": valid phases are `},
		{[]string{"init-phase", "kubeconfig", "bogus"}, `unknown kubeconfig phase "bogus": valid phases are `},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			args := append(tc.args, "--cert-dir", n.CertDir())
			if tc.args[0] != "init-phase" || tc.args[1] == "kubeconfig" {
				args = append(args, "--kubeconfig-dir", n.Dir)
			}
			_, stderr, err := execute(t, args...)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
			}
			if strings.Contains(stderr, "[config]") {
				t.Errorf("the settings were read before the name was checked:\n%s", stderr)
			}
		})
	}
}

// TestCARotateForgetNodeFlag: --forget-node reaches the rotation, which
// refuses it with a stage's flag, and --node-only, which has no cluster
// record to forget a node in.
func TestCARotateForgetNodeFlag(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	for _, tc := range []struct {
		args    []string
		wantErr string
	}{
		{[]string{"--abort"}, "--forget-node removes a node from the rotation's cluster record and makes no stage: drop --abort"},
		{[]string{"--node-only"}, "--forget-node is for the cluster-wide rotation, which --node-only turns off"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			args := append([]string{"ca", "rotate", "ca", "--forget-node", "node-3", "--node-name", "node-1", "--cert-dir", n.CertDir(), "--kubeconfig-dir", n.Dir}, tc.args...)
			_, _, err := execute(t, args...)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}
