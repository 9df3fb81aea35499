package config_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/kubeclient"
	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/pki"
)

// TestUnknownContextStops: a --context the kubeconfig lacks, met while
// reading the kubeadm-config ConfigMap, stops the command with that one
// error; it is a typo, not a cluster out of reach, after which the
// settings would come from the certificates with a line saying why and
// the same error would follow.
func TestUnknownContextStops(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	kc := n.APIKubeconfig(t, "https://192.0.2.7:6443", pki.NewValidity(time.Now(), time.Hour, time.Hour))
	var warn bytes.Buffer
	r := &config.Resolver{
		KubeconfigDir: n.Dir, Warn: &warn,
		Connect: func(string) (config.ConfigMapGetter, string, error) {
			c, err := kubeclient.New(kubeclient.Options{Kubeconfig: kc, Context: "prod"})
			if err != nil {
				return nil, "", err
			}
			return c.CoreV1().ConfigMaps("kube-system"), c.Source, nil
		},
	}
	_, err := r.Load(t.Context())
	if !errors.Is(err, kubeclient.ErrUnknownContext) || !strings.Contains(err.Error(), `has no context "prod"`) {
		t.Errorf("Load: %v, want the unknown context", err)
	}
	if warn.Len() > 0 {
		t.Errorf("said %q before the error", warn.String())
	}
}
