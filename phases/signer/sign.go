package signer

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"crypto/x509"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	certv1 "k8s.io/api/certificates/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"

	"github.com/certctl/certctl/internal/kubeclient"
	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/pki"
	"github.com/certctl/certctl/pki/policy"
)

// SignOptions configure Sign.
type SignOptions struct {
	// CA signs. Required.
	CA *CA
	// Profile gives the usages and maximum validity; nil means the CSR's
	// spec.usages and kubeadm's one-year validity.
	Profile *SigningProfile
	// Rules are the issuance policy's choices: O=system:masters is refused
	// unless Rules.AllowSystemMasters and the requester is allowed, a
	// subject that makes its holder an allowed requester (kubeadm:cluster-admins)
	// is issued only for an allowed requester, and so is every certificate
	// of certctl's signer names, as approve approves it. With no requester
	// group or user, DefaultRequesterGroups are allowed, as for PolicyOptions.
	Rules policy.Rules
	// ControlPlane gives, for a CSR of one of certctl's signer names, the
	// control-plane certificates that name may issue: the request must fit
	// one, as for signer run and approve. A CSR of certctl's names is
	// refused when nil.
	ControlPlane func(ctx context.Context) (*Policy, error)
	// CertDir returns the node's certificate folder (certificatesDir),
	// asked after ControlPlane: a CSR of certctl's signer names is signed
	// only with the CA that name uses (CAFor). When that CA's certificate
	// file is in the folder, CA must be one of its certificates; when it is
	// absent, CA must be none of the folder's other CAs. A CSR of a custom
	// signer name is never signed with one of the folder's CAs, which the
	// control plane trusts (as signer run refuses such a --signer). Nil, or
	// "", skips the check.
	CertDir func() string
	// CertificateValidity returns the cluster's certificate validity
	// (certificateValidityPeriod), asked after ControlPlane: a certificate
	// of certctl's signer names lasts at most that, as signer run issues
	// it. Nil, or 0, leaves the profile's (or one year).
	CertificateValidity func() time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// DryRun writes the certificate as a server-side dry run: the API
	// server checks and authorizes it (may the caller sign for this
	// signer?) and stores nothing.
	DryRun bool
	// Rand is the source of serial numbers and signatures; crypto/rand when nil.
	Rand io.Reader
}

// SignResult says what Sign did.
type SignResult struct {
	Certificate *x509.Certificate
	CSR         *certv1.CertificateSigningRequest
	// Warnings are things the caller should tell the user: the usages differ
	// from the requested ones, the validity was shortened to the CA's.
	Warnings []string
}

