package manifests

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"

	"github.com/certctl/certctl/pki"
)

// The signing flags of kube-controller-manager v1.37
// (cmd/kube-controller-manager/app/options/csrsigningcontroller.go).
const (
	flagCertFile   = "cluster-signing-cert-file"
	flagKeyFile    = "cluster-signing-key-file"
	flagDuration   = "cluster-signing-duration"
	flagController = "controllers"
)

// perSignerFlags are the per-signer pairs, one per signer of the v1 API.
// The legacy-unknown pair is left out: kubernetes.io/legacy-unknown cannot
// be requested through certificates.k8s.io/v1, the only version served.
var perSignerFlags = [][2]string{
	{"cluster-signing-kubelet-serving-cert-file", "cluster-signing-kubelet-serving-key-file"},
	{"cluster-signing-kubelet-client-cert-file", "cluster-signing-kubelet-client-key-file"},
	{"cluster-signing-kube-apiserver-client-cert-file", "cluster-signing-kube-apiserver-client-key-file"},
}

// PerSignerCertFlags are the certificate flags of the per-signer pairs,
// which kube-controller-manager reads in place of --cluster-signing-cert-file
// when that is empty.
var PerSignerCertFlags = func() []string {
	var fs []string
	for _, p := range perSignerFlags {
		fs = append(fs, p[0])
	}
	return fs
}()

// allSigningFlags lists every file flag of the signer, legacy-unknown
// included so that Disable removes it too.
var allSigningFlags = func() []string {
	fs := []string{flagCertFile, flagKeyFile,
		"cluster-signing-legacy-unknown-cert-file", "cluster-signing-legacy-unknown-key-file"}
	for _, p := range perSignerFlags {
		fs = append(fs, p[0], p[1])
	}
	return fs
}()

// VolumePrefix names the hostPath volumes this package adds; Disable
// removes the volumes whose name starts with it.
const VolumePrefix = "certctl-signing-ca"

// SignerOptions says how kube-controller-manager's built-in signer should
// sign. The paths are the same on the host and in the container, as kubeadm
// mounts them.
type SignerOptions struct {
	// CertFile and KeyFile are the CA certificate and key. Required.
	CertFile, KeyFile string
	// PerSigner sets the per-signer flag pairs (kubelet-serving,
	// kubelet-client, kube-apiserver-client) instead of
	// --cluster-signing-cert-file/--cluster-signing-key-file, and empties the
	// general pair where present: kube-controller-manager refuses to start
	// with both set.
	PerSigner bool
	// Duration sets --cluster-signing-duration, the maximum validity of
	// what the signer issues. Zero leaves the flag as it is.
	Duration time.Duration
}

// EnableSigner turns on kube-controller-manager's built-in signer in the
// manifest data:
//   - sets the signing flags in the container's command line, replacing
//     existing values (including the empty ones kubeadm writes in external-CA
//     mode) in place and removing duplicates, and removes the other kind of
//     signing flags (general or per-signer);
//   - enables the csrsigning controller if --controllers turned it off;
//   - adds a read-only hostPath volume and mount for the folder of each file
//     when no mount of the container makes it visible at the same path.
//
// Everything else is kept. It returns the new manifest and a description of
// each change; with no change, the input itself and no descriptions.
func EnableSigner(data []byte, o SignerOptions) ([]byte, []string, error) {
	if o.CertFile == "" || o.KeyFile == "" {
		return nil, nil, fmt.Errorf("manifests: the signer's certificate and key files are both required")
	}
	if !filepath.IsAbs(o.CertFile) || !filepath.IsAbs(o.KeyFile) {
		return nil, nil, fmt.Errorf("manifests: signer files %q and %q must be absolute paths", o.CertFile, o.KeyFile)
	}
	if o.Duration < 0 {
		return nil, nil, fmt.Errorf("manifests: negative signing duration %v", o.Duration)
	}
	return patch(data, enable(o))
}

