package phases

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/phases/external/reqfile"
	"github.com/certctl/certctl/pki"
	"github.com/certctl/certctl/pki/policy"
)

// CertPhases returns the "certs/..." phases for the cluster in env, in
// kubeadm's order: ca, apiserver, apiserver-kubelet-client, front-proxy-ca,
// front-proxy-client, etcd-ca, etcd-server, etcd-peer,
// etcd-healthcheck-client, apiserver-etcd-client, sa.
func CertPhases(profiles []pki.Profile) []Phase {
	var ps []Phase
	for _, p := range profiles {
		ps = append(ps, Phase{
			Name: "certs/" + p.Name,
			Run: func(ctx context.Context, env *Env) error {
				if p.IsCA {
					return runCA(ctx, env, p)
				}
				return runLeaf(ctx, env, p, profiles)
			},
		})
	}
	return append(ps, Phase{
		Name: "certs/" + pki.SAName,
		Run:  runServiceAccount,
	})
}

func (env *Env) store() pki.Store { return pki.Store{Dir: env.Cluster.CertificatesDir} }

// initFlags and folderFlags are what a printed certctl command needs to
// act on this run's folders (config.FolderFlags), and for initFlags, a
// printed `certctl init-phase` command, with this run's settings (Rerun).
// Without them, run as printed, the command acted on /etc/kubernetes, or
// made certificates for other SANs. Every init-phase command has
// --kubeconfig-dir: it reads the settings through its admin.conf, and
// `--use-csr`'s `certs import` installs kubeconfigs there.
func (env *Env) initFlags() string {
	if env.Rerun != "" {
		return env.Rerun
	}
	return env.folderFlags()
}

// configFlags are the flags of a printed command that reads the
// configuration as this run did: its --config and folders (Download).
func (env *Env) configFlags() string {
	if env.Download != "" {
		return env.Download
	}
	return env.folderFlags()
}

func (env *Env) folderFlags() string {
	return config.FolderFlags(env.Cluster.CertificatesDir, env.KubeconfigDir)
}

// bothExist reports whether a and b exist.
func bothExist(a, b string) (aOK, bOK bool, err error) {
	if aOK, err = pki.Exists(a); err == nil {
		bOK, err = pki.Exists(b)
	}
	return aOK, bOK, err
}

// runCA keeps an existing CA, or makes a self-signed one.
func runCA(ctx context.Context, env *Env, p pki.Profile) error {
	if env.UseCSR {
		env.logf("[certs] Skipping %q: a CA cannot be requested as a CSR; your external CA provides %s", p.Name, p.BaseName+".crt")
		return nil
	}
	s := env.store()
	certPath, keyPath := s.CertPath(p.BaseName), s.KeyPath(p.BaseName)
	certOK, keyOK, err := bothExist(certPath, keyPath)
	if err != nil {
		return err
	}
	if !certOK && env.Cluster.Joining {
		return errJoinNeeds(env, certPath, p.Name)
	}
	var key crypto.Signer
	switch {
	case certOK:
		cert, others, err := readCA(s, p.BaseName)
		if err != nil {
			return err
		}
		if env.start.After(cert.NotAfter) {
			env.warnf("CA certificate %s expired on %s: certificates it signs are not trusted", certPath, cert.NotAfter.UTC().Format("2006-01-02"))
		}
		warnWeakCA(env, p.Name, certPath, cert)
		if !keyOK {
			if dest, ok := pki.DanglingLink(keyPath); ok {
				env.warnf("the CA key %s is a symbolic link to %s, which does not exist: the CA signs nothing until the volume that holds it is mounted", keyPath, dest)
			}
			env.logf("[certs] Using the existing %q certificate; its key %s is not here (external CA)", p.Name, keyPath)
			return nil
		}
		if key, err = s.ReadKey(p.BaseName); err != nil {
			return withFix(err, caKeyFix)
		}
		warnLooseKey(env, keyPath)
		if err := pki.KeyMatches(cert, key); err != nil {
			return caKeyMismatch(certPath, keyPath, append([]*x509.Certificate{cert}, others...), key, "restore the matching pair")
		}
		env.logf("[certs] Using the existing %q certificate and key", p.Name)
		return nil
	case keyOK:
		// An earlier run was killed between writing the key and the cert
		// (keys are written first): finish its work with the same key.
		// kubeadm v1.37 refuses this case ("failure loading ... certificate");
		// certctl makes the certificate, as it does for a leaf. Not
		// during a rotation of the CA: its certificate is a bundle.
		if err := rotatingTrustFile(s.Dir, p.Name); err != nil {
			return err
		}
		if key, err = s.ReadKey(p.BaseName); err != nil {
			return withFix(err, caKeyFix)
		}
		warnLooseKey(env, keyPath)
		if err := policy.Key("the CA key "+keyPath, key.Public(), false); err != nil {
			return fmt.Errorf("%w: no CA certificate is made for it; remove it (no certificate of it exists) to make a new CA", err)
		}
		if env.checking {
			if _, err := env.caCertForKey(p, certPath, key); err != nil {
				return err
			}
			env.planCreate(certPath, false)
			return nil
		}
		env.logf("[certs] Generating %q certificate for the existing key %s", p.Name, keyPath)
	default:
		if env.checking {
			env.planCreate(keyPath, true)
			env.planCreate(certPath, false)
			return nil
		}
		env.logf("[certs] Generating %q certificate and key", p.Name)
		if key, err = env.keys.Get(ctx); err != nil {
			return fmt.Errorf("generate key for %s: %w", p.Name, err)
		}
		if err := s.WriteKey(p.BaseName, key); err != nil {
			return err
		}
	}
	cert, err := env.caCertForKey(p, certPath, key)
	if err != nil {
		return err
	}
	return s.WriteCert(p.BaseName, cert)
}

