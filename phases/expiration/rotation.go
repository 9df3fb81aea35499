package expiration

import (
	"cmp"
	"path/filepath"
	"slices"

	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/certctl/certctl/phases/carotate/castage"
	"github.com/certctl/certctl/phases/renewal"
	"github.com/certctl/certctl/pki"
	"github.com/certctl/certctl/pki/kubeconfig"
)

// rotation is a CA rotation in progress: its files and record.
type rotation struct {
	files castage.Files
	rec   *castage.Record
	// signing: kube-controller-manager signs with this CA; kubeconfigs:
	// the kubeconfigs trust it.
	signing, kubeconfigs bool
}

// readRotation reads the rotations in progress of the CA
// kube-controller-manager signs with and of the kubeconfigs' CA: what
// `kubeadm upgrade` and `kubeadm certs renew` undo of their stages is
// reported as `certctl ca status` reports it (castage). A record that
// cannot be read is ca status's and ca rotate's to report.
func (c *checker) readRotation(inv pki.Inventory) {
	c.rotating = map[string]rotation{}
	for _, name := range []string{inv.ControllerManagerCA(), inv.KubeconfigCA()} {
		e, ok := inv.Find(name)
		if !ok {
			continue
		}
		f := castage.FilesOf(c.o.CertDir, e)
		rec, err := castage.ReadRecord(f.Record)
		if err != nil || !rec.Active() {
			continue
		}
		c.rotating[name] = rotation{files: f, rec: rec, signing: name == inv.ControllerManagerCA(), kubeconfigs: name == inv.KubeconfigCA()}
	}
}

// checkSigningFlags reports, on the row of the CA kube-controller-manager
// signs with, signing flags that name the trust file during its rotation.
func (c *checker) checkSigningFlags(row *Certificate) {
	r, ok := c.rotating[row.Name]
	if !ok || !r.signing {
		return
	}
	dir := cmp.Or(c.o.ManifestDir, filepath.Join(filepath.Dir(filepath.Clean(c.o.CertDir)), "manifests"))
	if prob := castage.SigningProblem(r.files, r.rec, dir); prob != "" {
		row.add(RotationSigningFlags, "%s", prob)
	}
}

// checkRotationCAData reports a kubeconfig whose CA data is not the CAs
// of the stage of the rotation of its CA; one whose CA data holds none of
// them is ca-data-mismatch already.
func (c *checker) checkRotationCAData(row *Certificate, cfg *clientcmdapi.Config, t renewal.Target) {
	r, ok := c.rotating[t.CAName]
	if !ok || !r.kubeconfigs || slices.ContainsFunc(row.Problems, func(p Problem) bool { return p.Type == CADataMismatch }) {
		return
	}
	cas, err := kubeconfig.CACerts(cfg)
	if err != nil {
		return
	}
	got := make([]string, len(cas))
	for i, ca := range cas {
		got[i] = castage.Fingerprint(ca)
	}
	if prob := castage.CADataProblem(row.File, got, r.rec, r.files.Trust, true, "certctl renew "+t.Name+c.configFlag()+c.o.FolderFlags); prob != "" {
		row.add(RotationCAData, "%s", prob)
	}
}
