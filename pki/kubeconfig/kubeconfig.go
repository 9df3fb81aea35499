// Package kubeconfig reads and writes kubeconfig files with embedded client
// certificates, the way kubeadm lays them out, through client-go's clientcmd.
package kubeconfig

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/certctl/certctl/internal/atomicfile"
	"github.com/certctl/certctl/internal/output"
	"github.com/certctl/certctl/pki"
)

// Mode is the file mode of a kubeconfig file: it holds a private key.
const Mode = 0o600

// Build makes kubeadm's layout: one cluster named clusterName, one user
// named userName, and the context "userName@clusterName" as current context
// (cmd/kubeadm/app/util/kubeconfig.CreateWithCerts).
func Build(clusterName, server, userName string, caPEM, certPEM, keyPEM []byte) *clientcmdapi.Config {
	ctx := userName + "@" + clusterName
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[clusterName] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: caPEM}
	cfg.AuthInfos[userName] = &clientcmdapi.AuthInfo{ClientCertificateData: certPEM, ClientKeyData: keyPEM}
	cfg.Contexts[ctx] = &clientcmdapi.Context{Cluster: clusterName, AuthInfo: userName}
	cfg.CurrentContext = ctx
	return cfg
}

// Write atomically writes cfg to path with mode 0600, creating the directory.
func Write(path string, cfg *clientcmdapi.Config) error {
	data, err := clientcmd.Write(*cfg)
	if err != nil {
		return fmt.Errorf("encode kubeconfig %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create directory %s: %w", filepath.Dir(path), err)
	}
	// atomicfile's error names path and, on a full file system, says to
	// free space: wrapped again, it named the file twice.
	return atomicfile.WriteFile(path, data, Mode)
}

// Load reads a kubeconfig file. An empty one is an error: clientcmd
// reads it as a kubeconfig with no context, which every use of it then
// reported as `current context "" not found`.
func Load(path string) (*clientcmdapi.Config, error) {
	cfg, err := pki.ReadParsed(path, "kubeconfig", parse)
	if err != nil {
		return nil, err
	}
	// As clientcmd.LoadFromFile: Resolve finds a relative path beside path.
	for _, c := range cfg.Clusters {
		c.LocationOfOrigin = path
	}
	for _, u := range cfg.AuthInfos {
		u.LocationOfOrigin = path
	}
	return cfg, nil
}

// parse is clientcmd.Load, refusing a file with nothing but white space
// (a `> admin.conf` that failed, a file system that lost it).
func parse(data []byte) (*clientcmdapi.Config, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New("the file is empty")
	}
	return clientcmd.Load(data)
}

// Resolve is the file a path p of a kubeconfig loaded from origin names
// (certificate-authority, client-certificate, client-key): a relative one
// is beside origin, as client-go reads it. origin "" leaves p as it is.
func Resolve(origin, p string) string {
	if p != "" && origin != "" && !filepath.IsAbs(p) {
		return filepath.Join(filepath.Dir(origin), p)
	}
	return p
}

// Current returns the current context's cluster and user, with their names.
func Current(cfg *clientcmdapi.Config) (clusterName string, cluster *clientcmdapi.Cluster, userName string, user *clientcmdapi.AuthInfo, err error) {
	ctx, ok := cfg.Contexts[cfg.CurrentContext]
	if !ok {
		return "", nil, "", nil, fmt.Errorf("current context %q not found", cfg.CurrentContext)
	}
	cluster, ok = cfg.Clusters[ctx.Cluster]
	if !ok {
		return "", nil, "", nil, fmt.Errorf("cluster %q of context %q not found", ctx.Cluster, cfg.CurrentContext)
	}
	user, ok = cfg.AuthInfos[ctx.AuthInfo]
	if !ok {
		return "", nil, "", nil, fmt.Errorf("user %q of context %q not found", ctx.AuthInfo, cfg.CurrentContext)
	}
	return ctx.Cluster, cluster, ctx.AuthInfo, user, nil
}

// ClientCert returns the embedded client certificate and key of the current
// context's user. A file that refers to cert files instead of embedding them
// is an error: certctl only manages what it can replace atomically.
func ClientCert(cfg *clientcmdapi.Config) (*x509.Certificate, crypto.Signer, error) {
	chain, key, err := ClientChain(cfg)
	if err != nil {
		return nil, nil, err
	}
	return chain[0], key, nil
}

// ClientChain is ClientCert with the certificates that follow the client
// certificate in client-certificate-data: the issuing CAs an external CA
// sent with it, which kube-apiserver verifies it through.
func ClientChain(cfg *clientcmdapi.Config) ([]*x509.Certificate, crypto.Signer, error) {
	_, _, userName, user, err := Current(cfg)
	if err != nil {
		return nil, nil, err
	}
	if len(user.ClientCertificateData) == 0 || len(user.ClientKeyData) == 0 {
		return nil, nil, fmt.Errorf("user %q of current context %q has no embedded client certificate and key (client-certificate-data, client-key-data)", userName, cfg.CurrentContext)
	}
	certs, err := pki.ParseCerts(user.ClientCertificateData)
	if err != nil {
		return nil, nil, fmt.Errorf("user %q client-certificate-data: %w", userName, err)
	}
	key, err := pki.ParsePrivateKey(user.ClientKeyData)
	if err != nil {
		return nil, nil, fmt.Errorf("user %q client-key-data: %w", userName, err)
	}
	return certs, key, nil
}