// runLeaf keeps a valid existing certificate, or signs a new one with its
// CA, or (UseCSR) writes a key and CSR for an external CA.
func runLeaf(ctx context.Context, env *Env, p pki.Profile, profiles []pki.Profile) error {
	ca, _ := pki.Find(profiles, p.CAName)
	if env.UseCSR {
		// NAME.key, NAME.csr and NAME.request.json (what the CA must
		// sign) under the CSR dir, mirroring the cert dir layout: no CA
		// is needed.
		return writeCSR(ctx, env, "certs", p, ca, reqfile.KeyFile{})
	}
	s := env.store()
	certPath, keyPath := s.CertPath(p.BaseName), s.KeyPath(p.BaseName)
	caCertPath, caKeyPath := s.CertPath(ca.BaseName), s.KeyPath(ca.BaseName)

	certOK, keyOK, err := bothExist(certPath, keyPath)
	if err != nil {
		return err
	}
	caCertOK, err := env.willExist(caCertPath)
	if err != nil {
		return err
	}
	if !caCertOK && env.Cluster.Joining {
		return errJoinNeeds(env, caCertPath, ca.Name)
	}
	if !caCertOK {
		if caKeyOK, err := pki.Exists(caKeyPath); err != nil {
			return err
		} else if caKeyOK {
			return fmt.Errorf("CA certificate %s is missing but its key %s is there: run `certctl init-phase certs %s%s` to make the CA certificate for that key again (what the key signed stays valid)", caCertPath, caKeyPath, ca.Name, env.initFlags())
		}
		if certOK {
			return fmt.Errorf("%s exists but its CA certificate %s is missing: restore the CA, or run `certctl init-phase certs %s%s` only if you mean to replace the whole %s tree", certPath, caCertPath, ca.Name, env.initFlags(), ca.Name)
		}
		return fmt.Errorf("CA certificate %s is missing: run `certctl init-phase certs %s%s` first", caCertPath, ca.Name, env.initFlags())
	}
	// The CA on disk, unless the check pass has only planned to create it:
	// then the certificate it will write for the CA's existing key, or nil
	// when the CA gets a new key.
	var caCert *x509.Certificate
	if env.checking && env.planned[caCertPath] {
		caCert = env.madeCAs[caCertPath]
	} else if caCert, _, err = readCA(s, ca.BaseName); err != nil {
		return err
	}

	if certOK {
		if !keyOK {
			return fmt.Errorf("%s exists but its key %s is missing: restore the key, or remove the certificate to make a new pair", certPath, keyPath)
		}
		return checkExistingLeaf(env, p, caCert, certPath, keyPath, caCertPath, caKeyPath)
	}

	caKeyOK, err := env.willExist(caKeyPath)
	if err != nil {
		return err
	}
	if !caKeyOK {
		return fmt.Errorf("cannot sign %s: %s write a CSR for your CA with `certctl init-phase certs %s%s --use-csr --csr-dir DIR`", certPath, caKeyAbsent(caKeyPath), p.Name, env.initFlags())
	}
	// caCert is nil only in the check pass: the real pass signs with v.
	var v pki.Validity
	if caCert != nil {
		if v, err = env.signingValidity(pki.NewValidity(env.start, config.CertificateBackdate, env.Cluster.CertificateValidity), caCert, ca.Name, certPath, caCertPath); err != nil {
			return err
		}
	}
	var key crypto.Signer
	if keyOK {
		// Left by a run killed between writing the key and the certificate.
		if key, err = s.ReadKey(p.BaseName); err != nil {
			return withFix(err, "restore it from a backup, or remove it to make a new pair")
		}
		warnLooseKey(env, keyPath)
		if err := policy.Key("the key "+keyPath, key.Public(), false); err != nil {
			return fmt.Errorf("%w: no certificate is signed for it; remove it to make a new pair", err)
		}
	}
	if env.checking {
		if !keyOK {
			env.planCreate(keyPath, true)
		}
		env.planCreate(certPath, false)
		return nil
	}
	caKey, err := env.readCAKey(ca.BaseName, caCert)
	if err != nil {
		return err
	}
	warnWeakCA(env, ca.Name, caCertPath, caCert)
	if key == nil {
		env.logf("[certs] Generating %q certificate and key", p.Name)
		if key, err = env.keys.Get(ctx); err != nil {
			return fmt.Errorf("generate key for %s: %w", p.Name, err)
		}
		if err := s.WriteKey(p.BaseName, key); err != nil {
			return err
		}
	} else {
		env.logf("[certs] Generating %q certificate for the existing key %s", p.Name, keyPath)
	}
	cert, err := pki.Sign(env.Rand, p, key.Public(), caCert, caKey, v)
	if err != nil {
		return err
	}
	if err := s.WriteCert(p.BaseName, cert); err != nil {
		return err
	}
	if slices.Contains(p.ExtKeyUsages, x509.ExtKeyUsageServerAuth) {
		env.logf("[certs] %s serving cert is signed for DNS names %v and IPs %v", p.Name, cert.DNSNames, cert.IPAddresses)
	}
	return nil
}

