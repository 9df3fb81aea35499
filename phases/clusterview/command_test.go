package clusterview

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/certctl/certctl/internal/pkitest"
)

// TestExplicitKubeconfigUnusable: a --kubeconfig that was given and cannot
// be used (a corrupt file) is an error that names it, not a cluster whose
// API server is down: the check went on through etcd alone, checked no
// kube-apiserver and could exit 0. Without --kubeconfig, a node with no
// usable admin.conf still falls back to etcd's member list.
func TestExplicitKubeconfigUnusable(t *testing.T) {
	broken := errors.New("load kubeconfig /tmp/garbage.conf: yaml: line 1: did not find expected key")
	certDir := pkitest.NewNode(t, nil).CertDir() // the CAs: checked first
	for _, given := range []bool{true, false} {
		var out bytes.Buffer
		c := Command{Cluster: true, CertDir: certDir, EtcdEndpoints: []string{"https://127.0.0.1:1"}, Out: &out, ErrOut: &out,
			Given:   func(f string) bool { return given && f == "kubeconfig" },
			Connect: func() (kubernetes.Interface, error) { return nil, broken },
			Now:     time.Now}
		err := c.Run(t.Context())
		if explicit := err != nil && strings.Contains(err.Error(), "fix --kubeconfig, or drop it"); explicit != given {
			t.Errorf("--kubeconfig given %v: %v", given, err)
		}
		if given && !errors.Is(err, broken) {
			t.Errorf("the error does not wrap the load's: %v", err)
		}
	}
}

// TestClusterRefusesNodeFlags: --node-name, --apiserver-advertise-address
// and --manifest-dir say how to read this node's files and have no use in
// the cluster view, which learns every node from the cluster: given with
// --cluster they did nothing, and the report (exit 0) read as if they had
// been applied. They are refused up front, before any request.
func TestClusterRefusesNodeFlags(t *testing.T) {
	certDir := pkitest.NewNode(t, nil).CertDir()
	for _, flag := range []string{"node-name", "apiserver-advertise-address", "manifest-dir"} {
		t.Run(flag, func(t *testing.T) {
			var out bytes.Buffer
			connected := false
			c := Command{Cluster: true, CertDir: certDir, EtcdEndpoints: []string{"https://127.0.0.1:1"}, Out: &out, ErrOut: &out,
				Given:   func(f string) bool { return f == flag },
				Connect: func() (kubernetes.Interface, error) { connected = true; return nil, errors.New("no API server") },
				Now:     time.Now}
			err := c.Run(t.Context())
			if err == nil || !strings.Contains(err.Error(), "--"+flag+" is for this node's check, not --cluster") {
				t.Errorf("error %v, want --%s refused", err, flag)
			}
			if connected || out.Len() != 0 {
				t.Errorf("work done before the refusal: connected %v, output %q", connected, out.String())
			}
		})
	}
}