// Sign is the manual signer of the Kubernetes documentation (a CA, cfssl,
// jq and `kubectl replace --raw .../status`) in one call: it reads the CSR
// called name, checks its self-signature, signs it with o.CA and writes
// status.certificate through the /status subresource. It refuses a CSR that
// is denied, failed or already issued, and one that is not approved (even
// with --force: certctl never signs one). The request must pass the issuance policy (policy.Rules.CheckSign: never
// unapproved, never kubernetes.io/*, no CA, a strong key, explicit usages,
// O=system:masters only as o.Rules allow), and a request for one of
// certctl's signer names must fit the control-plane certificate it claims
// (o.ControlPlane: Policy.Check, as signer run and approve). The validity is the profile's
// expiry (one year when unset), for certctl's names at most the cluster's
// (o.CertificateValidity), shortened by spec.expirationSeconds and capped
// at the CA's expiry. A certificate for one of certctl's signer names has
// its profile's key usages (issueAs.fits); one for a custom signer name
// has the usages asked for, a subject and an authority key identifier.
func Sign(ctx context.Context, client kubernetes.Interface, name string, o SignOptions) (*SignResult, error) {
	if o.CA == nil {
		return nil, fmt.Errorf("signer: sign CSR %s: no CA", name)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	o.Rand = cmp.Or(o.Rand, rand.Reader)
	if len(o.Rules.RequesterGroups) == 0 && len(o.Rules.RequesterUsers) == 0 {
		o.Rules.RequesterGroups = slices.Clone(DefaultRequesterGroups)
	}
	res := &SignResult{}
	var controlPlane *Policy // read once, for the first CSR of certctl's names
	csrs := client.CertificatesV1().CertificateSigningRequests()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		res.Warnings = nil
		csr, err := csrs.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return fmt.Errorf("get CSR %s: %w", name, kubeclient.Unanswered(err, ""))
		}
		switch {
		case len(csr.Status.Certificate) > 0:
			return fmt.Errorf("CSR %s already has a certificate, which cannot be replaced: create a new CSR", name)
		case IsDenied(csr):
			return fmt.Errorf("CSR %s is denied: certctl does not sign denied requests", name)
		case IsFailed(csr):
			return fmt.Errorf("CSR %s has failed (%s): create a new CSR", name, conditionMessage(csr, certv1.CertificateFailed))
		case !IsApproved(csr):
			return fmt.Errorf("CSR %s is not approved, and certctl never signs an unapproved CSR (--force included): approve it first (certctl approve %s, or, for a request certctl's checks do not cover, kubectl certificate approve %s)", name, name, name)
		}
		req, err := ParseRequest(csr)
		if err != nil {
			return err
		}
		usages, maxValidity := o.Profile.apply(csr.Spec.Usages, config.DefaultCertificateValidity)
		if !sameSet(usages, csr.Spec.Usages) {
			res.Warnings = append(res.Warnings, fmt.Sprintf("the signing configuration's usages %q replace the requested %q", usages, csr.Spec.Usages))
		}
		q := requestOf(csr, req, usages)
		var fits *pki.Profile // the control-plane profile, for certctl's names
		if !IsCertctlName(csr.Spec.SignerName) && inCertctlDomain(csr.Spec.SignerName) {
			return fmt.Errorf("sign CSR %s: its signer name %s is in certctl's domain but none of certctl's signers (%s): deny it, and create the CSR again with the right signer name", name, csr.Spec.SignerName, strings.Join(Names(), ", "))
		}
		if IsCertctlName(csr.Spec.SignerName) {
			if o.ControlPlane == nil {
				return fmt.Errorf("sign CSR %s: its signer name %s is certctl's, whose certificates must fit a control-plane profile: let certctl signer run sign it", name, csr.Spec.SignerName)
			}
			if controlPlane == nil {
				if controlPlane, err = o.ControlPlane(ctx); err != nil {
					return fmt.Errorf("sign CSR %s: %w", name, err)
				}
			}
			if o.CertDir != nil {
				if err := checkSigningCA(o.CertDir(), csr.Spec.SignerName, o.CA); err != nil {
					return fmt.Errorf("sign CSR %s: %w", name, err)
				}
			}
			if o.CertificateValidity != nil {
				if d := o.CertificateValidity(); d > 0 {
					maxValidity = min(maxValidity, d)
				}
			}
			prof, err := controlPlane.Judge(q)
			if err != nil {
				return fmt.Errorf("sign CSR %s: %w; certctl signer run and certctl approve refuse it too", name, err)
			}
			q.ControlPlane = prof.Name // CheckSign checks its requester too
			fits = &prof
		}
		if err := o.Rules.CheckSign(q); err != nil {
			return fmt.Errorf("sign CSR %s: %w", name, err)
		}
		if !IsCertctlName(csr.Spec.SignerName) && o.CertDir != nil {
			if err := checkCustomCA(CustomSigner{Name: csr.Spec.SignerName, CA: o.CA}, nil, o.CertDir()); err != nil {
				return fmt.Errorf("sign CSR %s: %w", name, err)
			}
		}
		v, err := ValidityFor(o.Now(), csr.Spec.ExpirationSeconds, maxValidity, o.CA.Cert)
		if err != nil {
			return fmt.Errorf("sign CSR %s: %w", name, err)
		}
		if v.NotAfter.Equal(o.CA.Cert.NotAfter) {
			res.Warnings = append(res.Warnings, fmt.Sprintf("validity shortened to the CA's expiry, %s", v.NotAfter.UTC().Format(time.RFC3339)))
		}
		certPEM, err := issue(o.Rand, o.CA, req, usages, v, issueAs{fits: fits, keyIDs: fits == nil})
		if err != nil {
			return fmt.Errorf("sign CSR %s: %w", name, err)
		}
		csr.Status.Certificate = certPEM
		updated, err := csrs.UpdateStatus(ctx, csr, metav1.UpdateOptions{DryRun: dryRun(o.DryRun)})
		if err != nil {
			return fmt.Errorf("write certificate of CSR %s: %w", name, err)
		}
		certs, err := pki.ParseCerts(updated.Status.Certificate)
		if err != nil {
			return fmt.Errorf("read back certificate of CSR %s: %w", name, err)
		}
		res.CSR, res.Certificate = updated, certs[0]
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	return res, nil
}

