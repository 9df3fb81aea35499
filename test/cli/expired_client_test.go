package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/pki"
)

// TestExpiredClientCertEveryCommand: every command that talks to the API
// server refuses a kubeconfig whose client certificate has expired before
// connecting, saying how to renew it, as the node's commands do; approve,
// deny and sign got the API server's bare "Unauthorized" (the server here
// does not exist: the check must come first).
func TestExpiredClientCertEveryCommand(t *testing.T) {
	bin := certctlBin(t)
	n := pkitest.NewNode(t, nil)
	now := time.Now()
	expired := n.APIKubeconfig(t, "https://192.0.2.7:6443", pki.NewValidity(now.Add(-48*time.Hour), time.Hour, 24*time.Hour))
	for _, args := range [][]string{
		{"deny", "csr-x", "--reason", "Test"},
		{"approve", "csr-x", "--control-plane-node", "cp=192.0.2.7"},
		{"sign", "csr-x", "--ca-cert", n.Path("pki/ca.crt"), "--ca-key", n.Path("pki/ca.key")},
	} {
		r := runBounded(t, bin, append(args, "--kubeconfig", expired)...)
		if r.code == 0 || !strings.Contains(r.errOut, "the client certificate of kubeconfig "+expired) || !strings.Contains(r.errOut, "cannot authenticate to the API server") {
			t.Errorf("certctl %s with an expired client certificate: exit %d, stderr %q; want it refused before connecting, naming the kubeconfig", strings.Join(args, " "), r.code, r.errOut)
		}
	}
}
