package phases

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/certctl/certctl/internal/output"
	"github.com/certctl/certctl/phases/external/reqfile"
	"github.com/certctl/certctl/pki"
	"github.com/certctl/certctl/pki/kubeconfig"
	"github.com/certctl/certctl/pki/policy"
)

// KubeconfigPhases returns the "kubeconfig/..." phases in kubeadm's order:
// admin, super-admin, kubelet, controller-manager, scheduler.
func KubeconfigPhases(profiles []pki.KubeconfigProfile) []Phase {
	var ps []Phase
	for _, p := range profiles {
		ps = append(ps, Phase{
			Name: "kubeconfig/" + p.Name,
			Run:  func(ctx context.Context, env *Env) error { return runKubeconfig(ctx, env, p) },
		})
	}
	return ps
}

// runKubeconfig keeps an existing kubeconfig made for the same CA, or writes
// a new one with a client certificate signed by the cluster CA.
func runKubeconfig(ctx context.Context, env *Env, p pki.KubeconfigProfile) error {
	if env.UseCSR {
		return runKubeconfigCSR(ctx, env, p)
	}
	s := env.store()
	path := filepath.Join(env.KubeconfigDir, p.BaseName)
	caCertPath, caKeyPath := s.CertPath(p.CABaseName), s.KeyPath(p.CABaseName)
	if ok, err := pki.Exists(caCertPath); err != nil {
		return err
	} else if !ok && env.Cluster.Joining {
		return errJoinNeeds(env, caCertPath, p.CAName)
	} else if !ok {
		return missingCAOfKubeconfig(env, p, path, caCertPath)
	}
	caCert, others, err := readCA(s, p.CABaseName)
	if err != nil {
		return err
	}
	exists, err := pki.Exists(path)
	if err != nil {
		return err
	}
	if exists {
		return checkExistingKubeconfig(env, p, path, caCert, others, caCertPath)
	}
	if ok, err := pki.Exists(caKeyPath); err != nil {
		return err
	} else if !ok {
		return fmt.Errorf("cannot make %s: %s write its key and a CSR for your CA with `certctl init-phase kubeconfig %s%s --use-csr --csr-dir DIR`, then install what it signs with `%s` (docs/external-ca.md)", path, caKeyAbsent(caKeyPath), p.Name, env.initFlags(),
			env.importCommandIn("DIR"))
	}
	caKey, err := env.readCAKey(p.CABaseName, caCert)
	if err != nil {
		return err
	}
	warnWeakCA(env, p.CAName, caCertPath, caCert)
	// kubeadm starts client certificates of kubeconfig files at the CA's
	// NotBefore (phases/kubeconfig: NotBefore is left to NewSignedCert).
	// So the window alone does not show an expired CA: signingValidity
	// checks the CA at the run's time, as for the certs phase.
	v := pki.NewValidity(env.start, 0, env.Cluster.CertificateValidity)
	v.NotBefore = caCert.NotBefore
	v, err = env.signingValidity(v, caCert, p.CAName, "the client certificate of "+path, caCertPath)
	if err != nil {
		return err
	}
	if env.checking {
		env.planCreate(path, true)
		return nil
	}
	env.logf("[kubeconfig] Writing %q kubeconfig file", p.BaseName)
	key, err := env.keys.Get(ctx)
	if err != nil {
		return fmt.Errorf("generate key for %s: %w", path, err)
	}
	cert, err := pki.Sign(env.Rand, p.Profile, key.Public(), caCert, caKey, v)
	if err != nil {
		return err
	}
	keyPEM, err := pki.MarshalPrivateKey(key)
	if err != nil {
		return err
	}
	cfg := kubeconfig.Build(env.Cluster.ClusterName, p.Server, p.CommonName, caBundlePEM(caCert, others), pki.EncodeCert(cert), keyPEM)
	return kubeconfig.Write(path, cfg)
}

