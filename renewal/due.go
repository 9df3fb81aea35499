package renewal

import (
	"crypto/x509"
	"os"
	"time"

	"github.com/certctl/certctl/kubeconfig"
	"github.com/certctl/certctl/pki"
)

// NotDue is a target that Due left out: its certificate is valid beyond
// the window.
type NotDue struct {
	Target
	File     string
	NotAfter time.Time
}

// Due splits targets by their certificate's expiry, for renewals run from
// cron (`renew --if-expires-within`): due are the targets whose certificate
// expires before now+within (or has expired), and those whose file is
// missing or cannot be read, which Renew then reports (MISSING, or why it
// cannot renew them) instead of skipping them silently; notDue are the
// others, in the order given. It only reads, and never the clock.
func Due(targets []Target, certDir, kubeconfigDir string, now time.Time, within time.Duration) (due []Target, notDue []NotDue) {
	limit := now.Add(within)
	for _, t := range targets {
		file, cert := CurrentCert(t, certDir, kubeconfigDir)
		if cert == nil || !cert.NotAfter.After(limit) {
			due = append(due, t)
			continue
		}
		notDue = append(notDue, NotDue{Target: t, File: file, NotAfter: cert.NotAfter})
	}
	return due, notDue
}

// CurrentCert returns t's file (the certificate file, or the kubeconfig)
// and the certificate in it; the certificate is nil when the file is
// missing or cannot be read.
func CurrentCert(t Target, certDir, kubeconfigDir string) (string, *x509.Certificate) {
	file := t.File(certDir, kubeconfigDir)
	if t.Kubeconfig {
		cfg, err := kubeconfig.Load(file)
		if err != nil {
			return file, nil
		}
		cert, _, err := kubeconfig.ClientCert(cfg)
		if err != nil {
			return file, nil
		}
		return file, cert
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return file, nil
	}
	certs, err := pki.ParseCerts(data)
	if err != nil {
		return file, nil
	}
	return file, certs[0]
}
