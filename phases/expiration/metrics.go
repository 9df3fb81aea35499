package expiration

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"strings"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
)

// The metrics of `check-expiration -o prometheus` and --textfile, for
// node_exporter's textfile collector or any scraper of the text format.
// One series per certificate and CA, labelled with kubeadm's name; they are
// gauges, so an alert compares them with time() or a threshold
// (docs/monitoring.md has a ready rule).
const (
	MetricExpiry      = "certctl_certificate_expiration_timestamp_seconds"
	MetricResidual    = "certctl_certificate_residual_seconds"
	MetricProblem     = "certctl_certificate_problem"
	MetricMissing     = "certctl_certificate_missing"
	MetricExternal    = "certctl_certificate_externally_managed"
	MetricCheckedAt   = "certctl_check_timestamp_seconds"
	MetricRestartOwed = "certctl_restart_owed"
)

// WriteMetrics writes info as Prometheus metrics in the text exposition
// format, encoded by the Prometheus client library (label escaping,
// ordering, HELP and TYPE lines).
func WriteMetrics(w io.Writer, info *Info) error {
	certLabels := []string{"name", "file", "kind", "ca"}
	reg := prometheus.NewPedanticRegistry()
	gauge := func(name, help string, labels ...string) *prometheus.GaugeVec {
		g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels)
		reg.MustRegister(g)
		return g
	}
	expiry := gauge(MetricExpiry, "When the certificate expires (its NotAfter), in seconds since the epoch.", certLabels...)
	residual := gauge(MetricResidual, "Seconds from the check to the certificate's expiry; negative once expired.", certLabels...)
	missing := gauge(MetricMissing, "1 when the certificate's file does not exist.", certLabels...)
	external := gauge(MetricExternal, "1 when the signing CA's key is not on disk (external CA): certctl cannot renew it from the CA.", certLabels...)
	problem := gauge(MetricProblem, "1 for each problem found with the certificate (type: check-expiration's problem type).", append(certLabels, "type")...)
	owed := gauge(MetricRestartOwed, "1 for each static pod that must still be restarted to use renewed certificates.", "component")
	checked := gauge(MetricCheckedAt, "When check-expiration ran, in seconds since the epoch.")

	add := func(c Certificate, kind string) {
		l := prometheus.Labels{"name": label(c.Name), "file": label(c.File), "kind": kind, "ca": label(c.CAName)}
		missing.With(l).Set(boolValue(c.Missing))
		external.With(l).Set(boolValue(c.ExternallyManaged))
		if c.ExpirationDate != nil {
			expiry.With(l).Set(float64(c.ExpirationDate.Unix()))
			residual.With(l).Set(float64(c.ResidualTimeSeconds))
		}
		for _, p := range c.Problems {
			pl := prometheus.Labels{"type": label(string(p.Type))}
			maps.Copy(pl, l)
			problem.With(pl).Set(1)
		}
	}
	for _, c := range info.Certificates {
		add(c, "certificate")
	}
	for _, c := range info.CertificateAuthorities {
		add(c, "ca")
	}
	// A key pair has problems only: no expiry, and no missing series, which
	// alerts read as a certificate's.
	for _, c := range info.KeyPairs {
		for _, p := range c.Problems {
			problem.With(prometheus.Labels{"name": label(c.Name), "file": label(c.File), "kind": "key-pair", "ca": "", "type": label(string(p.Type))}).Set(1)
		}
	}
	// A folder has problems only, as a key pair.
	for _, f := range info.Folders {
		for _, p := range f.Problems {
			problem.With(prometheus.Labels{"name": label(f.Name), "file": label(f.File), "kind": "folder", "ca": "", "type": label(string(p.Type))}).Set(1)
		}
	}
	for _, r := range info.RestartsOwed {
		owed.With(prometheus.Labels{"component": label(r.Component)}).Set(1)
	}
	checked.WithLabelValues().Set(float64(info.CheckedAt.Unix()))

	families, err := reg.Gather()
	if err != nil {
		return fmt.Errorf("gather metrics: %w", err)
	}
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range families {
		if err := enc.Encode(mf); err != nil {
			return fmt.Errorf("encode metric %s: %w", mf.GetName(), err)
		}
	}
	_, err = buf.WriteTo(w)
	return err
}

// label is s as a label value: Prometheus takes UTF-8 only (its client
// panics on anything else), so each invalid byte of a path, as a folder
// named under a Latin-1 locale has, becomes U+FFFD, as in the JSON report.
func label(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for _, r := range s { // an invalid byte is utf8.RuneError, one per byte
		b.WriteRune(r)
	}
	return b.String()
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
