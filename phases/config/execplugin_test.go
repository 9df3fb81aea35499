package config

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// TestConfigMapReadBoundedExecPlugin: a kubeconfig whose exec credential
// plugin hangs does not hold the read of the kubeadm-config ConfigMap
// past ClusterTimeout (signer run, renew and the others read it so):
// client-go runs the plugin without the request's context, so the read
// waited for the plugin, 30 s here, however short the context. The
// settings then come from the node, and the output says why.
func TestConfigMapReadBoundedExecPlugin(t *testing.T) {
	dir := t.TempDir()
	// It sleeps up to 30 s, and ends with the test's process.
	plugin := filepath.Join(dir, "hang.sh")
	script := "#!/bin/sh\ni=0\nwhile [ $i -lt 150 ] && kill -0 $PPID 2>/dev/null; do sleep 0.2; i=$((i+1)); done\n"
	if err := os.WriteFile(plugin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	kubeconfig := fmt.Sprintf(`apiVersion: v1
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
      command: %s
      interactiveMode: Never
contexts:
- name: c
  context: {cluster: c, user: u}
current-context: c
`, plugin)
	if err := os.WriteFile(filepath.Join(dir, "admin.conf"), []byte(kubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	var warn strings.Builder
	r := &Resolver{
		CertDir: filepath.Join(dir, "pki"), CertDirSet: true, KubeconfigDir: dir, Warn: &warn,
		Open: func(path string) (ConfigMapGetter, error) {
			cfg, err := clientcmd.BuildConfigFromFlags("", path)
			if err != nil {
				return nil, err
			}
			cs, err := kubernetes.NewForConfig(cfg)
			if err != nil {
				return nil, err
			}
			return cs.CoreV1().ConfigMaps(ConfigMapNamespace), nil
		},
	}
	start := time.Now()
	if _, err := r.Layered(context.Background()); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > ClusterTimeout+5*time.Second {
		t.Errorf("the settings read took %v with an exec plugin that hangs, want about %v (ClusterTimeout)", took.Round(time.Second), ClusterTimeout)
	}
	if w := warn.String(); !strings.Contains(w, "ConfigMap kube-system/kubeadm-config not read") || !strings.Contains(w, "exec credential plugin") {
		t.Errorf("output %q does not say the ConfigMap was not read, and why", w)
	}
}
