package kubeconfig

import (
	"testing"

	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// TestEmbeddedContext: renewal reads the current context's user, as
// kubeadm's kubeconfig renewal does (ClientCert, Current; kubeadm refuses a
// file whose current context is missing, with no fallback). EmbeddedContext
// is only the context to switch back to when that user has no embedded
// client certificate: none when the current one has one (a damaged
// certificate there is fixed in place, not by switching), and kubeadm's
// own context (USER@CLUSTER, as Build names it) before another one that
// happens to come first by name, such as a person's own.
func TestEmbeddedContext(t *testing.T) {
	cert, key := []byte("CERT"), []byte("KEY")
	build := func(current string) *clientcmdapi.Config {
		cfg := Build("kubernetes", "https://198.51.100.10:6443", "kubernetes-admin", []byte("CA"), cert, key)
		// alice's own context, first by name, with a certificate of hers.
		cfg.AuthInfos["alice"] = &clientcmdapi.AuthInfo{ClientCertificateData: cert, ClientKeyData: key}
		cfg.Contexts["alice"] = &clientcmdapi.Context{Cluster: "kubernetes", AuthInfo: "alice"}
		// ops, with a token.
		cfg.AuthInfos["ops"] = &clientcmdapi.AuthInfo{Token: "t"}
		cfg.Contexts["ops"] = &clientcmdapi.Context{Cluster: "kubernetes", AuthInfo: "ops"}
		cfg.CurrentContext = current
		return cfg
	}
	tests := []struct {
		name, current, want string
	}{
		{"current is kubeadm's, with its certificate", "kubernetes-admin@kubernetes", ""},
		{"current is alice's, with a certificate", "alice", ""},
		{"current has a token", "ops", "kubernetes-admin@kubernetes"},
		{"current context missing", "gone", "kubernetes-admin@kubernetes"},
		{"no current context", "", "kubernetes-admin@kubernetes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := EmbeddedContext(build(tt.current)); got != tt.want {
				t.Errorf("EmbeddedContext with current-context %q = %q, want %q", tt.current, got, tt.want)
			}
		})
	}
	t.Run("only another person's", func(t *testing.T) {
		cfg := build("ops")
		delete(cfg.Contexts, "kubernetes-admin@kubernetes")
		if got := EmbeddedContext(cfg); got != "alice" {
			t.Errorf("EmbeddedContext = %q, want alice, the only context with an embedded certificate", got)
		}
	})
	t.Run("renewal reads the current context's user", func(t *testing.T) {
		cfg := build("kubernetes-admin@kubernetes")
		cfg.AuthInfos["alice"].ClientCertificateData = []byte("ALICE")
		if _, _, user, _, err := Current(cfg); err != nil || user != "kubernetes-admin" {
			t.Errorf("Current = %q, %v, want kubernetes-admin", user, err)
		}
	})
}