// missingCAOfKubeconfig is the error for the kubeconfig at path of p,
// whose CA certificate caCertPath is missing. When the file exists, making
// a CA (`init-phase certs ca`, which the error said to run first) would
// make a new one, which nothing the old one signed chains to, and the file
// would be refused as made for another CA: the file embeds a copy of the
// CA certificate, the one to restore.
func missingCAOfKubeconfig(env *Env, p pki.KubeconfigProfile, path, caCertPath string) error {
	exists, err := pki.Exists(path)
	if err != nil {
		return err
	}
	if !exists {
		return fmt.Errorf("CA certificate %s is missing: run `certctl init-phase certs %s%s` first", caCertPath, p.CAName, env.initFlags())
	}
	q := output.ShellQuote
	return fmt.Errorf("kubeconfig %s exists but its CA certificate %s is missing: restore it from a backup, or from the copy the kubeconfig embeds (`kubectl config view --kubeconfig %s --raw --minify -o jsonpath='{.clusters[0].cluster.certificate-authority-data}' | base64 -d > %s`), then run again; run `certctl init-phase certs %s%s` only if you mean to replace the whole %s tree", path, caCertPath, q(path), q(caCertPath), p.CAName, env.initFlags(), p.CAName)
}

// checkExistingKubeconfig accepts an existing file as kubeadm does (its CA
// is the cluster CA; a different server URL is only a warning) and also
// requires that the embedded certificate matches its key and CA. The CA
// is caCert, the first certificate of its file, and others those after it.
func checkExistingKubeconfig(env *Env, p pki.KubeconfigProfile, path string, caCert *x509.Certificate, others []*x509.Certificate, caCertPath string) error {
	cfg, err := kubeconfig.Load(path)
	if err != nil {
		return withFix(err, "restore it from a backup, or remove it to make a new one")
	}
	// What to do with a file whose current context certctl cannot use:
	// switch back to kubeadm's when the user switched away from it, else
	// make a new one.
	fix := kubeconfig.SwitchBack(path, cfg)
	if fix == "" {
		fix = "restore it from a backup, or remove it to make a new one"
	}
	cas, err := kubeconfig.CACerts(cfg)
	if err != nil {
		return withFix(fmt.Errorf("kubeconfig %s: %w", path, err), fix)
	}
	if !cas[0].Equal(caCert) && !trustsCAFileRoot(env, cfg, cas[0], caCert, others) {
		// A context of another cluster made current: removing the file
		// would lose the contexts the user added.
		if sb := kubeconfig.SwitchBackSigned(path, cfg, func(chain []*x509.Certificate) bool {
			return pki.VerifySignedBy(chain[0], chain[1:], caCert, env.start) == nil
		}); sb != "" {
			return fmt.Errorf("kubeconfig %s: the cluster of its current context %q trusts another CA than %s: %s", path, cfg.CurrentContext, caCertPath, sb)
		}
		if pki.SamePublicKey(cas[0].PublicKey, caCert.PublicKey) {
			return reissuedCAKubeconfig(env, p, cfg, path, caCert, caCertPath)
		}
		return fmt.Errorf("kubeconfig %s exists but was made for another CA than %s: remove it to make a new one", path, caCertPath)
	}
	_, cluster, _, user, _ := kubeconfig.Current(cfg)
	if namesFiles(user) {
		// kubelet.conf after the kubelet's TLS bootstrap names the
		// certificate the kubelet rotates (/var/lib/kubelet/pki/
		// kubelet-client-current.pem): kept, as kubeadm v1.37 keeps it;
		// check-expiration checks that file.
		return keepKubeconfig(env, p, path, cluster.Server)
	}
	// The issuing CAs an external CA sent after the client certificate
	// (certs import installs them), which kube-apiserver verifies it
	// through.
	chain, key, err := kubeconfig.ClientChain(cfg)
	if err != nil {
		return fmt.Errorf("kubeconfig %s: %w: %s", path, err, fix)
	}
	cert := chain[0]
	if err := pki.KeyMatches(cert, key); err != nil {
		return fmt.Errorf("kubeconfig %s: the embedded client certificate does not match the embedded key: remove the file to make a new one", path)
	}
	if err := policy.Key("the key embedded in kubeconfig "+path, key.Public(), false); err != nil {
		return fmt.Errorf("%w: renew it with `certctl renew %s%s` (a new key), or remove the file to make a new one", err, p.BaseName, env.folderFlags())
	}
	if err := pki.VerifySignedBy(cert, chain[1:], caCert, env.start); err != nil {
		var reissued *pki.ReissuedCAError
		if errors.As(err, &reissued) {
			return fmt.Errorf("kubeconfig %s: %w; %s", path, err, reissued.Fix(caCertPath))
		}
		return fmt.Errorf("kubeconfig %s: the client certificate is not signed by %s: remove the file to make a new one", path, caCertPath)
	}
	warnNotValidNow(env, "the client certificate of kubeconfig "+path, p.BaseName, cert)
	return keepKubeconfig(env, p, path, cluster.Server)
}

