package testcluster

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/certctl/certctl/manifests"
	"github.com/certctl/certctl/manifests/staticpods"
)

func manifestTestCluster(t *testing.T) *Cluster {
	t.Helper()
	return &Cluster{
		opts:         Options{Dir: t.TempDir(), Nodes: 2}.withDefaults(),
		port:         map[string]int{Etcd: 1001, etcdPeer: 1002, APIServer: 1003, ControllerManager: 1004, Scheduler: 1005},
		nodeName:     "cp-1",
		host:         Host,
		procs:        map[string]*process{},
		manifestArgs: map[string][]string{},
		startFlags:   map[string][]string{},
	}
}

// TestSetStartFlags: the flags of SetStartFlags come after the harness's, or the manifest's once
// the Kubelet ran one, at every later start, for that component only, until set to none.
func TestSetStartFlags(t *testing.T) {
	c := manifestTestCluster(t)
	c.SetStartFlags(APIServer, "--etcd-readycheck-timeout=1ns")
	if got, want := c.cmdline(APIServer), append(c.args(APIServer), "--etcd-readycheck-timeout=1ns"); !slices.Equal(got, want) {
		t.Errorf("harness flags: %q, want %q", got, want)
	}
	if got := c.cmdline(Etcd); !slices.Equal(got, c.args(Etcd)) {
		t.Errorf("etcd: %q, want the harness's flags alone", got)
	}
	c.setManifestArgs(APIServer, []string{"--secure-port=1003"})
	if got := c.cmdline(APIServer); !slices.Equal(got, []string{"--secure-port=1003", "--etcd-readycheck-timeout=1ns"}) {
		t.Errorf("manifest flags: %q, want the manifest's, then the start flags", got)
	}
	c.SetStartFlags(APIServer)
	if got := c.cmdline(APIServer); !slices.Equal(got, []string{"--secure-port=1003"}) {
		t.Errorf("after SetStartFlags with none: %q, want the manifest's alone", got)
	}
}

// TestManifestsRunTheHarnessFlags: the manifests WriteManifests writes are what certctl reads
// (staticpods.Load finds each component, with the certificate it serves), and the Kubelet reads
// back from each exactly the flags the harness would run.
func TestManifestsRunTheHarnessFlags(t *testing.T) {
	c := manifestTestCluster(t)
	if err := c.WriteManifests(); err != nil {
		t.Fatal(err)
	}
	for _, name := range c.opts.Components {
		data, err := os.ReadFile(c.ManifestPath(name))
		if err != nil {
			t.Fatal(err)
		}
		_, args, err := podCommand(data, name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if want := c.args(name); !slices.Equal(args, want) {
			t.Errorf("%s: manifest runs %q, want %q", name, args, want)
		}
		if st, err := os.Stat(c.ManifestPath(name)); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s manifest: mode %v (%v), want 0600", name, st.Mode(), err)
		}
	}
	set, err := staticpods.Load(c.ManifestDir())
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Warnings) > 0 || len(set.Manifests) != 4 {
		t.Fatalf("staticpods.Load: %d manifests, warnings %q; want 4, none", len(set.Manifests), set.Warnings)
	}
	affected := set.Affected([]string{c.PKIDir() + "/apiserver.crt", c.PKIDir() + "/ca.crt"})
	var names []string
	for _, a := range affected {
		names = append(names, a.Component)
	}
	if want := []string{APIServer, ControllerManager}; !slices.Equal(names, want) {
		t.Errorf("components affected by apiserver.crt and ca.crt: %q, want %q", names, want)
	}
}

