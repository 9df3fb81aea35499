package phases

import (
	"fmt"

	"github.com/certctl/certctl/internal/output"
	"github.com/certctl/certctl/phases/carotate/castage"
	"github.com/certctl/certctl/pki"
)

// rotatingTrustFile refuses to make the trust file of name (ca.crt, or
// sa.pub for the service-account key pair) again from its key alone
// while a rotation of it is in progress (certctl ca rotate,
// docs/ca-rotation.md): the file then holds both CAs (public keys), the
// one the key matches first, and one made from the key would drop the
// other, which the components must still trust: at reissue the old CA,
// whose certificates (the kubelet's own) and tokens are still in use.
// nil when no rotation of name is in progress.
func rotatingTrustFile(certDir, name string) error {
	e, ok := pki.Kubeadm().Find(name)
	if !ok {
		return nil
	}
	f := castage.FilesOf(certDir, e)
	rec, err := castage.ReadRecord(f.Record)
	if err != nil || !rec.Active() {
		return err
	}
	q, what := output.ShellQuote, "CAs"
	put := fmt.Sprintf("cat %s %s > %s", q(f.OldCert), q(f.NewCert), q(f.Trust))
	if rec.Stage == castage.StageReissue {
		put = fmt.Sprintf("cat %s %s > %s", q(f.NewCert), q(f.OldCert), q(f.Trust))
	}
	if e.Kind == pki.KindKeyPair {
		other := f.NewKey
		if rec.Stage == castage.StageReissue {
			other = f.OldKey
		}
		put = fmt.Sprintf("(openssl pkey -in %s -pubout; openssl pkey -in %s -pubout) > %s", q(f.Key), q(other), q(f.Trust))
		what = "public keys"
	}
	return fmt.Errorf("%s is missing, but a rotation of %s is at stage %s (record %s): that file must hold both of the rotation's %s, the one %s matches first, and one made from %s alone would drop the other, which the components still trust: put it back (`%s`), then run again; `certctl ca status` checks it; nothing was changed",
		f.Trust, name, rec.Stage, f.Record, what, f.Key, f.Key, put)
}
