package copycerts

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/kubeclient"
	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/phases/config"
)

// TestDownloadBoundedExecPlugin: with a kubeconfig whose exec credential
// plugin hangs, certs download's read of the Secret waited for the
// plugin, whatever its context said (30 s here; a real plugin that hangs:
// forever, as client-go runs it without the request's context and the
// answer timeout sits beneath it). The read is now bounded (secretTimeout,
// or the caller's deadline, 1 s here), and the error names the kubeconfig
// and says what to do; nothing is written.
func TestDownloadBoundedExecPlugin(t *testing.T) {
	path := filepath.Join(t.TempDir(), "plugin.conf")
	pkitest.HangingExecPluginKubeconfig(t, path)
	key, err := NewKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "pki")
	var out bytes.Buffer
	c := Command{
		Options:        Options{Rand: rand.Reader, Out: &out, ErrOut: &out},
		CertificateKey: key,
		Kubeconfig:     path,
		Settings:       func() (config.Cluster, error) { return config.Cluster{CertificatesDir: dir}, nil },
		Connect:        func() (*kubeclient.Client, error) { return kubeclient.New(kubeclient.Options{Kubeconfig: path}) },
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	start := time.Now()
	err = c.Download(ctx)
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("certs download took %v with an exec plugin that hangs, want about 1 s (its context's deadline)", took.Round(time.Second))
	}
	for _, want := range []string{"get secret kube-system/kubeadm-certs: waited 1s: no answer", "exec credential plugin", "kubeconfig " + path, "run it by hand", "nothing was changed"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v, want one with %q", err, want)
		}
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the certificate folder was made (%v)", err)
	}
}
