package carotate

import (
	"fmt"
	"strings"
	"time"

	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/pki"
)

// warnShortLived warns, at trust and at reissue, when the new CA expires
// before the certificates it signs at reissue would: pki.Sign cuts them to
// the CA's end, and the cluster stops trusting them then. A warning, not a
// refusal, as kubeadm warns of a certificate validity longer than the CA
// validity: the validity was chosen (--ca-certificate-validity, the
// --config file, or the CA given with --new-ca-cert), and before finish
// --abort goes back to the old CA. file is the new CA's certificate; not
// for sa, which has none.
func (r *run) warnShortLived(notAfter time.Time, file string) {
	leaves := r.o.Validity
	if leaves == 0 {
		leaves = config.DefaultCertificateValidity
	}
	if !notAfter.Before(r.now.Add(leaves)) {
		return
	}
	fmt.Fprintf(r.o.Warn, "[warning] the new %s CA %s expires on %s, before the certificates it signs at reissue would (certificate validity %s): they are cut to that date, and the cluster stops trusting them then; if that is not what you want, go back with `%s --abort` before finish and rotate with a CA that lasts longer (--ca-certificate-validity, or --new-ca-cert)\n",
		r.k.name, file, notAfter.UTC().Format(time.RFC3339), leaves, r.o.command(r.k))
}

// newCAEnd is when the new CA of a trust stage expires: the given one's
// end, or the one generate makes (newCAValidity).
func (r *run) newCAEnd() time.Time {
	if r.given {
		return r.m.new.cert.NotAfter
	}
	return r.newCAValidity().NotAfter
}

// newCAValidity is the validity of a new CA that trust generates.
func (r *run) newCAValidity() pki.Validity {
	return pki.NewValidity(r.now, config.CertificateBackdate, r.o.CAValidity)
}

// warnDropped warns, at trust, of what the trust file holds besides the
// old CA (or, for sa, its public key): an intermediate's root, the CA of
// an earlier rotation made by hand. Trust writes the old CA then the new
// one, as every stage writes the file whole, so they leave it, and the
// components stop trusting what they signed once they restart.
func (r *run) warnDropped() {
	ids, err := trusted(r.k, r.p.Trust)
	if err != nil {
		return
	}
	var dropped []string
	for _, id := range ids {
		if id != r.m.old.id() {
			dropped = append(dropped, id)
		}
	}
	if len(dropped) == 0 {
		return
	}
	what, them := "certificates", "what they signed"
	if r.k.sa {
		what, them = "public keys", "the tokens of their keys"
	}
	fmt.Fprintf(r.o.Warn, "[warning] %s holds %d %s: the rotation keeps the one %s matches, adds the new one, and drops the others (sha256 %s) at every stage (--abort too keeps the old one alone), so the components stop trusting %s once they restart after trust; the backup trust makes in certctl-backups keeps %s as it was\n",
		r.p.Trust, len(ids), what, r.p.Key, strings.Join(mapped(dropped, func(id string) string { return id[:min(len(id), 16)] }), ", "), them, r.p.Trust)
}
