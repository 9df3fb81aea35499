package external

import (
	"crypto/x509"
	"fmt"
	"strings"

	"github.com/certctl/certctl/phases/carotate/castage"
	"github.com/certctl/certctl/phases/external/reqfile"
	"github.com/certctl/certctl/phases/renewal"
	"github.com/certctl/certctl/pki"
)

// During a rotation of a CA (certctl ca rotate, docs/ca-rotation.md) its
// trust file holds two CAs, and the one that signs (the first) changes at
// reissue; after finish or an abort the other is gone. A request made,
// or a certificate signed, before a stage is for a CA that no longer
// signs: putting that CA's certificate back, as a changed CA otherwise
// calls for, would undo the stage and leave the node unable to verify
// what the rotation signed.

// rotatedRequest says, when the CA that req was made for is one a
// rotation of t's CA stopped signing with (still in its trust file after
// the first, or the other CA of its record), that the request predates
// the rotation's stage and how to make it again; "" otherwise.
func (im *importer) rotatedRequest(t renewal.Target, req *reqfile.Request, f reqfile.Files, ca *authority) string {
	if !im.rotatedCA(t, req.CA.SHA256, ca) {
		return ""
	}
	return fmt.Sprintf("%s was made for the CA %q with SHA-256 fingerprint %s, which a rotation of the %s CA replaced as the one that signs (`certctl ca status` says its stage): do not put that CA back in %s, which would undo the rotation; make the request again for the CA that signs now, the first certificate of %s (%s), with %s, which keeps %s and %s, have it signed by that CA, and import it",
		f.Request, req.CA.Subject, req.CA.SHA256, t.CAName, ca.path, ca.path, reqfile.Fingerprint(ca.bundle[0]), im.remake(t), f.Key, f.CSR)
}

// rotatedSigner says, when certs (a leaf, then its intermediates) are
// signed by a CA of the trust file that is not its first, the one that
// signs (a rotation in progress: the old CA from reissue, the new one
// before), which CA must sign them; "" otherwise.
func (im *importer) rotatedSigner(t renewal.Target, certs []*x509.Certificate, f reqfile.Files, ca *authority) string {
	for i, c := range ca.bundle {
		if i == 0 || pki.IssuedBy(certs[0], certs[1:], c, im.now) != nil {
			continue
		}
		return fmt.Sprintf("it is signed by certificate %d of %s (%s), a CA the components trust during a rotation of the %s CA but not the one that signs now, the first (%s; `certctl ca status` says the rotation's stage): have %s signed by the first, as its request file says",
			i+1, ca.path, reqfile.Fingerprint(c), t.CAName, reqfile.Fingerprint(ca.bundle[0]), f.CSR)
	}
	return ""
}

// rotatedCA reports whether fp (a request file's CA fingerprint) is a CA
// of t's that a rotation made stop signing: a certificate of its trust
// file after the first, or the record's other CA once the rotation ended.
func (im *importer) rotatedCA(t renewal.Target, fp string, ca *authority) bool {
	for _, c := range ca.bundle[1:] {
		if reqfile.Fingerprint(c) == fp {
			return true
		}
	}
	e, ok := im.inv.Find(t.CAName)
	if !ok {
		return false
	}
	rec, err := castage.ReadRecord(castage.FilesOf(im.o.CertDir, e).Record)
	if err != nil || rec == nil {
		return false
	}
	hex := strings.ToLower(strings.ReplaceAll(fp, ":", ""))
	return hex == rec.OldCA || hex == rec.NewCA
}