// TestManifestArgsOverride: once the Kubelet has run a manifest, WriteManifests and later
// starts use the manifest's flags, not the harness's.
func TestManifestArgsOverride(t *testing.T) {
	c := manifestTestCluster(t)
	c.setManifestArgs(APIServer, []string{"--v=9"})
	if got := c.cmdline(APIServer); !slices.Equal(got, []string{"--v=9"}) {
		t.Errorf("cmdline after setManifestArgs = %q", got)
	}
	if got := c.cmdline(Etcd); !slices.Equal(got, c.args(Etcd)) {
		t.Errorf("cmdline of etcd changed with kube-apiserver's manifest: %q", got)
	}
	if err := c.WriteManifests(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(c.ManifestPath(APIServer))
	if err != nil {
		t.Fatal(err)
	}
	if _, args, err := podCommand(data, APIServer); err != nil || !slices.Equal(args, []string{"--v=9"}) {
		t.Errorf("rewritten manifest runs %q (%v)", args, err)
	}
}

func TestPodCommand(t *testing.T) {
	const head = "apiVersion: v1\nkind: Pod\nmetadata: {name: kube-apiserver, namespace: kube-system}\nspec:\n"
	tests := []struct {
		name    string
		data    string
		want    []string
		wantErr string
	}{
		{
			name: "flags mapped through hostPath mounts",
			data: head + `  containers:
  - name: kube-apiserver
    command: [kube-apiserver, --tls-cert-file=/etc/kubernetes/pki/apiserver.crt, "--tls-sni-cert-key=/etc/kubernetes/pki/a.crt,/etc/kubernetes/pki/a.key", --v=2]
    args: [--client-ca-file, /etc/kubernetes/pki/ca.crt, --audit-log-path=/var/log/a.log]
    volumeMounts: [{name: k8s-certs, mountPath: /etc/kubernetes/pki}]
  volumes: [{name: k8s-certs, hostPath: {path: /host/pki}}]
`,
			want: []string{"--tls-cert-file=/host/pki/apiserver.crt", "--tls-sni-cert-key=/host/pki/a.crt,/host/pki/a.key", "--v=2",
				"--client-ca-file", "/host/pki/ca.crt", "--audit-log-path=/var/log/a.log"},
		},
		{name: "binary with a folder", data: head + "  containers: [{name: kube-apiserver, command: [/usr/local/bin/kube-apiserver, --v=1]}]\n", want: []string{"--v=1"}},
		{name: "not YAML", data: "apiVersion: v1\nkind: Pod\nspec: [", wantErr: "decode Pod"},
		{name: "unknown field", data: head + "  containerz: []\n", wantErr: "unknown field"},
		{name: "no container", data: head + "  containers: [{name: etcd, command: [etcd]}]\n", wantErr: "find container"},
		{name: "no command", data: head + "  containers: [{name: kube-apiserver, args: [--v=1]}]\n", wantErr: "has no command"},
		{name: "another binary", data: head + "  containers: [{name: kube-apiserver, command: [sh, -c, kube-apiserver]}]\n", wantErr: `runs "sh"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, got, err := podCommand([]byte(tt.data), APIServer)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("podCommand: %v, want an error with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("podCommand = %q\nwant %q", got, tt.want)
			}
		})
	}
}

// TestPodHashIgnoresFormatting: like the kubelet's static pod UID, the hash changes with the
// pod, not with comments or layout.
func TestPodHashIgnoresFormatting(t *testing.T) {
	hash := func(s string) string {
		t.Helper()
		pod, err := manifests.Parse([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		h, err := podHash(pod)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	base := hash("apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec: {containers: [{name: x, command: [x, --a=1]}]}\n")
	same := hash("# a comment\napiVersion: v1\nkind: Pod\nmetadata:\n  name: x\nspec:\n  containers:\n  - name: x\n    command:\n    - x\n    - --a=1\n")
	flag := hash("apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec: {containers: [{name: x, command: [x, --a=2]}]}\n")
	annotation := hash("apiVersion: v1\nkind: Pod\nmetadata: {name: x, annotations: {certctl.io/restartedAt: now}}\nspec: {containers: [{name: x, command: [x, --a=1]}]}\n")
	if base != same {
		t.Error("a comment and another layout changed the hash")
	}
	if base == flag || base == annotation {
		t.Error("a changed flag or annotation left the hash the same")
	}
}
