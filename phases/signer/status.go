package signer

import (
	"cmp"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	certv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/certctl/certctl/internal/output"
	"github.com/certctl/certctl/manifests"
	"github.com/certctl/certctl/phases/carotate/castage"
	"github.com/certctl/certctl/pki"
	"github.com/certctl/certctl/pki/policy"
)

// SignerStatus is the versioned schema of `certctl signer status -o
// json|yaml` (output.certctl.io/v1: fields are only added, never renamed,
// removed or given another meaning). It says what can be known from the
// node alone: what kube-controller-manager's manifest turns on, and which
// CA files are here. Whether a `certctl signer run` runs, here or in a pod,
// only the cluster knows.
type SignerStatus struct {
	Kind       string `json:"kind"` // "SignerStatus"
	APIVersion string `json:"apiVersion"`
	// BuiltIn is kube-controller-manager's signer, as its manifest sets it.
	BuiltIn BuiltInSigner `json:"builtIn"`
	// Signers are the signer names of control-plane certificates: the
	// built-in ones kube-controller-manager serves, then certctl's.
	Signers []SignerEntry `json:"signers"`
}

// BuiltInSigner is kube-controller-manager's signer.
type BuiltInSigner struct {
	Manifest string `json:"manifest"`
	// Enabled: the manifest gives the signer a CA (the general pair or a
	// per-signer pair) and --controllers does not turn csrsigning off.
	Enabled bool `json:"enabled"`
	// State is "on" (Enabled), "off", or "unknown": the manifest is there
	// but certctl cannot tell what it passes to kube-controller-manager
	// (it cannot be read or parsed, or its command is not
	// kube-controller-manager itself, as in a shell wrapper); Enabled is
	// false then, and Reason says why.
	State string `json:"state"`
	// Reason says why it is off, or why its state is unknown.
	Reason string `json:"reason,omitempty"`
	// Flags are the signing flags the manifest sets, by name without "--".
	Flags map[string]string `json:"flags"`
	// Duration is --cluster-signing-duration, "" when not set (8760h).
	Duration string `json:"duration,omitempty"`
	// Problems say why kube-controller-manager will not sign with the
	// files the flags name although they are set: a certificate file
	// that holds more than one certificate, which its signer refuses, so
	// that it does not start.
	Problems []string `json:"problems,omitempty"`
}

// SignerEntry is one signer name.
type SignerEntry struct {
	Name string `json:"name"`
	// SignedBy is "kube-controller-manager" or "certctl signer run".
	SignedBy string `json:"signedBy"`
	// State: for the built-in signer "on", "off" or "unknown" (as
	// BuiltIn.State); for certctl's "ready"
	// (the CA certificate and key are on this node and `certctl signer
	// run` here can sign with them), "ca-unusable" (they are there, but
	// signer run refuses them: Problem says why), "no-ca-key" (only the CA
	// certificate: an external CA, or a signer run elsewhere with the key),
	// "no-ca".
	State string `json:"state"`
	// Problem is why the CA files cannot sign, with State "ca-unusable".
	Problem string `json:"problem,omitempty"`
	CAName  string `json:"caName,omitempty"`
	CACert  string `json:"caCert,omitempty"`
	CAKey   string `json:"caKey,omitempty"`
	// Certificates are kubeadm's certificates it issues.
	Certificates []string `json:"certificates"`
}

// The three signers of certificates.k8s.io/v1 kube-controller-manager
// signs with, and their per-signer flags
// (cmd/kube-controller-manager/app/options/csrsigningcontroller.go).
var builtInSigners = []struct{ name, flag string }{
	{certv1.KubeAPIServerClientSignerName, "cluster-signing-kube-apiserver-client"},
	{certv1.KubeAPIServerClientKubeletSignerName, "cluster-signing-kubelet-client"},
	{certv1.KubeletServingSignerName, "cluster-signing-kubelet-serving"},
}

