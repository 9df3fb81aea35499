package carotate

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/certctl/certctl/manifests"
	"github.com/certctl/certctl/manifests/staticpods"
	"github.com/certctl/certctl/pki"
)

// signingProblem says what is wrong with kube-controller-manager's signing
// flags in manifestDir at a stage of the rotation of k that is under way:
// a flag that names the trust file, which then holds both CAs, a bundle
// kube-controller-manager's signer refuses ("expected 1 certificate"), so
// that it does not start. The stage pointed the flags at the certificate
// of the CA that signs; `kubeadm upgrade apply|node` (and `kubeadm init
// phase control-plane controller-manager`) write kubeadm's manifest again,
// with ca.crt. "" when nothing is wrong or there is nothing to read: the
// stages themselves refuse a manifest they cannot read.
func signingProblem(k kind, p paths, rec *Record, manifestDir string) string {
	if !k.signing || manifestDir == "" || !rec.Active() {
		return ""
	}
	set, err := staticpods.Load(manifestDir)
	if err != nil {
		return ""
	}
	i := slices.IndexFunc(set.Manifests, func(m *staticpods.Manifest) bool { return m.Component == pki.KubeControllerManager })
	if i < 0 {
		return ""
	}
	path := set.Manifests[i].Path
	data, err := pki.ReadFile(path)
	if err != nil {
		return ""
	}
	flags, err := manifests.SignerFlags(data)
	if err != nil {
		return ""
	}
	certs, err := readCerts(p.trust)
	if err != nil || len(certs) == 1 {
		return ""
	}
	signs, or := p.oldCert, ""
	if rec.Stage == StageReissue {
		signs, or = p.newCert, " (or finish the rotation: it points it at "+filepath.Base(p.trust)+", which then holds the new CA alone)"
	}
	var named, fix []string
	for _, f := range append([]string{"cluster-signing-cert-file"}, manifests.PerSignerCertFlags...) {
		if v := flags[f]; v != "" && (filepath.Clean(v) == p.trust || sameFile(v, p.trust)) {
			// The manifest's spelling, the one its hostPath volumes mount.
			named = append(named, "--"+f+"="+v)
			fix = append(fix, "--"+f+"="+filepath.Join(filepath.Dir(v), filepath.Base(signs)))
		}
	}
	if len(named) == 0 {
		return ""
	}
	return fmt.Sprintf("kube-controller-manager signs with %s (%s), which holds %d certificates at stage %s: it refuses to start (`kubeadm upgrade` and `kubeadm init phase control-plane` write kubeadm's flags back): set %s in it, as stage %s did, and let the kubelet restart it%s",
		strings.Join(named, " "), path, len(certs), rec.Stage, strings.Join(fix, " "), rec.Stage, or)
}
