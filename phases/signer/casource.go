package signer

import (
	"cmp"
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// CASourceOptions configure a CASource.
type CASourceOptions struct {
	// Now is the clock the new CA's expiry is checked against; time.Now when nil.
	Now func() time.Time
	// Log receives one line per reload and per failed reload; nothing when nil.
	Log *slog.Logger
	// Metrics counts reloads and failed reloads; a new one when nil.
	Metrics *Metrics
	// Accept is asked, on a reload, about a changed pair that passes
	// LoadCA's checks, with the source's name: an error refuses it (signer
	// run: a --*-ca-cert file now holding another CA of the node, a
	// --signer's now holding a node CA). A refused pair is not signed
	// with, and neither is the last good one, which the files no longer
	// hold: Signing fails until the files hold a pair Accept takes, or the
	// last good pair again. Nil accepts every pair. The checks at start
	// are the caller's.
	Accept func(name string, ca *CA) error
}

// CASource holds a signing CA read from its two files and reads them again
// when their contents change, as kube-controller-manager does with its
// --cluster-signing-*-file (k8s.io/apiserver/pkg/server/dynamiccertificates).
// A reload is all or nothing: a new pair is used only if it passes every
// check of LoadCA with bundle (a bundle's first certificate signs, so a CA
// rotation's stages are followed); otherwise the last good CA signs on. Current is safe to
// call from any goroutine, at any time, and so is Check.
type CASource struct {
	name              string
	certFile, keyFile string
	o                 CASourceOptions

	mu      sync.Mutex           // serializes Check
	sum     [2][sha256.Size]byte // of the files cur was read from
	cur     atomic.Pointer[CA]
	refused atomic.Pointer[error] // why the files' pair is refused (Accept); nil: cur signs
}

// LoadCASource reads the CA called name (pki.CAName, ...) from its files
// with LoadCA's checks of a bundle. It fails if they do not pass: a signer must start
// with a good CA.
func LoadCASource(name, certFile, keyFile string, o CASourceOptions) (*CASource, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	o.Log = cmp.Or(o.Log, slog.New(slog.DiscardHandler))
	if o.Metrics == nil {
		o.Metrics = NewMetrics()
	}
	certPEM, keyPEM, err := readCAFiles(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	ca, err := parseCA(certFile, certPEM, keyFile, keyPEM, o.Now(), true)
	if err != nil {
		return nil, err
	}
	s := &CASource{name: name, certFile: certFile, keyFile: keyFile, o: o, sum: sums(certPEM, keyPEM)}
	s.cur.Store(ca)
	// The CA's reload series appear, at zero, before any reload.
	o.Metrics.caReloads.WithLabelValues(name)
	o.Metrics.caFailed.WithLabelValues(name)
	return s, nil
}

// Current returns the last good CA: the one the checks of the other CAs
// compare with, which Signing refuses while the files hold a refused pair.
func (s *CASource) Current() *CA { return s.cur.Load() }

// Signing returns the CA to sign with now: the last good CA, or an error
// while the files hold a pair that Accept refused.
func (s *CASource) Signing() (*CA, error) {
	if err := s.refused.Load(); err != nil {
		return nil, *err
	}
	return s.cur.Load(), nil
}

// Check reads the files again and, if their contents differ from those of
// the current CA, loads the new pair. It reports whether the CA changed. An
// error means the files changed but cannot be used (missing, invalid, a
// certificate whose key has not been replaced yet): the last good CA stays,
// a warning is logged, the failure is counted, and the next Check tries
// again.
func (s *CASource) Check() (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	certPEM, keyPEM, err := readCAFiles(s.certFile, s.keyFile)
	sum := sums(certPEM, keyPEM)
	if err == nil && sum == s.sum {
		if s.refused.Swap(nil) != nil {
			s.o.Log.Info("CA files hold the last good CA again: signing with it", "ca", s.name, "cert", s.certFile, "key", s.keyFile)
		}
		return false, nil
	}
	var ca *CA
	if err == nil {
		ca, err = parseCA(s.certFile, certPEM, s.keyFile, keyPEM, s.o.Now(), true)
	}
	if err != nil {
		s.o.Metrics.caFailed.WithLabelValues(s.name).Inc()
		msg := "CA files changed but cannot be used: still signing with the last good CA; trying again at the next check"
		if s.refused.Load() != nil {
			msg = "CA files changed but cannot be used: still not signing for this CA's names; trying again at the next check"
		}
		s.o.Log.Warn(msg, "ca", s.name, "cert", s.certFile, "key", s.keyFile, "err", err)
		return false, err
	}
	if s.o.Accept != nil {
		if err := s.o.Accept(s.name, ca); err != nil {
			err = fmt.Errorf("CA files %s and %s now hold a CA this signer may not sign with: %w", s.certFile, s.keyFile, err)
			s.refused.Store(&err)
			s.o.Metrics.caFailed.WithLabelValues(s.name).Inc()
			s.o.Log.Warn("CA files changed to a CA that is refused: not signing for this CA's names (their CSRs wait) until the files hold an accepted CA or the last good one again; trying again at the next check",
				"ca", s.name, "cert", s.certFile, "key", s.keyFile, "subject", ca.Cert.Subject.String(), "err", err)
			return false, err
		}
	}
	s.refused.Store(nil)
	s.sum = sum
	s.cur.Store(ca)
	s.o.Metrics.caReloads.WithLabelValues(s.name).Inc()
	s.o.Log.Info("CA reloaded", "ca", s.name, "cert", s.certFile, "key", s.keyFile,
		"subject", ca.Cert.Subject.String(), "serial", ca.Cert.SerialNumber.Text(16),
		"notAfter", ca.Cert.NotAfter.UTC().Format(time.RFC3339))
	return true, nil
}

// sums holds digests rather than the files, so that no copy of the CA
// key's PEM stays in memory.
func sums(certPEM, keyPEM []byte) [2][sha256.Size]byte {
	return [2][sha256.Size]byte{sha256.Sum256(certPEM), sha256.Sum256(keyPEM)}
}

// WatchCAs calls Check on every source at each tick until ctx ends. A
// time.Ticker's channel polls; a test sends its own ticks.
func WatchCAs(ctx context.Context, tick <-chan time.Time, sources ...*CASource) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick:
			for _, s := range sources {
				_, _ = s.Check() // Check logs and counts what went wrong
			}
		}
	}
}
