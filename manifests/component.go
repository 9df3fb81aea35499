package manifests

import (
	"path/filepath"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
)

// Reading a control-plane component's manifest for what it runs: which
// container is the component, which host files its command line names, and
// the value of a flag. Used to find the static pods a renewal affects
// (staticpods), with the same flag parsing as the signer patches.

// FlagValue returns the value of flag name in container c's command line
// (command after the binary, then args, up to "--"), as pflag reads it: the
// last occurrence wins; "--name=value" and "--name value" both count.
func FlagValue(c *corev1.Container, name string) (string, bool) {
	fl := &flagList{c: c}
	return fl.value(name)
}

// FileReference is a host file that a container's command line or probe
// names.
type FileReference struct {
	// Flag is the flag naming the file ("tls-cert-file"), or "" for a bare
	// argument (for example in an exec probe's command).
	Flag string
	// Path is the file's path on the host, through the pod's hostPath
	// mounts.
	Path string
}

// FileReferences lists the host files that container c names: every
// absolute path given as a flag value, or a bare argument, in its command,
// args and exec probes, that a hostPath mount makes visible. A path that no
// hostPath mount covers is inside the container image and is left out.
// A value is one path, commas included, as the components read every file
// flag but --tls-sni-cert-key=CERT,KEY[:NAMES] (filePaths).
func FileReferences(pod *corev1.Pod, c *corev1.Container) []FileReference {
	lists := [][]string{append(slices.Clone(c.Command), c.Args...)}
	for _, p := range []*corev1.Probe{c.LivenessProbe, c.ReadinessProbe, c.StartupProbe} {
		if p != nil && p.Exec != nil {
			lists = append(lists, p.Exec.Command)
		}
	}
	var out []FileReference
	seen := map[FileReference]bool{}
	add := func(flag, v string) {
		for _, part := range filePaths(flag, v) {
			if !filepath.IsAbs(part) {
				continue
			}
			host, ok := HostPath(pod, c, part)
			if !ok {
				continue
			}
			r := FileReference{Flag: flag, Path: host}
			if !seen[r] {
				seen[r] = true
				out = append(out, r)
			}
		}
	}
	for _, list := range lists {
		for i, e := range list {
			switch {
			case strings.HasPrefix(e, "-") && strings.Contains(e, "="):
				name, v, _ := strings.Cut(strings.TrimLeft(e, "-"), "=")
				add(name, v)
			case filepath.IsAbs(e) && i > 0 && strings.HasPrefix(list[i-1], "-") && !strings.Contains(list[i-1], "="):
				add(strings.TrimLeft(list[i-1], "-"), e)
			default:
				add("", e)
			}
		}
	}
	return out
}

// filePaths returns the paths that value v of flag names: v itself, but
// for --tls-sni-cert-key, the one file flag of the control-plane components
// that holds two, read as component-base's NamedCertKey reads it: the
// domain names after the first colon, then the certificate and the key
// separated by a comma. Splitting every value at its commas, as before,
// lost a certificate whose path holds one (/srv/pki,v2/apiserver.crt):
// --tls-cert-file, --client-ca-file and the others take the whole value,
// so its component was not restarted when it changed.
func filePaths(flag, v string) []string {
	if flag != "tls-sni-cert-key" {
		return []string{v}
	}
	certKey, _, _ := strings.Cut(v, ":")
	parts := strings.Split(certKey, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}

// HostPath maps path, as container c sees it, to the host path behind it:
// through the hostPath volume mounted at the longest mount path that
// contains it (with its subPath). It reports false when no hostPath mount
// covers path.
func HostPath(pod *corev1.Pod, c *corev1.Container, path string) (string, bool) {
	path = filepath.Clean(path)
	best, host := -1, ""
	for _, m := range c.VolumeMounts {
		if m.SubPathExpr != "" {
			continue // expanded from the pod's environment: not knowable here
		}
		mp := filepath.Clean(m.MountPath)
		rest, ok := under(path, mp)
		if !ok || len(mp) <= best {
			continue
		}
		v := volume(pod, m.Name)
		if v == nil || v.HostPath == nil || !filepath.IsAbs(v.HostPath.Path) {
			continue // a relative host path names no file certctl can know
		}
		best, host = len(mp), filepath.Join(v.HostPath.Path, m.SubPath, rest)
	}
	return host, best >= 0
}

// under returns path relative to dir and true when path is dir or inside
// it.
func under(path, dir string) (string, bool) {
	if path == dir {
		return "", true
	}
	return strings.CutPrefix(path, strings.TrimSuffix(dir, "/")+"/")
}

// SetAnnotation returns the manifest data with metadata.annotations[key]
// set to value. Only the annotation's line changes (with an "annotations"
// line before it when there were none); every other byte is kept.
//
// A changed annotation changes the static pod's UID, which the kubelet
// derives from a hash of the whole pod (pkg/kubelet/config/common.go,
// applyDefaults), so the kubelet replaces the pod: this is how certctl
// restarts a component without a container runtime client.
func SetAnnotation(data []byte, key, value string) ([]byte, error) {
	pod, err := Parse(data)
	if err != nil {
		return nil, err
	}
	want := pod.DeepCopy()
	if want.Annotations == nil {
		want.Annotations = map[string]string{}
	}
	want.Annotations[key] = value
	if apiequality.Semantic.DeepEqual(pod, want) {
		return data, nil
	}
	return rewrite(data, pod, want)
}
