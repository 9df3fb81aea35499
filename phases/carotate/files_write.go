package carotate

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/certctl/certctl/internal/atomicfile"
	"github.com/certctl/certctl/internal/txn"
	"github.com/certctl/certctl/manifests"
	"github.com/certctl/certctl/manifests/staticpods"
	"github.com/certctl/certctl/phases/carotate/castage"
	"github.com/certctl/certctl/phases/renewal"
	"github.com/certctl/certctl/pki"
	"github.com/certctl/certctl/pki/kubeconfig"
)

// keyFile is the file that writes key at path, readable by its owner only.
func keyFile(path string, s side) (txn.File, error) {
	data, err := pki.MarshalPrivateKey(s.key)
	if err != nil {
		return txn.File{}, err
	}
	f, err := renewal.Replacing(path, data, pki.KeyMode)
	f.Mode &^= 0o077
	return f, err
}

// certFile is the file that writes s's certificate alone at path.
func certFile(path string, s side) (txn.File, error) {
	return renewal.Replacing(path, pki.EncodeCert(s.cert), pki.CertMode)
}

// bundle is the trust file's content: each side's certificate (public
// key for sa), in order.
func bundle(sides ...side) ([]byte, error) {
	var out []byte
	for _, s := range sides {
		b, err := s.trustPEM()
		if err != nil {
			return nil, err
		}
		out = append(out, b...)
	}
	return out, nil
}

// trustFile is the bundle file of k holding sides, in order.
func trustFile(k kind, p paths, sides ...side) (txn.File, error) {
	data, err := bundle(sides...)
	if err != nil {
		return txn.File{}, err
	}
	mode := pki.CertMode
	if k.sa {
		mode = pki.KeyMode // as kubeadm writes sa.pub
	}
	return renewal.Replacing(p.Trust, data, mode)
}

// caDataFiles sets the certificate-authority-data of the kubeconfigs hs
// to sides, in order, every other byte of their meaning kept. One that
// names a CA file instead is left as it is: that file is not certctl's.
func caDataFiles(hs []held, sides ...side) ([]txn.File, error) {
	data, err := bundle(sides...)
	if err != nil {
		return nil, err
	}
	var out []txn.File
	for _, h := range hs {
		if h.entry.Kind != pki.KindKubeconfig {
			continue
		}
		cfg, err := kubeconfig.Load(h.file)
		if err != nil {
			return nil, err
		}
		cfg = cfg.DeepCopy()
		_, cluster, _, _, err := kubeconfig.Current(cfg)
		if err != nil {
			return nil, fmt.Errorf("kubeconfig %s: %w", h.file, err)
		}
		if cluster.CertificateAuthority != "" {
			continue
		}
		cluster.CertificateAuthorityData = data
		enc, err := clientcmd.Write(*cfg)
		if err != nil {
			return nil, fmt.Errorf("encode kubeconfig %s: %w", h.file, err)
		}
		f, err := renewal.Replacing(h.file, enc, kubeconfig.Mode)
		if err != nil {
			return nil, err
		}
		f.Mode &^= 0o077
		out = append(out, f)
	}
	return out, nil
}

// signingFiles points kube-controller-manager's --cluster-signing-cert-file
// and --cluster-signing-key-file at the files it signs with at stage
// (castage.Files.SigningFiles, which `signer enable` writes too during a
// rotation), by a text
// edit of its static pod manifest in ManifestDir that keeps every other
// byte (manifests.EnableSigner), with a copy of the old manifest in the
// backups of the certificate folder: a file
// NAME.ca-rotation-TIME-CA-STEP, which `certctl restore` does not list (it
// lists folders); a copy in the manifest folder would run as a second pod.
// It changes nothing when the signer is off (kubeadm's external-CA mode)
// or signs with files that are not the rotated CA's (it warns then). The
// per-signer flags (`signer enable --per-signer`) follow the stage as the
// general pair does, all three or none: a rotation of a CA that some of
// them name and others do not is refused.
func (r *run) signingFiles(stage string) ([]txn.File, error) {
	k, p, manifestDir := r.k, r.p, r.o.ManifestDir
	root, err := renewal.BackupRoot(r.o.CertDir)
	if err != nil {
		return nil, err
	}
	if !k.signing || manifestDir == "" {
		return nil, nil
	}
	set, err := staticpods.Load(manifestDir)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(set.Manifests, func(m *staticpods.Manifest) bool { return m.Component == pki.KubeControllerManager })
	if i < 0 {
		return nil, fmt.Errorf("%s has no manifest of kube-controller-manager, whose signing files must be one certificate during the rotation of %s: pass --manifest-dir, the kubelet's staticPodPath", manifestDir, k.name)
	}
	path := set.Manifests[i].Path
	data, err := pki.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read manifest %s: %w", path, err)
	}
	flags, err := manifests.SignerFlags(data)
	if err != nil {
		return nil, fmt.Errorf("manifest %s: %w", path, err)
	}
	files, perSigner, unset := castage.SigningCertFiles(flags)
	if len(files) == 0 {
		return nil, nil
	}
	cur := files[0]
	switch {
	case !slices.ContainsFunc(files, p.IsCert):
		fmt.Fprintf(r.o.Warn, "[warning] kube-controller-manager signs with %s (%s), not with the %s CA: its manifest is left as it is\n", cur, path, k.name)
		return nil, nil
	case slices.ContainsFunc(files, func(f string) bool { return !p.IsCert(f) }) || len(unset) > 0:
		// One edit would point every signer at this CA.
		return nil, fmt.Errorf("kube-controller-manager's per-signer flags in %s do not all name the %s CA's files (%s; unset: %s): during the rotation every signer must sign with one certificate, and kube-controller-manager refuses the bundle %s: point every pair at %s and %s (as `certctl signer enable --per-signer` does when no rotation is under way), then run this again",
			path, k.name, strings.Join(files, ", "), cmp.Or(strings.Join(unset, ", "), "none"), p.Trust, p.Trust, p.Key)
	}
	certPath, keyPath := p.SigningFiles(stage, cur)
	out, changes, err := manifests.EnableSigner(data, manifests.SignerOptions{CertFile: certPath, KeyFile: keyPath, PerSigner: perSigner})
	if err != nil {
		return nil, fmt.Errorf("edit manifest %s: %w", path, err)
	}
	if len(changes) == 0 {
		return nil, nil
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("stat manifest %s: %w", path, err)
	}
	backup := filepath.Join(root, filepath.Base(path)+".ca-rotation-"+r.now.UTC().Format("20060102T150405Z")+"-"+k.name+"-"+r.step)
	return []txn.File{
		{Target: backup, Data: data, Mode: st.Mode().Perm(), UID: -1, GID: -1},
		{Target: path, Data: out, Mode: st.Mode().Perm(), UID: -1, GID: -1},
	}, nil
}

// removeFiles removes files that may exist, then fsyncs their folders.
func removeFiles(files []string) error {
	dirs := map[string]bool{}
	for _, f := range files {
		if err := os.Remove(f); err == nil {
			dirs[filepath.Dir(f)] = true
		} else if !os.IsNotExist(err) {
			return fmt.Errorf("remove %s: %w", f, err)
		}
	}
	for d := range dirs {
		if err := atomicfile.SyncDir(d); err != nil {
			return err
		}
	}
	return nil
}