// enable is EnableSigner's change of the pod.
func enable(o SignerOptions) patchFunc {
	return func(pod *corev1.Pod, c *corev1.Container, fl *flagList) ([]string, error) {
		var changes []string
		if o.PerSigner {
			// The general pair is emptied where present, as kubeadm writes
			// it in external-CA mode, not removed: kube-controller-manager
			// takes an empty pair beside the per-signer ones, and
			// DisableSigner then gives kubeadm's manifest back.
			for _, f := range []string{flagCertFile, flagKeyFile} {
				if len(fl.find(f)) > 0 {
					changes = append(changes, fl.setFlag(f, ""))
				}
			}
			for _, p := range perSignerFlags {
				changes = append(changes, fl.setFlag(p[0], o.CertFile), fl.setFlag(p[1], o.KeyFile))
			}
		} else {
			for _, f := range allSigningFlags[2:] {
				changes = append(changes, fl.removeFlag(f))
			}
			changes = append(changes, fl.setFlag(flagCertFile, o.CertFile), fl.setFlag(flagKeyFile, o.KeyFile))
		}
		if o.Duration > 0 {
			// The manifest's spelling of the same duration (8760h for
			// 8760h0m0s) stays: rewriting it would restart
			// kube-controller-manager for nothing.
			v := o.Duration.String()
			if old, ok := fl.value(flagDuration); ok {
				if d, err := time.ParseDuration(old); err == nil && d == o.Duration {
					v = old
				}
			}
			changes = append(changes, fl.setFlag(flagDuration, v))
		} else if err := checkDuration(fl, c.Name); err != nil {
			return nil, err
		}
		if v, ok := controllers(fl); ok {
			// Rewritten only to turn the controller on: one flag then
			// holds the whole list (setFlag drops the other copies).
			if nv := enableCSRSigning(v); nv != v {
				changes = append(changes, fl.setFlag(flagController, nv))
			}
		}
		vols, err := syncOwnVolumes(pod, c, []string{o.CertFile, o.KeyFile})
		return append(changes, vols...), err
	}
}

// DisableSigner turns kube-controller-manager's built-in signer off the way
// kubeadm does in external-CA mode: --cluster-signing-cert-file and
// --cluster-signing-key-file are set to "" where present, the per-signer
// flags are removed, and so are the volumes EnableSigner added.
// --cluster-signing-duration is kept: it does nothing while the signer is
// off. Disabling a manifest that EnableSigner patched from kubeadm's
// external-CA shape gives it back byte for byte.
func DisableSigner(data []byte) ([]byte, []string, error) {
	return patch(data, disable)
}

// disable is DisableSigner's change of the pod.
func disable(pod *corev1.Pod, c *corev1.Container, fl *flagList) ([]string, error) {
	var changes []string
	for _, f := range allSigningFlags {
		if (f == flagCertFile || f == flagKeyFile) && len(fl.find(f)) > 0 {
			changes = append(changes, fl.setFlag(f, ""))
		} else {
			changes = append(changes, fl.removeFlag(f))
		}
	}
	return append(changes, removeOwnVolumes(pod, nil)...), nil
}

// SignerFlags returns the signing flags and their values as the container's
// command line sets them (the last value of a repeated flag).
func SignerFlags(data []byte) (map[string]string, error) {
	_, _, fl, err := controllerManager(data)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, f := range append(append([]string{}, allSigningFlags...), flagDuration) {
		if v, ok := fl.value(f); ok {
			out[f] = v
		}
	}
	return out, nil
}

// patchFunc changes the pod and describes each change; "" for a step that
// changed nothing. On an error the pod is not written.
type patchFunc func(pod *corev1.Pod, c *corev1.Container, fl *flagList) ([]string, error)

// patch decodes data, applies f to kube-controller-manager's container and
// edits the lines of data that hold what f changed; if the pod did not
// change it returns data itself.
func patch(data []byte, f patchFunc) ([]byte, []string, error) {
	pod, c, fl, err := controllerManager(data)
	if err != nil {
		return nil, nil, err
	}
	orig := pod.DeepCopy()
	changes, err := f(pod, c, fl)
	if err != nil {
		return nil, nil, err
	}
	changes = slices.DeleteFunc(changes, func(s string) bool { return s == "" })
	if apiequality.Semantic.DeepEqual(orig, pod) {
		return data, nil, nil
	}
	out, err := rewrite(data, orig, pod)
	if err != nil {
		return nil, nil, err
	}
	return out, changes, nil
}