// checkSigningCA checks that ca is the CA that certctl's signerName signs
// with in the certificate folder dir (see SignOptions.CertDir), and does
// not share the key of another CA file there.
func checkSigningCA(dir, signerName string, ca *CA) error {
	want := CAFor(signerName)
	l, err := locateCA(dir, want, ca.Cert)
	switch {
	case err != nil:
		return fmt.Errorf("check the CA of signer %s: %w", signerName, err)
	case l.wantFile != "" && !l.isWant:
		return fmt.Errorf("signer %s signs with %s, %s, and the CA given (%q) is not in that file: pass --ca-cert and --ca-key of %s", signerName, want, l.wantFile, ca.Cert.Subject.CommonName, want)
	case l.other != "":
		return fmt.Errorf("signer %s signs with %s, and the CA given (%q) is %s (%s): pass --ca-cert and --ca-key of %s", signerName, want, ca.Cert.Subject.CommonName, l.other, l.otherFile, want)
	}
	h, err := otherCAWithKey(dir, want, ca.Cert)
	if err != nil {
		return fmt.Errorf("check the CA of signer %s: %w", signerName, err)
	}
	if h.file != "" {
		return fmt.Errorf("signer %s signs with %s, and the CA given (%q) has the key of %s (%s, CA %q): pass --ca-cert and --ca-key of %s", signerName, want, ca.Cert.Subject.CommonName, h.name, h.file, h.cert.Subject.CommonName, want)
	}
	return nil
}

// caLocation is where a CA certificate is among the CA files of a
// certificate folder.
type caLocation struct {
	wantFile         string // the file of the CA looked for; "" when absent
	isWant           bool   // the certificate is one of wantFile's
	other, otherFile string // otherwise, the CA whose file holds it, if any
}

// locateCA looks for cert among the CA files of the certificate folder dir
// (every certificate of each, for a CA rotation's bundle), where the CA
// called want is expected. Nothing is found when dir is "".
func locateCA(dir, want string, cert *x509.Certificate) (caLocation, error) {
	var l caLocation
	if dir == "" {
		return l, nil
	}
	store := pki.Store{Dir: dir}
	for _, e := range pki.Kubeadm().Select(false, pki.KindCA) {
		file := store.CertPath(e.BaseName)
		ok, err := pki.Exists(file)
		if err != nil {
			return l, err
		}
		if !ok {
			continue
		}
		first, rest, err := pki.ReadCertFile(file)
		if err != nil {
			return l, fmt.Errorf("read CA certificate %s: %w", file, err)
		}
		holds := slices.ContainsFunc(append([]*x509.Certificate{first}, rest...), func(c *x509.Certificate) bool { return sameCA(c, cert) })
		switch {
		case e.Name == want:
			l.wantFile, l.isWant = file, holds
			if holds {
				l.other, l.otherFile = "", ""
				return l, nil
			}
		case holds && l.other == "":
			l.other, l.otherFile = e.Name, file
		}
	}
	return l, nil
}

// sameCA reports whether a and b are the same CA: the same subject and key,
// which is what a certificate issued by one verifies against.
func sameCA(a, b *x509.Certificate) bool {
	return bytes.Equal(a.RawSubject, b.RawSubject) && bytes.Equal(a.RawSubjectPublicKeyInfo, b.RawSubjectPublicKeyInfo)
}
