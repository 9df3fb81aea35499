package cli

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// TestRenewDocsSignerNamesFile: docs/renew.md's CertctlConfiguration,
// put beside kubeadm's documents in the --config file as it says, loads
// (config view prints it back), and renew --use-api asks its signer names
// for apiserver and front-proxy-client, the built-in ones for the others;
// --signer-name wins over the file, as the document says.
func TestRenewDocsSignerNamesFile(t *testing.T) {
	bin := certctlBin(t)
	n := makeConfigNode(t, bin)
	block := docBlockIn(t, "renew.md", "yaml", "kind: CertctlConfiguration")
	var doc struct {
		APIVersion string `json:"apiVersion"`
		Kind       string
		Renewal    struct {
			SignerNames map[string]string `json:"signerNames"`
		} `json:"renewal"`
	}
	if err := yaml.UnmarshalStrict([]byte(block), &doc); err != nil || len(doc.Renewal.SignerNames) == 0 {
		t.Fatalf("docs/renew.md's CertctlConfiguration: %v, %+v", err, doc)
	}
	cfg := string(mustRead(t, n.config)) + "---\n" + block
	if err := os.WriteFile(n.config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	view := runOut(t, bin, "config", "view", "--config", n.config)
	for name, signer := range doc.Renewal.SignerNames {
		if !strings.Contains(view, "kind: CertctlConfiguration\n") || !strings.Contains(view, "    "+name+": "+signer+"\n") {
			t.Errorf("config view --config does not print the signer name %s of %s back:\n%s", signer, name, view)
		}
	}

	names := []string{"apiserver", "front-proxy-client", "etcd-server", "admin.conf"}
	signerOf := func(extra ...string) map[string]string {
		t.Helper()
		args := append(append([]string{"renew"}, names...), "--use-api", "--dry-run")
		out := run(t, bin, append(append(args, n.flags()...), extra...)...)
		got := map[string]string{}
		for _, m := range regexp.MustCompile(`(?m)^\[dry-run\] (\S+) would be renewed: .*, signer (\S+)$`).FindAllStringSubmatch(out, -1) {
			got[m[1]] = m[2]
		}
		if len(got) != len(names) {
			t.Fatalf("renew --use-api --dry-run names a signer for %d of %q:\n%s", len(got), names, out)
		}
		return got
	}
	got := signerOf()
	for _, name := range names {
		want, ok := doc.Renewal.SignerNames[name]
		if !ok {
			want = map[string]string{"etcd-server": "certctl.io/etcd-server", "admin.conf": "kubernetes.io/kube-apiserver-client"}[name]
		}
		if got[name] != want {
			t.Errorf("%s: signer %s, want %s", name, got[name], want)
		}
	}
	if got := signerOf("--signer-name", "apiserver=pki.example.org/flag"); got["apiserver"] != "pki.example.org/flag" {
		t.Errorf("--signer-name does not win over the file: apiserver's signer %s", got["apiserver"])
	}
}

// TestRenewDocsRBACBlocksAgree: docs/renew.md's ClusterRole certctl:renew
// and the kubectl commands it gives for the same role grant the same
// verbs on the same resource, the binding names that role, and the error
// it shows for a user without them points at the same commands.
func TestRenewDocsRBACBlocksAgree(t *testing.T) {
	var role struct {
		APIVersion string `json:"apiVersion"`
		Kind       string
		Metadata   struct{ Name string }
		Rules      []struct {
			APIGroups []string `json:"apiGroups"`
			Resources []string
			Verbs     []string
		}
	}
	if err := yaml.UnmarshalStrict([]byte(docBlockIn(t, "renew.md", "yaml", "name: certctl:renew")), &role); err != nil {
		t.Fatalf("docs/renew.md's ClusterRole: %v", err)
	}
	if role.Kind != "ClusterRole" || len(role.Rules) != 1 || len(role.Rules[0].APIGroups) != 1 || len(role.Rules[0].Resources) != 1 {
		t.Fatalf("docs/renew.md's ClusterRole has changed: %+v", role)
	}
	r := role.Rules[0]
	want := "kubectl create clusterrole " + role.Metadata.Name + " --verb=" + strings.Join(r.Verbs, ",") +
		" --resource=" + r.Resources[0] + "." + r.APIGroups[0]
	cmds := strings.Split(strings.TrimSpace(docBlockIn(t, "renew.md", "console", "kubectl create clusterrole")), "\n")
	if len(cmds) != 2 || cmds[0] != want || !strings.HasPrefix(cmds[1], "kubectl create clusterrolebinding "+role.Metadata.Name+" --clusterrole="+role.Metadata.Name+" ") {
		t.Errorf("docs/renew.md's kubectl commands\n%s\ndo not make its ClusterRole: want\n%s\nkubectl create clusterrolebinding %s --clusterrole=%s ...", strings.Join(cmds, "\n"), want, role.Metadata.Name, role.Metadata.Name)
	}
	if !slices.Equal(r.Verbs, []string{"create", "get", "list", "watch"}) {
		t.Errorf("docs/renew.md's ClusterRole grants %q; the text around it says create, get, list and watch", r.Verbs)
	}
	errText := docBlockIn(t, "renew.md", "text", "may not list, watch certificatesigningrequests")
	for _, s := range []string{"kubectl create clusterrole " + role.Metadata.Name + " ", "kubectl create clusterrolebinding " + role.Metadata.Name + " --clusterrole=" + role.Metadata.Name + " --user=node-renewer"} {
		if !strings.Contains(errText, s) {
			t.Errorf("docs/renew.md's error for a user without the verbs does not say %q:\n%s", s, errText)
		}
	}
}
