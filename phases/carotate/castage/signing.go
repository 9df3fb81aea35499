package castage

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/certctl/certctl/internal/output"
	"github.com/certctl/certctl/manifests"
	"github.com/certctl/certctl/manifests/staticpods"
	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/pki"
)

// SigningRotation reads the rotation of the CA kube-controller-manager
// signs with (pki.Inventory.ControllerManagerCA) in certDir: its files and
// record, nil when there is none.
func SigningRotation(certDir string) (Files, *Record, error) {
	inv := pki.Kubeadm()
	e, _ := inv.Find(inv.ControllerManagerCA())
	f := FilesOf(certDir, e)
	rec, err := ReadRecord(f.Record)
	return f, rec, err
}

// SigningFiles are the certificate and key kube-controller-manager signs
// with at stage (SigningCert and the key file), spelled as current, the
// file its manifest names now, spells the folder when that is the same
// folder through another path (a symbolic link): its hostPath volumes
// mount that spelling. `certctl ca rotate` writes them at each stage, and
// `certctl signer enable` during a rotation.
func (f Files) SigningFiles(stage, current string) (cert, key string) {
	cert, key = f.SigningCert(stage), f.Key
	if current == "" || slices.Contains(f.certs(), filepath.Clean(current)) || !f.IsCert(current) {
		return cert, key
	}
	dir := filepath.Dir(filepath.Clean(current))
	return filepath.Join(dir, filepath.Base(cert)), filepath.Join(dir, filepath.Base(key))
}

// certs are the rotation's CA certificate files a signing flag may name.
func (f Files) certs() []string { return []string{f.Trust, f.OldCert, f.NewCert} }

// IsCert reports whether path names one of the rotation's CA certificate
// files (the trust file, the old or the new CA), as spelled or through
// another path to the same file.
func (f Files) IsCert(path string) bool {
	return slices.Contains(f.certs(), filepath.Clean(path)) || slices.ContainsFunc(f.certs(), func(c string) bool { return pki.SameFile(c, path) })
}

// SigningCertFiles are the certificates kube-controller-manager's signing
// flags name: --cluster-signing-cert-file's, else those of the per-signer
// flags that are set (perSigner), with the per-signer flags left unset.
func SigningCertFiles(flags map[string]string) (files []string, perSigner bool, unset []string) {
	if cur := flags["cluster-signing-cert-file"]; cur != "" {
		return []string{cur}, false, nil
	}
	for _, f := range manifests.PerSignerCertFlags {
		if v := flags[f]; v != "" {
			files = append(files, v)
		} else {
			unset = append(unset, "--"+f)
		}
	}
	if len(files) == 0 {
		return nil, false, nil
	}
	return files, true, unset
}

// SigningProblem says what is wrong with kube-controller-manager's
// signing flags in manifestDir at a stage of the rotation rec of the CA it
// signs with, whose files are f: a flag that names the trust file, which
// then holds both CAs, a bundle kube-controller-manager's signer refuses
// ("expected 1 certificate"), so that it does not start. The stage pointed
// the flags at the certificate of the CA that signs; `kubeadm upgrade
// apply|node` (and `kubeadm init phase control-plane controller-manager`)
// write kubeadm's manifest again, with ca.crt, and `certctl signer enable`
// writes the stage's flags back. "" when nothing is wrong or there is
// nothing to read: the stages themselves refuse a manifest they cannot
// read.
func SigningProblem(f Files, rec *Record, manifestDir string) string {
	problem, _ := SigningCheck(f, rec, manifestDir)
	return problem
}

// SigningCheck is SigningProblem and the command that fixes it (`certctl
// signer enable` with the manifest and certificate folder).
func SigningCheck(f Files, rec *Record, manifestDir string) (problem, fix string) {
	if manifestDir == "" || !rec.Active() {
		return "", ""
	}
	path, flags := kubeControllerManager(manifestDir)
	if flags == nil {
		return "", ""
	}
	certs, err := pki.ReadParsed(f.Trust, "certificates", pki.ParseCerts)
	if err != nil || len(certs) == 1 {
		return "", ""
	}
	or := ""
	if rec.Stage == StageReissue {
		or = " (or finish the rotation: it points it at " + filepath.Base(f.Trust) + ", which then holds the new CA alone)"
	}
	var named, sets []string
	for _, flag := range append([]string{"cluster-signing-cert-file"}, manifests.PerSignerCertFlags...) {
		if v := flags[flag]; v != "" && (filepath.Clean(v) == f.Trust || pki.SameFile(v, f.Trust)) {
			// The manifest's spelling, the one its hostPath volumes mount.
			named = append(named, "--"+flag+"="+v)
			cert, _ := f.SigningFiles(rec.Stage, v)
			sets = append(sets, "--"+flag+"="+filepath.Join(filepath.Dir(v), filepath.Base(cert)))
		}
	}
	if len(named) == 0 {
		return "", ""
	}
	enable := EnableCommand(path, filepath.Dir(f.Trust), flags["cluster-signing-cert-file"] == "")
	return fmt.Sprintf("kube-controller-manager signs with %s (%s), which holds %d certificates at stage %s: it refuses to start (`kubeadm upgrade` and `kubeadm init phase control-plane` write kubeadm's flags back): run `%s`, which sets %s in it, as stage %s did, and the kubelet restarts it%s",
		strings.Join(named, " "), path, len(certs), rec.Stage, enable, strings.Join(sets, " "), rec.Stage, or), enable
}

// EnableCommand is the `certctl signer enable` that writes the flags of
// the stage into the manifest at path, for the CA files in certDir; with
// --per-signer when the manifest sets the per-signer flags.
func EnableCommand(path, certDir string, perSigner bool) string {
	cmd := "certctl signer enable"
	if perSigner {
		cmd += " --per-signer"
	}
	if path != filepath.Join(staticpods.DefaultManifestDir, "kube-controller-manager.yaml") {
		cmd += " --manifest " + output.ShellQuote(path)
	}
	return cmd + config.FolderFlags(certDir, "")
}

// kubeControllerManager reads kube-controller-manager's manifest in
// manifestDir: its path and signing flags; nil flags when there is none
// or it cannot be read.
func kubeControllerManager(manifestDir string) (string, map[string]string) {
	set, err := staticpods.Load(manifestDir)
	if err != nil {
		return "", nil
	}
	i := slices.IndexFunc(set.Manifests, func(m *staticpods.Manifest) bool { return m.Component == pki.KubeControllerManager })
	if i < 0 {
		return "", nil
	}
	path := set.Manifests[i].Path
	data, err := pki.ReadFile(path)
	if err != nil {
		return "", nil
	}
	flags, err := manifests.SignerFlags(data)
	if err != nil {
		return "", nil
	}
	return path, flags
}
