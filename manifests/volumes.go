package manifests

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// mountFor tells how host folder dir is visible at the same path in
// container c, through hostPath volumes whose host path equals their mount
// path: visible when a mount that is not one of ours contains it (as kubeadm
// mounts /etc/kubernetes/pki); else own names our volume that mounts dir
// itself read-only, as addHostPathMount does ("" when none).
func mountFor(pod *corev1.Pod, c *corev1.Container, dir string) (visible bool, own string) {
	for _, m := range c.VolumeMounts {
		v, mp := volume(pod, m.Name), filepath.Clean(m.MountPath)
		if m.SubPath != "" || m.SubPathExpr != "" || v == nil || v.HostPath == nil || filepath.Clean(v.HostPath.Path) != mp {
			continue
		}
		if _, in := under(dir, mp); in && !isOwnVolume(m.Name) {
			return true, ""
		}
		if mp == dir && m.ReadOnly && isOwnVolume(m.Name) && own == "" {
			own = m.Name
		}
	}
	return false, own
}

// syncOwnVolumes makes each folder of dirs visible in c: a folder that
// another mount shows needs nothing; otherwise one of our volumes for it is
// kept, or added. Our volumes that are no longer needed are removed.
func syncOwnVolumes(pod *corev1.Pod, c *corev1.Container, dirs []string) []string {
	keep := map[string]bool{}
	var missing []string
	for _, dir := range dirs {
		switch visible, own := mountFor(pod, c, dir); {
		case own != "":
			keep[own] = true
		case !visible:
			missing = append(missing, dir)
		}
	}
	changes := removeOwnVolumes(pod, keep)
	for _, dir := range missing {
		changes = append(changes, addHostPathMount(pod, c, dir))
	}
	return changes
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

// removeOwnVolumes removes the hostPath volumes addHostPathMount added,
// except those in keep, and their mounts in every container, and describes
// what it removed.
func removeOwnVolumes(pod *corev1.Pod, keep map[string]bool) []string {
	var changes []string
	pod.Spec.Volumes = slices.DeleteFunc(pod.Spec.Volumes, func(v corev1.Volume) bool {
		drop := isOwnVolume(v.Name) && v.HostPath != nil && !keep[v.Name]
		if drop {
			changes = append(changes, fmt.Sprintf("remove hostPath volume %q (%s) and its mount", v.Name, v.HostPath.Path))
		}
		return drop
	})
	if len(changes) == 0 {
		return nil
	}
	for _, cs := range [][]corev1.Container{pod.Spec.Containers, pod.Spec.InitContainers} {
		for i := range cs {
			cs[i].VolumeMounts = slices.DeleteFunc(cs[i].VolumeMounts, func(m corev1.VolumeMount) bool {
				return volume(pod, m.Name) == nil && isOwnVolume(m.Name)
			})
		}
	}
	return changes
}