// Status reads kube-controller-manager's manifest and the CA files in
// certDir. A manifest that is missing or unreadable is reported in
// BuiltIn.Reason, not an error: on a node without it, certctl's signers
// may still sign.
func Status(manifest, certDir string, now time.Time) (*SignerStatus, error) {
	s := &SignerStatus{Kind: "SignerStatus", APIVersion: "output.certctl.io/v1", BuiltIn: BuiltInSigner{Manifest: manifest, Flags: map[string]string{}}}
	s.BuiltIn.read(certDir)
	inv := pki.Kubeadm()
	store := pki.Store{Dir: certDir}
	clusterCA, _ := inv.Find(pki.CAName)
	for _, b := range builtInSigners {
		e := SignerEntry{Name: b.name, SignedBy: "kube-controller-manager", State: "off", Certificates: []string{}}
		e.CACert, e.CAKey = s.BuiltIn.files(b.flag)
		if e.CACert == store.CertPath(clusterCA.BaseName) {
			e.CAName = clusterCA.Name
		}
		switch {
		case s.BuiltIn.State == "unknown":
			e.State = "unknown"
		case s.BuiltIn.Enabled && e.CACert != "":
			e.State = "on"
		}
		for _, c := range inv {
			if c.Builtin == b.name {
				e.Certificates = append(e.Certificates, c.CertName())
			}
		}
		s.Signers = append(s.Signers, e)
	}
	for _, name := range inv.Signers() {
		e := SignerEntry{Name: name, SignedBy: "certctl signer run", Certificates: []string{}}
		for _, c := range inv {
			if c.Signer == name {
				e.CAName = c.CAName
				e.Certificates = append(e.Certificates, c.CertName())
			}
		}
		ca, _ := inv.Find(e.CAName) // every issued row's CA is a row (pki's TestKubeadmInventory)
		e.CACert, e.CAKey = store.CertPath(ca.BaseName), store.KeyPath(ca.BaseName)
		certOK, err := pki.Exists(e.CACert)
		if err != nil {
			return nil, err
		}
		keyOK, err := pki.Exists(e.CAKey)
		if err != nil {
			return nil, err
		}
		switch {
		case !certOK:
			e.State = "no-ca"
		case !keyOK:
			e.State = "no-ca-key"
		default:
			e.State = "ready"
			// As signer run loads them at start (LoadCA), so that "ready"
			// is never a signer that refuses to start, nor one that signs
			// nothing: a CA that expires before a certificate of
			// policy.MinValidity would (ValidityFor).
			ca, err := LoadCA(e.CACert, e.CAKey, now, true)
			if err == nil {
				_, err = ValidityFor(now, nil, policy.MinValidity, ca.Cert)
			}
			if err != nil {
				e.State, e.Problem = "ca-unusable", err.Error()
			}
		}
		s.Signers = append(s.Signers, e)
	}
	return s, nil
}

// read fills b from its manifest; certDir holds the CA files (checkFiles).
// A manifest that is there but whose signing flags cannot be read (a
// command wrapped in a shell: `sh -c "kube-controller-manager ..."`) leaves
// the signer's state unknown, not off: it may well sign.
func (b *BuiltInSigner) read(certDir string) {
	b.State = "off"
	data, err := pki.ReadFile(b.Manifest)
	if err != nil {
		b.State = "unknown"
		b.Reason = fmt.Sprintf("cannot read the manifest: %v: whether kube-controller-manager signs is unknown (pass --manifest if it is elsewhere)", err)
		if errors.Is(err, fs.ErrNotExist) {
			b.State = "off"
			b.Reason = "no manifest " + b.Manifest + ": not a control-plane node, or pass --manifest"
		}
		return
	}
	flags, err := manifests.SignerFlags(data)
	if err != nil {
		b.State = "unknown"
		b.Reason = fmt.Sprintf("cannot read the signing flags of the manifest: %v: whether kube-controller-manager signs is unknown", err)
		return
	}
	b.Duration = flags["cluster-signing-duration"]
	delete(flags, "cluster-signing-duration")
	maps.Copy(b.Flags, flags)
	set := slices.ContainsFunc(builtInSigners, func(s struct{ name, flag string }) bool {
		c, _ := b.files(s.flag)
		return c != ""
	})
	pod, err := manifests.Parse(data)
	if err != nil { // SignerFlags parsed it
		b.State = "unknown"
		b.Reason = fmt.Sprintf("cannot read the manifest: %v: whether kube-controller-manager signs is unknown", err)
		return
	}
	controllers, controllersSet := "", false
	if c, err := manifests.FindComponent(pod, pki.KubeControllerManager); err == nil {
		controllers, controllersSet = manifests.Controllers(c)
		b.checkFiles(pod, c, certDir)
	}
	signing := manifests.CSRSigningEnabled(controllers, controllersSet)
	refused := ""
	if signing {
		refused = b.refusal(certDir)
	}
	switch {
	case refused != "":
		b.Reason = "kube-controller-manager does not start with these signing flags (problem below)"
		b.Problems = append(b.Problems, refused)
	case !set:
		b.Reason = "--cluster-signing-cert-file and --cluster-signing-key-file are empty or not set (kubeadm's external-CA mode): `certctl signer enable` turns it on"
	case !signing:
		b.Reason = fmt.Sprintf("--controllers=%s turns the csrsigning controller off: `certctl signer enable` turns it on", controllers)
	default:
		b.Enabled, b.State = true, "on"
	}
}

