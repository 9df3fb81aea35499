package manifests

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// seen tells what container c sees at path file, which must be the host
// file of the same path, through the mounts that are not ours: the one
// with the longest mount path that contains file decides, as in the
// container. visible: the host's file itself (a hostPath volume whose host
// path, with its subPath, maps file to itself, as kubeadm mounts
// /etc/kubernetes/pki); false with no error when no mount shows file; an
// error when another file is there (another host folder, a Secret,
// an emptyDir...), which certctl must not mount the host's folder over.
func seen(pod *corev1.Pod, c *corev1.Container, file string) (visible bool, err error) {
	var m *corev1.VolumeMount
	rest := ""
	for i := range c.VolumeMounts {
		mp := filepath.Clean(c.VolumeMounts[i].MountPath)
		if r, in := under(file, mp); in && !ownVolume(pod, c.VolumeMounts[i].Name) && (m == nil || len(mp) > len(filepath.Clean(m.MountPath))) {
			m, rest = &c.VolumeMounts[i], r
		}
	}
	if m == nil {
		return false, nil
	}
	at := filepath.Clean(m.MountPath)
	v := volume(pod, m.Name)
	if v != nil && v.HostPath != nil && m.SubPathExpr == "" && filepath.Join(v.HostPath.Path, m.SubPath, rest) == file {
		return true, nil
	}
	from := "a volume that is not a hostPath"
	switch {
	case v == nil:
		from = "no volume of the pod"
	case m.SubPathExpr != "":
		from = "a subPathExpr, known only in the pod"
	case v.HostPath != nil:
		from = "the host's " + filepath.Join(v.HostPath.Path, m.SubPath)
	}
	return false, fmt.Errorf("manifests: container %q mounts %s (volume %q) from %s, so it does not see the host's %s, and a second mount there would make the pod invalid or hide that volume's files: if that volume holds the CA, pass its host folder as --cert-dir; else change the volume by hand", c.Name, at, m.Name, from, file)
}

// syncOwnVolumes makes each of files, host paths, visible at the same path
// in c: a file that another mount shows needs nothing; otherwise a
// read-only hostPath volume of ours for its folder is kept, or added. Our
// volumes that are no longer needed are removed. A file that another mount
// hides behind something else is an error: a mount of ours there would be
// a second mount of the same path, which makes the pod invalid (the kubelet
// does not run it), or would hide the folder of that mount from the
// component.
func syncOwnVolumes(pod *corev1.Pod, c *corev1.Container, files []string) ([]string, error) {
	keep := map[string]bool{}
	var missing []string
	for _, f := range files {
		f = filepath.Clean(f)
		dir := filepath.Dir(f)
		visible, err := seen(pod, c, f)
		switch {
		case err != nil:
			return nil, err
		case visible:
			continue
		}
		if own := ownMount(pod, c, dir); own != "" {
			keep[own] = true
		} else if !slices.Contains(missing, dir) {
			missing = append(missing, dir)
		}
	}
	changes := removeOwnVolumes(pod, keep)
	for _, dir := range missing {
		changes = append(changes, addHostPathMount(pod, c, dir))
	}
	return changes, nil
}

// ownMount names our volume that c mounts read-only at dir from the
// host's dir, as addHostPathMount adds it; "" when none.
func ownMount(pod *corev1.Pod, c *corev1.Container, dir string) string {
	for _, m := range c.VolumeMounts {
		v := volume(pod, m.Name)
		if ownVolume(pod, m.Name) && m.ReadOnly && filepath.Clean(m.MountPath) == dir && filepath.Clean(v.HostPath.Path) == dir {
			return m.Name
		}
	}
	return ""
}

func volume(pod *corev1.Pod, name string) *corev1.Volume {
	if i := slices.IndexFunc(pod.Spec.Volumes, func(v corev1.Volume) bool { return v.Name == name }); i >= 0 {
		return &pod.Spec.Volumes[i]
	}
	return nil
}

// addHostPathMount adds a read-only hostPath volume and mount for dir. The
// volume is named VolumePrefix, or VolumePrefix-N when that name is taken.
func addHostPathMount(pod *corev1.Pod, c *corev1.Container, dir string) string {
	name := VolumePrefix
	for n := 2; volume(pod, name) != nil || slices.ContainsFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool { return m.Name == name }); n++ {
		name = fmt.Sprintf("%s-%d", VolumePrefix, n)
	}
	typ := corev1.HostPathDirectory
	pod.Spec.Volumes = append(pod.Spec.Volumes, corev1.Volume{
		Name:         name,
		VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: dir, Type: &typ}},
	})
	c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: name, MountPath: dir, ReadOnly: true})
	return fmt.Sprintf("add read-only hostPath volume %q and mount for %s", name, dir)
}

// isOwnVolume reports whether name is one addHostPathMount makes.
func isOwnVolume(name string) bool {
	rest, ok := strings.CutPrefix(name, VolumePrefix)
	if !ok || rest == "" {
		return ok
	}
	n, ok := strings.CutPrefix(rest, "-")
	return ok && n != "" && strings.Trim(n, "0123456789") == ""
}

// ownVolume reports whether the volume name of pod is one addHostPathMount
// added: named so, a hostPath, and mounted wherever it is at its own host
// path with no subPath. A volume that only shares the name (the pod's
// owner chose it, for another folder or at another path) is not ours to
// remove or to ignore.
func ownVolume(pod *corev1.Pod, name string) bool {
	v := volume(pod, name)
	if !isOwnVolume(name) || v == nil || v.HostPath == nil {
		return false
	}
	for _, cs := range [][]corev1.Container{pod.Spec.Containers, pod.Spec.InitContainers} {
		for _, c := range cs {
			for _, m := range c.VolumeMounts {
				if m.Name == name && (m.SubPath != "" || m.SubPathExpr != "" || filepath.Clean(m.MountPath) != filepath.Clean(v.HostPath.Path)) {
					return false
				}
			}
		}
	}
	return true
}

// removeOwnVolumes removes the hostPath volumes addHostPathMount added,
// except those in keep, and their mounts in every container, and describes
// what it removed.
func removeOwnVolumes(pod *corev1.Pod, keep map[string]bool) []string {
	var changes []string
	drop := map[string]bool{}
	for _, v := range pod.Spec.Volumes {
		if ownVolume(pod, v.Name) && !keep[v.Name] {
			drop[v.Name] = true
			changes = append(changes, fmt.Sprintf("remove hostPath volume %q (%s) and its mount", v.Name, v.HostPath.Path))
		}
	}
	if len(drop) == 0 {
		return nil
	}
	pod.Spec.Volumes = slices.DeleteFunc(pod.Spec.Volumes, func(v corev1.Volume) bool { return drop[v.Name] })
	for _, cs := range [][]corev1.Container{pod.Spec.Containers, pod.Spec.InitContainers} {
		for i := range cs {
			cs[i].VolumeMounts = slices.DeleteFunc(cs[i].VolumeMounts, func(m corev1.VolumeMount) bool { return drop[m.Name] })
		}
	}
	return changes
}
