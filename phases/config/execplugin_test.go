package config_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/phases/config"
)

// TestConfigMapReadBoundedExecPlugin: a kubeconfig whose exec credential
// plugin hangs does not hold the read of the kubeadm-config ConfigMap
// past ClusterTimeout (signer run, renew and the others read it so):
// client-go runs the plugin without the request's context, so the read
// waited for the plugin, 30 s here, however short the context. The
// settings then come from the node, and the output says why.
func TestConfigMapReadBoundedExecPlugin(t *testing.T) {
	dir := t.TempDir()
	pkitest.HangingExecPluginKubeconfig(t, filepath.Join(dir, "admin.conf"))
	var warn strings.Builder
	r := &config.Resolver{
		CertDir: filepath.Join(dir, "pki"), CertDirSet: true, KubeconfigDir: dir, Warn: &warn,
		Open: func(path, _ string) (config.ConfigMapGetter, error) {
			cfg, err := clientcmd.BuildConfigFromFlags("", path)
			if err != nil {
				return nil, err
			}
			cs, err := kubernetes.NewForConfig(cfg)
			if err != nil {
				return nil, err
			}
			return cs.CoreV1().ConfigMaps(config.ConfigMapNamespace), nil
		},
	}
	start := time.Now()
	if _, err := r.Layered(context.Background()); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > config.ClusterTimeout+5*time.Second {
		t.Errorf("the settings read took %v with an exec plugin that hangs, want about %v (ClusterTimeout)", took.Round(time.Second), config.ClusterTimeout)
	}
	if w := warn.String(); !strings.Contains(w, "ConfigMap kube-system/kubeadm-config not read") || !strings.Contains(w, "exec credential plugin") {
		t.Errorf("output %q does not say the ConfigMap was not read, and why", w)
	}
}