// refusal says why kube-controller-manager would not start with the
// signing flags of b, as its csrsigning controller decides
// (cmd/kube-controller-manager/app/certificates.go,
// startCSRSigningController): the general pair set together with a
// per-signer file ("cannot specify default and per controller certs at the
// same time"), a per-signer pair with one file only (that signer is
// started and cannot read the missing file), or a
// --cluster-signing-duration that pflag cannot read (it prints its usage).
// "" when it would start. What
// `kubeadm upgrade` writes (the general pair on ca.crt) beside per-signer
// flags kept in extraArgs is the first case.
func (b *BuiltInSigner) refusal(certDir string) string {
	if _, err := time.ParseDuration(b.Duration); b.Duration != "" && err != nil {
		perSigner := slices.ContainsFunc(manifests.PerSignerCertFlags, func(f string) bool { return b.Flags[f] != "" })
		return fmt.Sprintf("--cluster-signing-duration=%s is not a duration kube-controller-manager reads (%v): it prints its usage and does not start; `%s --cluster-signing-duration 8760h` sets one (8760h is its default)",
			b.Duration, err, castage.EnableCommand(b.Manifest, certDir, perSigner))
	}
	general := b.Flags["cluster-signing-cert-file"] != "" && b.Flags["cluster-signing-key-file"] != ""
	prefixes := map[string]bool{}
	for k := range b.Flags {
		for _, suffix := range []string{"-cert-file", "-key-file"} {
			if p, ok := strings.CutSuffix(k, suffix); ok && p != "cluster-signing" {
				prefixes[p] = true
			}
		}
	}
	var perSigner, half []string
	for _, p := range slices.Sorted(maps.Keys(prefixes)) {
		cert, key := b.Flags[p+"-cert-file"], b.Flags[p+"-key-file"]
		if cert != "" || key != "" {
			perSigner = append(perSigner, "--"+p+"-*")
		}
		if (cert == "") != (key == "") {
			half = append(half, "--"+p+"-*")
		}
	}
	switch {
	case general && len(perSigner) > 0:
		return fmt.Sprintf("--cluster-signing-cert-file and --cluster-signing-key-file are set together with the per-signer flags %s, which kube-controller-manager refuses (\"cannot specify default and per controller certs at the same time\"): it does not start; keep one kind: `%s` (the general pair) or `%s`",
			strings.Join(perSigner, ", "), castage.EnableCommand(b.Manifest, certDir, false), castage.EnableCommand(b.Manifest, certDir, true))
	case len(half) > 0:
		return fmt.Sprintf("the per-signer flags %s set a certificate file without its key file or the other way round: kube-controller-manager starts that signer without the missing file and does not start; set both files: `%s`",
			strings.Join(half, ", "), castage.EnableCommand(b.Manifest, certDir, true))
	}
	return ""
}