// trustsCAFileRoot reports whether a kubeconfig cfg that trusts ca, not
// the first certificate caCert of the CA file, is of the cluster CA all
// the same: ca is another certificate of that file (others), the root above
// caCert when an external CA signs with an issuing CA, and the client
// certificate is caCert's. kubeadm v1.37 keeps such a file in its external
// CA mode (ValidateKubeconfigsForExternalCA: the file's CA is one of the
// CA file's chain), where certctl cannot make a new one. A CA rotation's
// file holds the other CA after the first, which signs no client
// certificate of the file's until it is renewed.
func trustsCAFileRoot(env *Env, cfg *clientcmdapi.Config, ca, caCert *x509.Certificate, others []*x509.Certificate) bool {
	if !slices.ContainsFunc(others, ca.Equal) {
		return false
	}
	chain, _, err := kubeconfig.ClientChain(cfg)
	return err == nil && pki.VerifySignedBy(chain[0], chain[1:], caCert, env.start) == nil
}

// reissuedCAKubeconfig is the error for the kubeconfig at path whose
// cluster trusts another certificate of the CA caCert, for the same key:
// the CA certificate was re-issued (after it expired, say), and kubeadm
// v1.37 refuses the file as made for another CA. Removing it, as for
// another CA, would lose the contexts a user added; renew embeds the CA
// certificate with a new client certificate and keeps the rest. When the
// re-issued CA breaks the chain of the client certificate, the CA
// certificate is what to fix first, as renew would then say.
func reissuedCAKubeconfig(env *Env, p pki.KubeconfigProfile, cfg *clientcmdapi.Config, path string, caCert *x509.Certificate, caCertPath string) error {
	if chain, _, err := kubeconfig.ClientChain(cfg); err == nil {
		var reissued *pki.ReissuedCAError
		if err := pki.VerifySignedBy(chain[0], chain[1:], caCert, env.start); errors.As(err, &reissued) {
			return fmt.Errorf("kubeconfig %s: %w; %s", path, err, reissued.Fix(caCertPath))
		}
	}
	return fmt.Errorf("kubeconfig %s trusts another certificate of the CA %s, for the same key (the CA certificate was re-issued): run `certctl renew %s%s` to embed %s and a new client certificate, keeping the file's other contexts", path, caCertPath, p.BaseName, env.folderFlags(), caCertPath)
}

// keepKubeconfig keeps the existing kubeconfig at path, whose API server
// URL is server: a different one than the configuration's is only a
// warning, as in kubeadm.
func keepKubeconfig(env *Env, p pki.KubeconfigProfile, path, server string) error {
	if server != p.Server {
		env.warnf("kubeconfig %s exists with the API server URL %s, not %s: kept as it is", path, server, p.Server)
	}
	env.logf("[kubeconfig] Using existing kubeconfig file: %q", path)
	return nil
}

// namesFiles reports whether user authenticates with a client certificate
// and key it names by path, none embedded.
func namesFiles(user *clientcmdapi.AuthInfo) bool {
	return len(user.ClientCertificateData) == 0 && len(user.ClientKeyData) == 0 && user.ClientCertificate != "" && user.ClientKey != ""
}

