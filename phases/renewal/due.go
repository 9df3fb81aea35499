package renewal

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/certctl/certctl/pki"
)

// NotDue is a target that Due left out: its certificate is valid beyond
// the window.
type NotDue struct {
	Target
	File     string
	NotAfter time.Time
}

// CA is a CA certificate file and its expiry.
type CA struct {
	Name     string // "ca", "etcd-ca", "front-proxy-ca"
	File     string
	NotAfter time.Time
}

// CABound is a target whose certificate ends at or after its CA's expiry,
// which is within the window: no certificate that CA signs can be valid
// longer, so renewing it would not move its expiry out of the window (the
// certificate itself may end beyond it, issued to outlive its CA). Only a
// rotation of the CA helps.
type CABound struct {
	NotDue
	CA CA
}

// Split is how Due sorts targets.
type Split struct {
	// Due are the targets to renew: their certificate expires within the
	// window (or has expired), or their file cannot be read, which Renew
	// then reports instead of skipping it silently.
	Due     []Target
	NotDue  []NotDue
	CABound []CABound
	// Missing are the targets whose file does not exist; `renew all`
	// reports them as MISSING and skips them, as Renew does.
	Missing []Target
	// NotYetValid are the targets of Due whose certificate is not valid
	// yet: every client rejects it until its NotBefore, so it is due
	// whenever it expires.
	NotYetValid []NotYetValid
}

// NotYetValid is a target whose certificate is valid only from NotBefore,
// after now.
type NotYetValid struct {
	Target
	File      string
	NotBefore time.Time
}

// Due sorts targets by their certificate's expiry, for renewals run from
// cron (`renew --if-expires-within`): a certificate is due when it
// expires at or before now+within, so that within 0 renews only what has
// expired, or when it is not valid yet at now (made on a host whose clock
// was ahead, or renewed before this host's clock was set back): clients
// reject it as they reject an expired one, and its renewal is valid from
// now. Each list keeps the order of targets. It only reads, and never the
// clock.
func Due(targets []Target, certDir, kubeconfigDir string, now time.Time, within time.Duration) Split {
	var s Split
	limit := now.Add(within)
	cas := map[string]*CA{}
	for _, t := range targets {
		file, cert := CurrentCert(t, certDir, kubeconfigDir)
		if cert == nil {
			if _, err := os.Lstat(file); errors.Is(err, fs.ErrNotExist) {
				s.Missing = append(s.Missing, t)
			} else {
				s.Due = append(s.Due, t)
			}
			continue
		}
		nd := NotDue{Target: t, File: file, NotAfter: cert.NotAfter}
		if now.Before(cert.NotBefore) {
			s.Due = append(s.Due, t)
			s.NotYetValid = append(s.NotYetValid, NotYetValid{Target: t, File: file, NotBefore: cert.NotBefore})
			continue
		}
		if _, ok := cas[t.CABaseName]; !ok {
			cas[t.CABaseName] = currentCA(t, certDir)
		}
		// A CA that cannot be read is Renew's to report.
		ca := cas[t.CABaseName]
		if cert.NotAfter.After(limit) {
			// A certificate issued to outlive its CA (kubeadm does not
			// cut a leaf to its CA) is valid only until the CA expires:
			// when that is within the window, no renewal can move it out.
			if ca != nil && !ca.NotAfter.After(limit) {
				s.CABound = append(s.CABound, CABound{NotDue: nd, CA: *ca})
				continue
			}
			s.NotDue = append(s.NotDue, nd)
			continue
		}
		if ca != nil && !cert.NotAfter.Before(ca.NotAfter) {
			s.CABound = append(s.CABound, CABound{NotDue: nd, CA: *ca})
			continue
		}
		s.Due = append(s.Due, t)
	}
	return s
}

// LimitedByCA returns the renewed certificates that still expire within
// the window because their CA does (WithinWindow).
func LimitedByCA(renewed []Renewed, certDir string, now time.Time, within time.Duration) []CABound {
	caBound, _ := WithinWindow(renewed, certDir, now, within)
	return caBound
}

