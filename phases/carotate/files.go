package carotate

import (
	"fmt"
	"slices"
	"strings"

	"github.com/certctl/certctl/phases/carotate/castage"
	"github.com/certctl/certctl/pki"
)

// Names lists what `ca rotate` rotates, in the inventory's order: its CAs
// and key pairs.
func Names() []string {
	return mapped(pki.Kubeadm().Select(false, pki.KindCA, pki.KindKeyPair), func(e pki.Entry) string { return e.Name })
}

// kind is one CA, or the sa key pair, and the files it rotates: the
// inventory's facts about it.
type kind struct {
	// entry is the inventory's: its BaseName names the files, its Restart
	// the components that read them only when they start.
	entry pki.Entry
	name  string // entry.Name: pki.CAName, ..., pki.SAName
	sa    bool   // a key pair, not a CA
	// signing: kube-controller-manager signs with this CA
	// (--cluster-signing-cert-file), which cannot read a bundle
	// (pkg/controller/certificates/signer: "expected 1 certificate").
	signing bool
	// kubeconfigs: every kubeconfig's certificate-authority-data is this CA.
	kubeconfigs bool
}

func kindOf(name string) (kind, error) {
	inv := pki.Kubeadm()
	e, ok := inv.Find(name)
	if !ok || e.Kind != pki.KindCA && e.Kind != pki.KindKeyPair {
		return kind{}, fmt.Errorf("unknown CA %q: rotate one of %s", name, strings.Join(Names(), ", "))
	}
	return kind{entry: e, name: e.Name, sa: e.Kind == pki.KindKeyPair, signing: inv.ControllerManagerCA() == e.Name,
		kubeconfigs: inv.KubeconfigCA() == e.Name}, nil
}

// paths are the files of a kind in a certificate folder: castage.Files,
// which check-expiration and signer enable read too, with carotate's
// methods.
type paths struct{ castage.Files }

func (k kind) paths(certDir string) paths { return paths{castage.FilesOf(certDir, k.entry)} }

// orphans lists the files of a rotation in progress (NAME.old.*,
// NAME.new.*) that exist: without a record, its record was lost.
func (p paths) orphans() []string {
	var out []string
	for _, f := range p.stray(StageFinished) {
		if !missing(f) {
			out = append(out, f)
		}
	}
	return out
}

// lostRecord is the refusal when the files of a rotation in progress exist
// without its record: certctl cannot tell the stage, and a new rotation
// would take whatever signs now for the old CA and drop the one the files
// keep.
func (p paths) lostRecord(name string) error {
	orphans := p.orphans()
	if len(orphans) == 0 {
		return nil
	}
	return fmt.Errorf("%s exist but the record %s does not: they are the files of a %s rotation in progress whose record was lost, so certctl cannot tell its stage, and a new rotation would drop the CA they keep: write the record again as docs/ca-rotation.md says (\"A damaged record\": a copy in certctl-backups/*/pki/ is of the stage before the step that made it, so set its stage), or, if no rotation is in progress, move them away; nothing was changed",
		strings.Join(orphans, ", "), p.Record, name)
}

// stray lists the files that must not exist at stage: the key of the CA
// that does not sign is ca.new.key in trust and ca.old.key in reissue;
// after the rotation none of the files that exist only during one is kept.
func (p paths) stray(stage string) []string {
	switch stage {
	case StageTrust:
		return []string{p.OldKey}
	case StageReissue:
		return []string{p.NewKey}
	case StageFinished, StageAborted:
		return slices.DeleteFunc([]string{p.OldCert, p.NewCert, p.OldKey, p.NewKey}, func(s string) bool { return s == "" })
	}
	return nil
}
