package pkitest

import (
	"os"
	"path/filepath"
	"testing"

	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/certctl/certctl/pki/kubeconfig"
)

// KubeletRotatedFile is where BootstrappedKubelet puts the kubelet's client
// certificate and key, relative to kubelet.conf's folder.
const KubeletRotatedFile = "kubelet/pki/kubelet-client-current.pem"

// BootstrappedKubelet makes n's kubelet.conf name its client certificate
// and key by a relative path, KubeletRotatedFile (mode mode), as the
// kubelet's TLS bootstrap leaves them, and returns that file.
func (n *Node) BootstrappedKubelet(t testing.TB, mode os.FileMode) string {
	t.Helper()
	var pem []byte
	EditKubeconfig(t, n.Path("kubelet.conf"), func(cfg *clientcmdapi.Config) {
		for _, u := range cfg.AuthInfos {
			pem = append(append(pem, u.ClientCertificateData...), u.ClientKeyData...)
			u.ClientCertificateData, u.ClientKeyData = nil, nil
			u.ClientCertificate, u.ClientKey = KubeletRotatedFile, KubeletRotatedFile
		}
	})
	pemPath := n.Path(KubeletRotatedFile)
	if err := os.MkdirAll(filepath.Dir(pemPath), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pemPath, pem, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(pemPath, mode); err != nil { // whatever the umask
		t.Fatal(err)
	}
	return pemPath
}

// EditKubeconfig loads the kubeconfig at path, lets edit change it, and
// writes it back.
func EditKubeconfig(t testing.TB, path string, edit func(cfg *clientcmdapi.Config)) {
	t.Helper()
	cfg, err := kubeconfig.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	edit(cfg)
	if err := kubeconfig.Write(path, cfg); err != nil {
		t.Fatal(err)
	}
}

// SwitchContext adds user, the person's own, as "ops" with a context "ops"
// on the current context's cluster, and makes it current, as `kubectl
// config set-credentials` and `use-context` do.
func SwitchContext(t testing.TB, path string, user *clientcmdapi.AuthInfo) {
	t.Helper()
	EditKubeconfig(t, path, func(cfg *clientcmdapi.Config) {
		cfg.AuthInfos["ops"] = user
		cfg.Contexts["ops"] = &clientcmdapi.Context{Cluster: cfg.Contexts[cfg.CurrentContext].Cluster, AuthInfo: "ops"}
		cfg.CurrentContext = "ops"
	})
}

// HangingExecPluginKubeconfig writes a kubeconfig to path whose exec
// credential plugin (a script beside it) never answers: it sleeps up to
// 30 s and ends with the test's process. Its server, 127.0.0.1:1, is
// never reached. client-go runs the plugin without the request's context
// (bounded.Call).
func HangingExecPluginKubeconfig(t testing.TB, path string) {
	t.Helper()
	plugin := path + ".hang.sh"
	script := "#!/bin/sh\ni=0\nwhile [ $i -lt 150 ] && kill -0 $PPID 2>/dev/null; do sleep 0.2; i=$((i+1)); done\n"
	if err := os.WriteFile(plugin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	kubeconfig := `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster:
    server: https://127.0.0.1:1
    insecure-skip-tls-verify: true
users:
- name: u
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: ` + plugin + `
      interactiveMode: Never
contexts:
- name: c
  context: {cluster: c, user: u}
current-context: c
`
	if err := os.WriteFile(path, []byte(kubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
}
