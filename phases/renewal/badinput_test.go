package renewal

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/pki/kubeconfig"
)

// TestBadInputs: each bad file fails `renew all` with a one-line error that
// names the file and what to do, before anything is written.
func TestBadInputs(t *testing.T) {
	other := newNode(t, nil) // another cluster, with other CAs
	tests := []struct {
		name  string
		spoil func(t *testing.T, n *node)
		at    time.Time
		want  []string // in the error
	}{
		{"corrupt certificate PEM", func(t *testing.T, n *node) {
			write(t, n.path("pki/apiserver.crt"), []byte("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n"))
		}, renewAt, []string{"parse certificate " + "PKI/apiserver.crt", "restore it from a backup"}},
		{"corrupt key PEM", func(t *testing.T, n *node) {
			write(t, n.path("pki/etcd/peer.key"), []byte("garbage"))
		}, renewAt, []string{"parse private key PKI/etcd/peer.key", "restore it from a backup"}},
		{"key does not match", func(t *testing.T, n *node) {
			write(t, n.path("pki/apiserver.key"), read(t, n.path("pki/front-proxy-client.key")))
		}, renewAt, []string{"PKI/apiserver.key does not match the certificate PKI/apiserver.crt", "restore the matching pair"}},
		{"key missing", func(t *testing.T, n *node) {
			os.Remove(n.path("pki/apiserver-kubelet-client.key"))
		}, renewAt, []string{"PKI/apiserver-kubelet-client.key does not", "restore the key"}},
		{"signed by another CA", func(t *testing.T, n *node) {
			write(t, n.path("pki/apiserver.crt"), read(t, other.path("pki/apiserver.crt")))
			write(t, n.path("pki/apiserver.key"), read(t, other.path("pki/apiserver.key")))
		}, renewAt, []string{"PKI/apiserver.crt is not signed by the CA PKI/ca.crt", "restore the right CA or certificate"}},
		{"kubeconfig signed by another CA", func(t *testing.T, n *node) {
			write(t, n.path("admin.conf"), read(t, other.path("admin.conf")))
		}, renewAt, []string{"DIR/admin.conf is not signed by the CA PKI/ca.crt"}},
		{"certificate is a CA", func(t *testing.T, n *node) {
			write(t, n.path("pki/front-proxy-client.crt"), read(t, n.path("pki/front-proxy-ca.crt")))
			write(t, n.path("pki/front-proxy-client.key"), read(t, n.path("pki/front-proxy-ca.key")))
		}, renewAt, []string{"PKI/front-proxy-client.crt is a CA certificate"}},
		// The leaf is there, after its CA: the fix is the order, not a backup.
		{"CA first in a leaf's file", func(t *testing.T, n *node) {
			write(t, n.path("pki/front-proxy-client.crt"), append(read(t, n.path("pki/front-proxy-ca.crt")), read(t, n.path("pki/front-proxy-client.crt"))...))
		}, renewAt, []string{"PKI/front-proxy-client.crt holds the CA certificate", "first and the front-proxy-client certificate after it", "put the leaf first"}},
		{"CA first in a kubeconfig's client certificate data", func(t *testing.T, n *node) {
			pkitest.EditKubeconfig(t, n.path("scheduler.conf"), func(cfg *clientcmdapi.Config) {
				u := cfg.AuthInfos[cfg.Contexts[cfg.CurrentContext].AuthInfo]
				u.ClientCertificateData = append(read(t, n.path("pki/ca.crt")), u.ClientCertificateData...)
			})
		}, renewAt, []string{"DIR/scheduler.conf holds the CA certificate", "first and the scheduler.conf certificate after it", "put the leaf first"}},
		{"expired CA", nil, made.Add(11 * 365 * 24 * time.Hour),
			[]string{"the CA PKI/ca.crt cannot sign now", "expired", "certctl does not renew CAs"}},
		// A CA not valid yet is a clock behind, not a CA to rotate.
		{"CA not valid yet", nil, made.Add(-24 * time.Hour),
			[]string{"the CA PKI/ca.crt cannot sign now", "not valid before", "this host's clock is behind", "timedatectl"}},
		{"missing CA key (external CA)", func(t *testing.T, n *node) {
			os.Remove(n.path("pki/etcd/ca.key"))
		}, renewAt, []string{"renew etcd-server", "PKI/etcd/ca.key does not exist (external CA)", "--use-api", "--use-csr"}},
		// A volume not mounted, not an external CA: skipped as one, cron's
		// renew all exited 5, which its timer counts as success.
		{"CA key a symbolic link to nothing", func(t *testing.T, n *node) {
			os.Remove(n.path("pki/etcd/ca.key"))
			if err := os.Symlink("/mnt/offline/etcd-ca.key", n.path("pki/etcd/ca.key")); err != nil {
				t.Fatal(err)
			}
		}, renewAt, []string{"renew etcd-server", "the CA key PKI/etcd/ca.key is a symbolic link to /mnt/offline/etcd-ca.key, which does not exist", "mount the volume that holds it", "--use-api", "--use-csr"}},
		{"CA key does not match", func(t *testing.T, n *node) {
			write(t, n.path("pki/ca.key"), read(t, other.path("pki/ca.key")))
		}, renewAt, []string{"PKI/ca.key does not match the CA certificate PKI/ca.crt"}},
		{"corrupt CA", func(t *testing.T, n *node) {
			write(t, n.path("pki/front-proxy-ca.crt"), []byte("\x00\x01"))
		}, renewAt, []string{"parse CA certificate PKI/front-proxy-ca.crt"}},
		{"CA file holds a leaf", func(t *testing.T, n *node) {
			write(t, n.path("pki/front-proxy-ca.crt"), read(t, n.path("pki/front-proxy-client.crt")))
		}, renewAt, []string{"PKI/front-proxy-ca.crt is not a CA certificate", "CA:FALSE", "restore the front-proxy-ca CA certificate"}},
		{"missing CA certificate", func(t *testing.T, n *node) {
			os.Remove(n.path("pki/front-proxy-ca.crt"))
		}, renewAt, []string{"CA certificate PKI/front-proxy-ca.crt does not exist"}},
		{"malformed kubeconfig", func(t *testing.T, n *node) {
			write(t, n.path("controller-manager.conf"), []byte("apiVersion: v1\nkind: Config\nusers: [\n"))
		}, renewAt, []string{"parse kubeconfig DIR/controller-manager.conf", "certctl init-phase kubeconfig controller-manager"}},
		{"kubeconfig without an embedded certificate", func(t *testing.T, n *node) {
			cfg, err := kubeconfig.Load(n.path("scheduler.conf"))
			if err != nil {
				t.Fatal(err)
			}
			for _, u := range cfg.AuthInfos {
				u.ClientCertificateData, u.ClientKeyData = nil, nil
				u.ClientCertificate, u.ClientKey = "/var/lib/scheduler.crt", "/var/lib/scheduler.key"
			}
			if err := kubeconfig.Write(n.path("scheduler.conf"), cfg); err != nil {
				t.Fatal(err)
			}
		}, renewAt, []string{"kubeconfig DIR/scheduler.conf", "no embedded client certificate", "embedded client certificates only"}},
		// Its own credentials: not "remove the file", which loses them.
		{"kubeconfig whose user authenticates with an exec plugin", func(t *testing.T, n *node) {
			pkitest.EditKubeconfig(t, n.path("admin.conf"), func(cfg *clientcmdapi.Config) {
				u := cfg.AuthInfos[cfg.Contexts[cfg.CurrentContext].AuthInfo]
				u.ClientCertificateData, u.ClientKeyData = nil, nil
				u.Exec = &clientcmdapi.ExecConfig{Command: "oidc-login", APIVersion: "client.authentication.k8s.io/v1"}
			})
		}, renewAt, []string{"kubeconfig DIR/admin.conf", `authenticates with exec, not an embedded client certificate`, "renew the others by name", "move it away"}},
		{"kubeconfig whose current context the user switched to a token", func(t *testing.T, n *node) {
			pkitest.SwitchContext(t, n.path("admin.conf"), &clientcmdapi.AuthInfo{Token: "t"})
		}, renewAt, []string{"kubeconfig DIR/admin.conf", `current context "ops"`, "config use-context kubernetes-admin@kubernetes"}},
		{"kubeconfig key does not match", func(t *testing.T, n *node) {
			cfg, _ := kubeconfig.Load(n.path("super-admin.conf"))
			adm, _ := kubeconfig.Load(n.path("admin.conf"))
			for _, u := range cfg.AuthInfos {
				for _, a := range adm.AuthInfos {
					u.ClientKeyData = a.ClientKeyData
				}
			}
			if err := kubeconfig.Write(n.path("super-admin.conf"), cfg); err != nil {
				t.Fatal(err)
			}
		}, renewAt, []string{"kubeconfig DIR/super-admin.conf: the embedded client key does not match"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := newNode(t, nil)
			if tt.spoil != nil {
				tt.spoil(t, n)
			}
			before := treetest.Snapshot(t, n.Dir)
			o := n.options(tt.at)
			o.SkipMissing = true
			o.SkipExternal = !strings.Contains(tt.name, "(external CA)") // as renew all
			_, err := Renew(context.Background(), n.targets(t, "all"), o)
			var want []string
			for _, w := range tt.want {
				want = append(want, expand(w, n))
			}
			treetest.ErrMentions(t, err, want...)
			treetest.AssertSame(t, before, treetest.Snapshot(t, n.Dir))
		})
	}
}