// EmbeddedContext returns the context a user who switched the current
// context away from kubeadm's (kubectl config use-context) can switch back
// to: one whose cluster exists and whose user has an embedded client
// certificate and key, kubeadm's own first (named USER@CLUSTER, as Build
// and kubeadm name it), else the first by name. "" when there is none, or
// when the current context has one itself: renewal reads the current
// context's user, as kubeadm's does (Current), so a problem there is fixed
// in that user, not by switching to another one.
func EmbeddedContext(cfg *clientcmdapi.Config) string {
	embedded := func(name string) bool {
		ctx, ok := cfg.Contexts[name]
		if !ok || ctx == nil || cfg.Clusters[ctx.Cluster] == nil {
			return false
		}
		user, ok := cfg.AuthInfos[ctx.AuthInfo]
		return ok && user != nil && len(user.ClientCertificateData) != 0 && len(user.ClientKeyData) != 0
	}
	if embedded(cfg.CurrentContext) {
		return ""
	}
	return contextWhere(cfg, embedded)
}

// contextWhere is the context ok accepts, kubeadm's own first (named
// USER@CLUSTER), else the first by name; "" when none.
func contextWhere(cfg *clientcmdapi.Config, ok func(name string) bool) string {
	first := ""
	for _, name := range slices.Sorted(maps.Keys(cfg.Contexts)) {
		if !ok(name) {
			continue
		}
		if ctx := cfg.Contexts[name]; name == ctx.AuthInfo+"@"+ctx.Cluster {
			return name
		}
		if first == "" {
			first = name
		}
	}
	return first
}

// SwitchBack is the fix for a kubeconfig at path whose current context
// the user switched away from kubeadm's user with an embedded client
// certificate (kubectl config use-context): the kubectl command that
// switches back, then run certctl again; "" when no context has one.
func SwitchBack(path string, cfg *clientcmdapi.Config) string {
	ctx := EmbeddedContext(cfg)
	if ctx == "" {
		return ""
	}
	return switchTo(path, ctx)
}

// SwitchBackSigned is the fix for a kubeconfig at path whose current
// context's client certificate is not the CA's (a context of another
// cluster, merged into the file and made current): the kubectl command
// that switches to another context whose embedded client certificate
// signed accepts (the chain, its first the client certificate), then run
// certctl again; "" when no other context has one.
func SwitchBackSigned(path string, cfg *clientcmdapi.Config, signed func(chain []*x509.Certificate) bool) string {
	ctx := contextWhere(cfg, func(name string) bool {
		c := cfg.Contexts[name]
		if name == cfg.CurrentContext || c == nil || cfg.Clusters[c.Cluster] == nil {
			return false
		}
		user := cfg.AuthInfos[c.AuthInfo]
		if user == nil || len(user.ClientKeyData) == 0 {
			return false
		}
		chain, err := pki.ParseCerts(user.ClientCertificateData)
		return err == nil && signed(chain)
	})
	if ctx == "" {
		return ""
	}
	return switchTo(path, ctx)
}

func switchTo(path, ctx string) string {
	return fmt.Sprintf("switch back with `kubectl --kubeconfig %s config use-context %s`, then run certctl again", output.ShellQuote(path), output.ShellQuote(ctx))
}

// OtherCredentials names the fields by which user authenticates other than
// a client certificate ("token, exec"), "" when it has none: a user of
// the person's own, whose credentials certctl must not mix a client
// certificate into.
func OtherCredentials(user *clientcmdapi.AuthInfo) string {
	var out []string
	for _, f := range []struct {
		name string
		set  bool
	}{
		{"token", user.Token != ""}, {"tokenFile", user.TokenFile != ""}, {"exec", user.Exec != nil},
		{"auth-provider", user.AuthProvider != nil}, {"username", user.Username != ""}, {"password", user.Password != ""},
	} {
		if f.set {
			out = append(out, f.name)
		}
	}
	return strings.Join(out, ", ")
}

// CACerts returns the current context's cluster CA certificates.
func CACerts(cfg *clientcmdapi.Config) ([]*x509.Certificate, error) {
	clusterName, cluster, _, _, err := Current(cfg)
	if err != nil {
		return nil, err
	}
	data := cluster.CertificateAuthorityData
	if len(data) == 0 && cluster.CertificateAuthority != "" {
		if data, err = pki.ReadFile(Resolve(cluster.LocationOfOrigin, cluster.CertificateAuthority)); err != nil {
			return nil, fmt.Errorf("cluster %q: read CA file: %w", clusterName, err)
		}
	}
	if len(data) == 0 {
		return nil, fmt.Errorf("cluster %q has no certificate-authority-data", clusterName)
	}
	certs, err := pki.ParseCerts(data)
	if err != nil {
		return nil, fmt.Errorf("cluster %q certificate-authority-data: %w", clusterName, err)
	}
	return certs, nil
}

// SetClientCert returns, encoded, a copy of cfg whose current context has
// the user's embedded client certificate set to certPEM, its key to keyPEM
// (kept when keyPEM is nil) and the cluster's CA data to caPEM (kept when
// caPEM is nil), as kubeadm refreshes it, so that a file made before a CA
// rotation trusts the new CA. A cluster that names a CA file keeps it, and
// one that skips TLS verification gets no CA data: client-go refuses either
// with CA data. Every other field is kept; path names the file in errors.
func SetClientCert(cfg *clientcmdapi.Config, path string, caPEM, certPEM, keyPEM []byte) ([]byte, error) {
	cfg = cfg.DeepCopy()
	_, cluster, _, user, err := Current(cfg)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig %s: %w", path, err)
	}
	if caPEM != nil && cluster.CertificateAuthority == "" && !cluster.InsecureSkipTLSVerify {
		cluster.CertificateAuthorityData = caPEM
	}
	user.ClientCertificateData = certPEM
	if keyPEM != nil {
		user.ClientKeyData = keyPEM
	}
	data, err := clientcmd.Write(*cfg)
	if err != nil {
		return nil, fmt.Errorf("encode kubeconfig %s: %w", path, err)
	}
	return data, nil
}
