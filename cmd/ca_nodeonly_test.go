package cmd

import (
	"net"
	"os"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/certctl/certctl/internal/pkitest"
)

// TestCANodeOnlyLeavesTheAPIServerAlone: with --node-only, ca status and
// ca rotate take the settings from the certificates without trying the
// kubeadm-config ConfigMap, whose read waited up to config.ClusterTimeout
// (5 s) for an API server that accepts connections and does not answer,
// the case --node-only is for.
func TestCANodeOnlyLeavesTheAPIServerAlone(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	var conns atomic.Int32
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			t.Cleanup(func() { c.Close() }) // held open, never answered
		}
	}()
	n := pkitest.NewNode(t, nil)
	server := regexp.MustCompile(`(?m)^(\s*server:) .*$`)
	for _, f := range []string{"admin.conf", "super-admin.conf"} {
		b, err := os.ReadFile(n.Path(f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(n.Path(f), server.ReplaceAll(b, []byte("${1} https://"+l.Addr().String())), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	folders := []string{"--cert-dir", n.CertDir(), "--kubeconfig-dir", n.Dir, "--manifest-dir", t.TempDir(), "--node-only"}
	for _, args := range [][]string{
		{"ca", "status"},
		{"ca", "status", "-o", "json"},
		{"ca", "rotate", "sa", "--dry-run"},
		{"ca", "rotate", "sa"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			conns.Store(0)
			_, stderr, err := execute(t, append(args, folders...)...)
			if err != nil {
				t.Fatalf("%v\n%s", err, stderr)
			}
			if want := "[config] using the settings derived from the certificates in " + n.CertDir() + " (ConfigMap kube-system/kubeadm-config not read: --node-only)\n"; !strings.Contains(stderr, want) {
				t.Errorf("stderr does not say %q:\n%s", want, stderr)
			}
			if c := conns.Load(); c != 0 {
				t.Errorf("%d connections to the API server with --node-only", c)
			}
		})
	}
}