// expand replaces PKI/ and DIR/ with the node's folders.
func expand(s string, n *node) string {
	return strings.NewReplacer("PKI/", n.certDir()+"/", "DIR/", n.Dir+"/").Replace(s)
}

// TestPrintedInitPhaseNamesFolders: the `certctl init-phase` a refusal
// prints acts on the node's folders as printed; without --cert-dir (and,
// for a kubeconfig, --kubeconfig-dir) it acted on /etc/kubernetes, another
// node's files or none.
func TestPrintedInitPhaseNamesFolders(t *testing.T) {
	tests := []struct {
		name  string
		spoil func(t *testing.T, n *node)
		want  func(n *node) string
	}{
		{"key does not match", func(t *testing.T, n *node) {
			write(t, n.path("pki/apiserver.key"), read(t, n.path("pki/front-proxy-client.key")))
		}, func(n *node) string { return "`certctl init-phase certs apiserver --cert-dir " + n.certDir() + "`" }},
		{"malformed kubeconfig", func(t *testing.T, n *node) {
			write(t, n.path("controller-manager.conf"), []byte("apiVersion: v1\nkind: Config\nusers: [\n"))
		}, func(n *node) string {
			return "`certctl init-phase kubeconfig controller-manager --cert-dir " + n.certDir() + " --kubeconfig-dir " + n.Dir + "`"
		}},
		{"missing kubeconfig", func(t *testing.T, n *node) {
			os.Remove(n.path("scheduler.conf"))
		}, func(n *node) string {
			return "`certctl init-phase kubeconfig scheduler --cert-dir " + n.certDir() + " --kubeconfig-dir " + n.Dir + "`"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := newNode(t, nil)
			tt.spoil(t, n)
			_, err := Renew(context.Background(), n.targets(t, "all"), n.options(renewAt))
			treetest.ErrMentions(t, err, tt.want(n))
		})
	}
}