// isNodeIdentity reports whether the SAN san is this node's name or
// advertise address, as pki.MissingSANs spells them.
func (env *Env) isNodeIdentity(san string) bool {
	ip := net.ParseIP(env.Cluster.AdvertiseAddress)
	return san == env.Cluster.NodeName || ip != nil && san == ip.String()
}

// warnNotValidNow warns that cert, of what (a file, or the client
// certificate of a kubeconfig), which init-phase keeps as kubeadm keeps
// it, is not valid at the run's time, with what to do: renew it (certctl
// renew name), or check the clock.
func warnNotValidNow(env *Env, what, name string, cert *x509.Certificate) {
	switch {
	case env.start.After(cert.NotAfter):
		env.warnf("%s expired on %s: kept, as kubeadm keeps it, but every client rejects it: renew it with `certctl renew %s%s`", what, cert.NotAfter.UTC().Format(time.RFC3339), name, env.folderFlags())
	case env.start.Before(cert.NotBefore):
		env.warnf("%s is valid only from %s: every client rejects it until then; check this host's clock (timedatectl)", what, cert.NotBefore.UTC().Format(time.RFC3339))
	}
}

// caKeyAbsent says, before what to do about it, why the CA key at path is
// not there: an external CA keeps it, or it is a symbolic link to a file
// that does not exist, such as an offline CA key on a volume that is not
// mounted, where the fix is to mount it.
func caKeyAbsent(path string) string {
	if dest, ok := pki.DanglingLink(path); ok {
		return fmt.Sprintf("the CA key %s is a symbolic link to %s, which does not exist: mount the volume that holds it and run again, or", path, dest)
	}
	return fmt.Sprintf("the CA key %s is missing (external CA):", path)
}

// warnWeakCA warns that the CA certificate at path, of the CA name, has a key certctl
// refuses for any certificate it issues: it still signs (refusing would
// stop every renewal until the CA is rotated), but what it signs is only
// as strong as its key.
func warnWeakCA(env *Env, name, path string, cert *x509.Certificate) {
	if err := policy.Key("the key of CA certificate "+path, cert.PublicKey, false); err != nil {
		env.warnf("%v: what it signs is no stronger; rotate the CA (certctl ca rotate %s%s, docs/ca-rotation.md)", err, name, env.folderFlags())
	}
}