// controllerManager decodes data and returns the pod, its
// kube-controller-manager container and that container's command line.
func controllerManager(data []byte) (*corev1.Pod, *corev1.Container, *flagList, error) {
	pod, err := Parse(data)
	if err != nil {
		return nil, nil, nil, err
	}
	c, err := FindComponent(pod, pki.KubeControllerManager)
	if err != nil {
		return nil, nil, nil, err
	}
	fl, err := newFlagList(c, pki.KubeControllerManager)
	if err != nil {
		return nil, nil, nil, err
	}
	return pod, c, fl, nil
}

// csrSigningNames are the names --controllers knows the CSR signing
// controller by: its name since v1.28, which kube-controller-manager
// --help lists, and the alias kubeadm's own values use
// (cmd/kube-controller-manager/names/controller_names.go).
var csrSigningNames = []string{"certificatesigningrequest-signing-controller", "csrsigning"}

// controllerList splits a --controllers value as pflag's string slice
// does: "" is the empty list, on which kube-controller-manager runs no
// controller, not a list of one empty name (which it refuses to start
// with: "\"\" is not in the list of known controllers").
func controllerList(v string) []string {
	if v == "" {
		return nil
	}
	return strings.Split(v, ",")
}

// CSRSigningEnabled reports whether kube-controller-manager runs its CSR
// signing controller with --controllers=v (set: the flag is given at all;
// unset runs "*"), as it decides (IsControllerEnabled in
// k8s.io/controller-manager/app): the first entry that names the
// controller, by its name or its alias, with "-" or without, decides;
// else "*" runs it; else it does not run.
func CSRSigningEnabled(v string, set bool) bool {
	if !set {
		return true
	}
	star := false
	for _, c := range controllerList(v) {
		switch name, off := strings.CutPrefix(c, "-"); {
		case slices.Contains(csrSigningNames, name):
			return !off
		case c == "*":
			star = true
		}
	}
	return star
}

// controllers is the --controllers list of fl as pflag builds it: a
// string slice flag given more than once appends each value to the list
// ("--controllers=* --controllers=-csrsigning" is "*,-csrsigning"), unlike
// a string flag, whose last value counts.
func controllers(fl *flagList) (string, bool) {
	vs := slices.DeleteFunc(fl.values(flagController), func(v string) bool { return v == "" })
	return strings.Join(vs, ","), len(fl.find(flagController)) > 0
}

// Controllers returns the --controllers list of container c, every
// occurrence of the flag appended as kube-controller-manager does, and
// whether the flag is given.
func Controllers(c *corev1.Container) (string, bool) {
	return controllers(&flagList{c: c})
}

// enableCSRSigning makes a --controllers value run the CSR signing
// controller: it drops the entries that turn it off, by either name, and,
// when the list then neither has "*" nor names it, adds "csrsigning".
func enableCSRSigning(v string) string {
	var out []string
	for _, c := range controllerList(v) {
		if name, off := strings.CutPrefix(c, "-"); off && slices.Contains(csrSigningNames, name) {
			continue
		}
		out = append(out, c)
	}
	if !CSRSigningEnabled(strings.Join(out, ","), true) {
		out = append(out, "csrsigning")
	}
	return strings.Join(out, ",")
}

// checkDuration refuses a --cluster-signing-duration that
// kube-controller-manager cannot read ("1y"): it parses each occurrence
// with time.ParseDuration, as pflag does, and does not start on an error,
// so turning the signer on while keeping it would say the kubelet restarts
// kube-controller-manager with a signer when it does not start at all.
func checkDuration(fl *flagList, container string) error {
	for _, v := range fl.values(flagDuration) {
		if _, err := time.ParseDuration(v); err != nil {
			return fmt.Errorf("manifests: --%s=%s of container %q is not a duration kube-controller-manager reads (%w), and it does not start with it: pass --%s with the longest validity to give, such as 8760h (its default)", flagDuration, v, container, err, flagDuration)
		}
	}
	return nil
}