// runKubeconfigCSR writes, under the CSR dir, NAME.conf with the new
// client key and no certificate, NAME.conf.csr and NAME.conf.request.json,
// as kubeadm's `certs generate-csr` lays them out; `certctl certs import`
// installs the signed certificate into the kubeconfig folder. No CA key is
// needed; the CA certificate is embedded when it is there already.
func runKubeconfigCSR(ctx context.Context, env *Env, p pki.KubeconfigProfile) error {
	slot := reqfile.KeyKubeconfig{Cluster: env.Cluster.ClusterName, Server: p.Server, User: p.CommonName}
	if caCert, others, err := env.store().ReadCert(p.CABaseName); err == nil {
		slot.CA = caBundlePEM(caCert, others)
	}
	f := reqfile.FilesOf(env.CSRDir, p.BaseName, slot)
	if keepNamingFiles(env, p, f) {
		return nil
	}
	// A kept key-only file keeps its server, which `certs import` installs.
	if cfg, err := kubeconfig.Load(f.Key); err == nil {
		if _, c, _, _, err := kubeconfig.Current(cfg); err == nil && c.Server != p.Server {
			env.warnf("kubeconfig %s exists with the API server URL %s, not %s: kept as it is, and `%s` installs it so; remove it and %s to make a new key and CSR", f.Key, c.Server, p.Server, env.importCommand(), f.CSR)
		}
	}
	// Requests name a kubeconfig by its file, as renew and import do.
	prof := p.Profile
	prof.Name = p.BaseName
	return writeCSR(ctx, env, "kubeconfig", prof, pki.Profile{Name: p.CAName, BaseName: p.CABaseName}, slot)
}

// keepNamingFiles reports whether p's kubeconfig in the kubeconfig folder
// is kept without a CSR because its user names its client certificate and
// key files: kubelet.conf after the kubelet's TLS bootstrap
// (/var/lib/kubelet/pki/kubelet-client-current.pem, which the kubelet
// rotates itself). kubeadm v1.37 keeps such a file: `init phase kubeconfig`
// uses an existing kubeconfig of the same CA and server
// (createKubeConfigFileIfNotExists), its external CA mode uses the ones
// there (ValidateKubeconfigsForExternalCA), and `certs generate-csr` makes
// no CSR over one. And `certctl certs import` installs embedded client
// certificates only: a CSR for it could not be installed. Files f of an
// earlier run for it in the CSR folder get a warning: the import would
// refuse them.
func keepNamingFiles(env *Env, p pki.KubeconfigProfile, f reqfile.Files) bool {
	if env.KubeconfigDir == "" {
		return false
	}
	path := filepath.Join(env.KubeconfigDir, p.BaseName)
	cfg, err := kubeconfig.Load(path)
	if err != nil { // none, or unreadable: a CSR as for a first installation
		return false
	}
	_, _, _, user, err := kubeconfig.Current(cfg)
	if err != nil || !namesFiles(user) {
		return false
	}
	var earlier []string
	for _, file := range []string{f.Key, f.CSR, f.Request, f.Cert} {
		if ok, _ := pki.Exists(file); ok {
			earlier = append(earlier, file)
		}
	}
	if len(earlier) > 0 {
		env.warnf("%s: an earlier request for %s, which `certctl certs import` cannot install into %s (it names its certificate files): remove them", strings.Join(earlier, ", "), p.BaseName, path)
	}
	named := "its client certificate and key files"
	if p.BaseName == pki.KubeletKubeconfig {
		named = "the client certificate and key the kubelet rotates since its TLS bootstrap"
	}
	env.logf("[kubeconfig] Using existing kubeconfig file: %q: it names %s (%s); no CSR is written for it", path, named, kubeconfig.Resolve(path, user.ClientCertificate))
	return true
}

// caBundlePEM is the certificate-authority-data of a kubeconfig: every
// certificate of the CA file, in its order. During a CA rotation ca.crt
// holds the old and the new CA, and every kubeconfig must trust both, as
// the rotation's stage says (docs/ca-rotation.md); kubeadm embeds the
// first alone.
func caBundlePEM(first *x509.Certificate, others []*x509.Certificate) []byte {
	return pki.EncodeCerts(append([]*x509.Certificate{first}, others...)...)
}