// warnLooseKey warns when the existing private key file path, which
// init-phase keeps, may be read or written by group or others: renew warns
// of it (and writes the key 0600), check-expiration reports it as
// key-permissions; init-phase does not rewrite a key it keeps, so it says
// what to run.
func warnLooseKey(env *Env, path string) {
	if fi, err := os.Stat(path); err == nil {
		if w := pki.LooseKeyWarning(path, fi.Mode()); w != "" {
			env.warnf("%s", w)
		}
	}
}

// checkExistingLeaf accepts an existing certificate as kubeadm does (signed
// by its CA, covering the SANs the config asks for), and also requires that
// its key matches, which kubeadm does not check.
func checkExistingLeaf(env *Env, p pki.Profile, caCert *x509.Certificate, certPath, keyPath, caCertPath, caKeyPath string) error {
	s := env.store()
	cert, inter, err := s.ReadCert(p.BaseName)
	if err != nil {
		return withFix(err, fmt.Sprintf("restore it from a backup, or remove it and %s to make a new pair", keyPath))
	}
	key, err := s.ReadKey(p.BaseName)
	if err != nil {
		return withFix(err, fmt.Sprintf("restore it from a backup, or remove it and %s to make a new pair", certPath))
	}
	warnLooseKey(env, keyPath)
	if err := pki.KeyMatches(cert, key); err != nil {
		return fmt.Errorf("%s does not match %s: restore the matching key, or remove both to make a new pair", certPath, keyPath)
	}
	// A CA's pair copied over a leaf's verifies against itself: kubeadm
	// keeps it, renew refuses it. Its component presents the CA's
	// subject and no client or server auth usage, which its peers reject.
	if cert.IsCA {
		return fmt.Errorf("%s is a CA certificate (CA:TRUE, CN %q), not the %s certificate: put the right file and its key back from a backup, or remove %s and %s to make a new pair", certPath, cert.Subject.CommonName, p.Name, certPath, keyPath)
	}
	if err := policy.Key("the key "+keyPath, key.Public(), false); err != nil {
		return fmt.Errorf("%w: renew it with `certctl renew %s%s` (a new key), or remove %s and the key to make a new pair", err, p.Name, env.folderFlags(), certPath)
	}
	if caCert == nil {
		return fmt.Errorf("%s exists but its CA %s is about to be created with a new key: it cannot be signed by a new CA; remove it or restore the old CA", certPath, caCertPath)
	}
	if err := pki.VerifySignedBy(cert, inter, caCert, env.start); err != nil {
		// The CA's key signed it, but no client builds the chain: the fix
		// is the CA certificate, not this pair (a new pair would leave
		// every other certificate of the CA failing), as renew says.
		var reissued *pki.ReissuedCAError
		switch {
		case errors.As(err, &reissued) && env.checking && env.planned[caCertPath]:
			return fmt.Errorf("%s is signed with the key %s, but does not chain to the certificate that would be made for that key (%s): restore %s from a backup instead of making it anew; the certificates it signed need no change", certPath, caKeyPath, reissued.Why, caCertPath)
		case errors.As(err, &reissued):
			return fmt.Errorf("%s: %w; %s", certPath, err, reissued.Fix(caCertPath))
		}
		if env.checking && env.planned[caCertPath] {
			return fmt.Errorf("%s is not signed by the key of its CA %s, for which %s is about to be made: restore the right CA key, or remove the certificate and key to make new ones", certPath, caKeyPath, caCertPath)
		}
		return fmt.Errorf("%s is not signed by the CA %s: restore the right CA, or remove the certificate and key to make new ones", certPath, caCertPath)
	}
	if missing := pki.MissingSANs(cert, p.DNSNames, p.IPs); len(missing) > 0 {
		// A joining node's copy of the first node's /etc/kubernetes/pki
		// (kubeadm's manual distribution copies the CAs alone), or a node
		// renamed or re-addressed: its name is in the subject of etcd's, and
		// renew keeps a certificate's subject and cannot drop SANs unasked.
		if slices.ContainsFunc(missing, env.isNodeIdentity) {
			return fmt.Errorf("%s does not cover this node's name or address (%s): it is another node's certificate, copied with the CAs, or this node's before it was renamed or re-addressed: move it and its key aside (keep them until the new pair works), then run this command again to make a new pair", certPath, strings.Join(slices.DeleteFunc(slices.Clone(missing), func(s string) bool { return !env.isNodeIdentity(s) }), ", "))
		}
		// As kubeadm#1447 and #2762 ask: renew --update-sans gives it the
		// configuration's SANs in one transaction, after a backup. It reads
		// them from --config or the ConfigMap, as this run did unless flags
		// set them.
		return fmt.Errorf("%s does not cover the SANs %s that the configuration asks for: give it them with `certctl renew %s --update-sans%s` (one transaction, after a backup; renew reads the SANs from --config or the kubeadm-config ConfigMap, not from flags), or move it and its key aside and run this command again to make a new pair", certPath, strings.Join(missing, ", "), p.Name, env.configFlags())
	}
	warnNotValidNow(env, certPath, p.Name, cert)
	env.logf("[certs] Using the existing %q certificate and key", p.Name)
	return nil
}