// checkFiles adds a problem for each pair of signing files
// kube-controller-manager would not load, as its csrsigning controller
// loads them at start (dynamiccertificates, then setCA): it does not start
// when one fails. These are a file that is missing, a certificate and key
// that are not a pair (tls.X509KeyPair), and a certificate file that holds
// more than one certificate ("expected 1 certificate"): kubeadm writes
// --cluster-signing-cert-file=ca.crt again (`kubeadm upgrade`), which holds
// two CAs during a rotation. A file is read at the host path the pod
// mounts it from. A file with no host path mount, or whose host folder is
// not on this node (another host's layout), is left to the component. The
// problem names the `certctl signer enable` that writes the flags for the
// CA files in certDir.
func (b *BuiltInSigner) checkFiles(pod *corev1.Pod, c *corev1.Container, certDir string) {
	enable := castage.EnableCommand(b.Manifest, certDir, b.Flags["cluster-signing-cert-file"] == "")
	seen := map[string]bool{}
	for _, k := range slices.Sorted(maps.Keys(b.Flags)) {
		prefix, ok := strings.CutSuffix(k, "-cert-file")
		cert, key := b.Flags[k], b.Flags[prefix+"-key-file"]
		if !ok || cert == "" || seen[cert+"\x00"+key] {
			continue
		}
		seen[cert+"\x00"+key] = true
		read := func(f string) ([]byte, bool) {
			path := f
			if h, ok := manifests.HostPath(pod, c, f); ok {
				path = h
			}
			data, err := pki.ReadFile(path)
			if errors.Is(err, fs.ErrNotExist) {
				if dir, derr := os.Stat(filepath.Dir(path)); derr == nil && dir.IsDir() {
					where := ""
					if path != f {
						where = " (on this node " + path + ")"
					}
					b.Problems = append(b.Problems, fmt.Sprintf("%s%s does not exist: kube-controller-manager cannot load its signing CA and does not start; put the file back, or point the flags at the CA's files: `%s`", f, where, enable))
				}
			}
			return data, err == nil
		}
		certData, certOK := read(cert)
		if certOK {
			if certs, err := pki.ParseCerts(certData); err == nil && len(certs) > 1 {
				b.Problems = append(b.Problems, fmt.Sprintf("%s holds %d certificates (--%s): kube-controller-manager's signer refuses it and kube-controller-manager does not start; during a CA rotation the flags must name the single-certificate file of the stage (`certctl ca status` says which): `%s` writes them", cert, len(certs), k, enable))
			}
		}
		if key == "" {
			continue // refusal says so
		}
		if keyData, keyOK := read(key); certOK && keyOK {
			if _, err := tls.X509KeyPair(certData, keyData); err != nil {
				b.Problems = append(b.Problems, fmt.Sprintf("%s and %s (--%s, --%s-key-file) are not a certificate and its key (%v): kube-controller-manager cannot load its signing CA and does not start; point the flags at the CA's files: `%s`", cert, key, k, prefix, err, enable))
			}
		}
	}
}

// files are the CA files the manifest gives the signer of the per-signer
// flag prefix: its own pair, else the general pair; "" when neither is
// set whole.
func (b *BuiltInSigner) files(prefix string) (cert, key string) {
	for _, p := range []string{prefix, "cluster-signing"} {
		if c, k := b.Flags[p+"-cert-file"], b.Flags[p+"-key-file"]; c != "" && k != "" {
			return c, k
		}
	}
	return "", ""
}

// Print prints s in f: the built-in signer's state, then a table of the
// signer names (SIGNER, SIGNED BY, CA, STATE; -o wide adds the CA files and
// the certificates), or the schema.
func (s *SignerStatus) Print(w io.Writer, f output.Format) error {
	return f.Print(w, s, func(w io.Writer, wide bool) error {
		b := s.BuiltIn
		fmt.Fprintf(w, "kube-controller-manager's signer: %s\n  manifest: %s\n", b.State, b.Manifest)
		if b.Reason != "" {
			fmt.Fprintf(w, "  %s\n", output.Wrap(b.Reason, output.Width(w)-2, "  "))
		}
		for _, k := range slices.Sorted(maps.Keys(b.Flags)) {
			fmt.Fprintf(w, "  --%s=%s\n", k, b.Flags[k])
		}
		if b.Duration != "" {
			fmt.Fprintf(w, "  --cluster-signing-duration=%s\n", b.Duration)
		}
		for _, p := range b.Problems {
			fmt.Fprintf(w, "  problem: %s\n", output.Wrap(p, output.Width(w)-2, "  "))
		}
		fmt.Fprintln(w)
		t := output.NewTable(w, wide)
		if wide {
			fmt.Fprintln(t, "SIGNER\tSIGNED BY\tCA\tSTATE\tCA CERT\tCA KEY\tCERTIFICATES")
		} else {
			fmt.Fprintln(t, "SIGNER\tSIGNED BY\tCA\tSTATE")
		}
		for _, e := range s.Signers {
			if wide {
				fmt.Fprintf(t, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Name, e.SignedBy, cmp.Or(e.CAName, "-"), e.State, cmp.Or(e.CACert, "-"), cmp.Or(e.CAKey, "-"), cmp.Or(strings.Join(e.Certificates, ","), "-"))
			} else {
				fmt.Fprintf(t, "%s\t%s\t%s\t%s\n", e.Name, e.SignedBy, cmp.Or(e.CAName, "-"), e.State)
			}
		}
		if err := t.Flush(); err != nil {
			return err
		}
		for _, e := range s.Signers {
			if e.Problem != "" {
				// One line: its command is copied whole.
				fmt.Fprintf(w, "problem: %s: %s\n", e.Name, e.Problem)
			}
		}
		return nil
	})
}
