package external

import (
	"context"
	"errors"
	"fmt"
	"io/fs"

	"github.com/certctl/certctl/phases/renewal"
)

// Issuer is an external CA as a renewal.Issuer: its key is not on the
// node. The requests go out as CSR files in CSRDir (WriteCSRs: a new key,
// its CSR and a request file per certificate), and Issue reads back what
// the CA operator put there: each request's signed certificate, with the
// key its CSR was made with. The renewal engine then checks and installs
// them as it does any issuer's. `certctl certs import` reads the same
// files for what renewal cannot describe (a first installation,
// kubelet.conf).
type Issuer struct {
	CSRDir string
}

func (is Issuer) String() string { return "CSR files in " + is.CSRDir + " for an external CA" }

// Issue returns the signed certificate and key of each request, or an
// error naming the first request whose certificate is not there yet.
func (is Issuer) Issue(_ context.Context, reqs []renewal.Request) ([]renewal.Issued, error) {
	out := make([]renewal.Issued, len(reqs))
	for i, r := range reqs {
		f := r.CSRFiles(is.CSRDir, "", "")
		certs, file, err := signed(f)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s: no signed certificate at %s yet: have your CA sign %s (as %s says), then run again", r.Name, f.Cert, f.CSR, f.Request)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		key, _, err := readNewKey(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", r.Name, err)
		}
		certs, _ = leafFirst(certs, key.Public())
		out[i] = renewal.Issued{Cert: certs[0], Key: key}
	}
	return out, nil
}