// writeCSR writes p's new key (kept as slot says), its CSR and its request
// file under the CSR dir with reqfile's CSR writer, the one of `renew
// --use-csr` too: a key and CSR an earlier run made for the same
// certificate are kept, a key a killed run left gets its CSR, anything
// else there is refused (reqfile.PlanCSR).
func writeCSR(ctx context.Context, env *Env, group string, p, ca pki.Profile, slot reqfile.Slot) error {
	f := reqfile.FilesOf(env.CSRDir, p.BaseName, slot)
	c, err := reqfile.PlanCSR(f, env.requestSpec(p, ca), nil)
	if err != nil {
		return err
	}
	if alg, err := pki.ParseKeyAlgorithm(env.Cluster.EncryptionAlgorithm); err == nil && c.OtherAlgorithm(alg) != "" {
		env.warnf("%s", c.OtherAlgorithm(alg))
	}
	if env.checking {
		if c.Key == nil {
			env.planCreate(f.Key, true)
		}
		if !c.Kept {
			env.planCreate(f.CSR, false)
		}
		if ok, err := env.willExist(f.Request); err != nil {
			return err
		} else if !ok {
			env.planCreate(f.Request, false)
		}
		return nil
	}
	if _, err := c.Write(env.Rand, func() (crypto.Signer, error) { return env.keys.Get(ctx) }); err != nil {
		return err
	}
	env.csrs++
	switch {
	case c.Kept:
		env.logf("[%s] Using the existing %q CSR and key", group, p.Name)
	case c.Key != nil: // left by a run killed between writing the key and the CSR
		env.logf("[%s] Generating %q CSR for the existing key %s: %s", group, p.Name, filepath.Clean(f.Key), filepath.Clean(f.CSR))
	default:
		env.logf("[%s] Generating %q key and CSR: %s", group, p.Name, filepath.Clean(f.CSR))
	}
	return nil
}

// requestSpec is what the request file of p says besides its file names:
// what the CA ca must put in p's certificate that a CSR cannot say (key
// usages, extended key usages, the CA, the validity), for the CA operator
// and for `certctl certs import`, which checks the signed certificate
// against it. The CA is identified by its certificate when one is in the
// cert dir already.
func (env *Env) requestSpec(p, ca pki.Profile) reqfile.Spec {
	// nil when not there yet (the CA operator provides it), or not
	// readable: the import checks the CA certificate that is there then.
	caCert, _, _ := env.store().ReadCert(ca.BaseName)
	return reqfile.Spec{Profile: p, CAName: ca.Name, CAFile: ca.BaseName + ".crt", CA: caCert,
		Validity: env.Cluster.CertificateValidity}
}

// withFix adds to err, about a file that exists but cannot be used, what
// to do: fix the permissions when it cannot be read, else fix.
// caKeyFix is what to do about a CA key that cannot be read: it cannot be
// made again without re-issuing every certificate it signed.
const caKeyFix = "restore it from a backup (a new CA key would mean re-issuing every certificate the CA signed)"

func withFix(err error, fix string) error {
	if errors.Is(err, fs.ErrPermission) {
		return fmt.Errorf("%w: run certctl as root, or fix the permissions", err)
	}
	return fmt.Errorf("%w: %s", err, fix)
}