// WithinWindow sorts the renewed certificates that still expire within
// the window. caBound end at or after their CA's expiry (or were cut to
// it), so that the next run could not move them either. short end before
// their CA does: their issuer gave them less validity than the window, as
// a signer of the certificates API with a shorter maximum does, so that
// the next run with the same window renews them again. It only reads, and
// never the clock.
func WithinWindow(renewed []Renewed, certDir string, now time.Time, within time.Duration) (caBound []CABound, short []NotDue) {
	limit := now.Add(within)
	for _, r := range renewed {
		if r.NotAfter.After(limit) {
			continue
		}
		file := "" // Files[0] is the certificate or kubeconfig Renew replaced
		if len(r.Files) > 0 {
			file = r.Files[0]
		}
		nd := NotDue{Target: r.Target, File: file, NotAfter: r.NotAfter}
		switch ca := currentCA(r.Target, certDir); {
		case ca != nil && (!r.NotAfter.Before(ca.NotAfter) || r.Capped):
			caBound = append(caBound, CABound{NotDue: nd, CA: *ca})
		case !r.Capped:
			short = append(short, nd)
		}
	}
	return caBound, short
}

// CAExpiryError is the error of a run whose certificates cannot be renewed
// out of the window because their CAs expire within it. The fix is a CA
// rotation (`certctl ca rotate`, docs/ca-rotation.md), not a renewal.
type CAExpiryError struct {
	Now    time.Time
	Within time.Duration
	// CAs are the CAs at fault, each with the names of its certificates.
	CAs []CALimit
}

// CALimit is a CA that expires within the window and the certificates it
// holds in it.
type CALimit struct {
	CA
	Names []string
}

// Add records that b's certificate cannot be renewed out of the window.
func (e *CAExpiryError) Add(b CABound) {
	i := slices.IndexFunc(e.CAs, func(l CALimit) bool { return l.File == b.CA.File })
	if i < 0 {
		e.CAs = append(e.CAs, CALimit{CA: b.CA})
		i = len(e.CAs) - 1
	}
	if !slices.Contains(e.CAs[i].Names, b.Name) {
		e.CAs[i].Names = append(e.CAs[i].Names, b.Name)
	}
}

func (e *CAExpiryError) Error() string {
	when := func(l CALimit) string {
		if l.NotAfter.After(e.Now) {
			return "expires at " + l.NotAfter.UTC().Format(time.RFC3339)
		}
		return "expired at " + l.NotAfter.UTC().Format(time.RFC3339)
	}
	const fix = "cannot move their expiry out of the window; rotate the %s (certctl does not renew CAs: `certctl ca rotate`, docs/ca-rotation.md)"
	if len(e.CAs) == 1 {
		l := e.CAs[0]
		return fmt.Sprintf("the CA %s %s, within --if-expires-within %s, and no certificate it signs can be valid longer: renewing %s again "+fix,
			l.File, when(l), e.Within, strings.Join(l.Names, ", "), "CA")
	}
	var cas []string
	for _, l := range e.CAs {
		cas = append(cas, fmt.Sprintf("%s (%s: %s)", l.File, when(l), strings.Join(l.Names, ", ")))
	}
	list := strings.Join(cas[:len(cas)-1], ", ") + " and " + cas[len(cas)-1]
	return fmt.Sprintf("the CAs %s expire within --if-expires-within %s, and no certificate a CA signs can be valid longer: renewing those certificates again "+fix,
		list, e.Within, "CAs")
}

// CurrentCert returns t's file (the certificate file, or the kubeconfig)
// and the certificate in it; the certificate is nil when the file is
// missing or cannot be read.
func CurrentCert(t Target, certDir, kubeconfigDir string) (string, *x509.Certificate) {
	s := slotOf(t, certDir, kubeconfigDir)
	return s.file(), s.current()
}

// currentCA returns t's CA certificate file and its expiry; nil when the
// file is missing or cannot be read.
func currentCA(t Target, certDir string) *CA {
	file := pki.Store{Dir: certDir}.CertPath(t.CABaseName)
	if ca, _ := pki.LoadCA(file, "", time.Time{}); ca != nil {
		return &CA{Name: t.CAName, File: file, NotAfter: ca.Cert.NotAfter}
	}
	return nil
}
