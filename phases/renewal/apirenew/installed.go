package apirenew

import (
	"errors"
	"fmt"
	"strings"

	"github.com/certctl/certctl/phases/renewal"
	"github.com/certctl/certctl/pki"
)

// alreadyInstalled checks, for Issue, whether the certificates obtained
// are on disk already: two runs of the same command wait on the same CSRs
// (the same pending keys), and both get the certificates once approved;
// the one that gets certctl's lock first installs them. Installing them
// again would make a second backup holding the new certificates (the old
// ones only in the first, which --keep-backups may prune) and restart the
// control plane twice.
//
// When every certificate obtained is installed, it says so and returns
// Options.AlreadyInstalled: nothing to do. When only some are (two runs
// for different certificates), it fails: renewal installs all or none.
// A certificate counts as installed when the one on disk (req.Current,
// read under the lock) is the one issued, or is for its key.
func (is *Issuer) alreadyInstalled(reqs []renewal.Request) error {
	var done, rest []string
	for _, r := range reqs {
		got, ok := is.got[r.Name]
		if ok && (r.Current.Equal(got.Cert) || pki.SamePublicKey(r.Current.PublicKey, got.Key.Public())) {
			done = append(done, r.Name)
		} else {
			rest = append(rest, r.Name)
		}
	}
	switch {
	case len(done) == 0:
		return nil
	case len(rest) > 0:
		return fmt.Errorf("%s: installed by another certctl while this one waited for the lock, but not %s: nothing was changed; run the same command again with only %s (their CSRs are issued: it picks them up)",
			strings.Join(done, ", "), strings.Join(rest, ", "), strings.Join(rest, " "))
	}
	var errs []error
	for _, n := range done {
		// As renew's [skip] of one another run renewed from the CA on disk.
		fmt.Fprintf(is.o.Out, "[skip] %s: renewed by another certctl while this one waited for the lock (the certificate of CSR %s)\n", n, is.csrs[n])
		// The other run removed it, unless it was killed first.
		errs = append(errs, is.pending.remove(n, is.got[n].Key.Public()))
	}
	if err := errors.Join(errs...); err != nil {
		fmt.Fprintf(is.o.Out, "[warning] %v: %s\n", err, RemovedNext)
	}
	if is.o.AlreadyInstalled != nil {
		return is.o.AlreadyInstalled
	}
	return fmt.Errorf("%s: already installed by another run; nothing to do", strings.Join(done, ", "))
}
