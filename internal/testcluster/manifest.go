package testcluster

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/certctl/certctl/internal/atomicfile"
)

// Static pod manifests, as `kubeadm init` writes them (cmd/kubeadm/app/phases/controlplane and
// phases/etcd/local.go), so that certctl's manifest edits have something real to edit and the
// harness Kubelet (kubelet.go) something to run.

// ManifestDir returns the kubelet's static pod folder, DIR/etc/kubernetes/manifests.
func (c *Cluster) ManifestDir() string { return filepath.Join(c.KubeconfigDir(), "manifests") }

// ManifestPath returns the manifest of component name, DIR/etc/kubernetes/manifests/NAME.yaml.
func (c *Cluster) ManifestPath(name string) string {
	return filepath.Join(c.ManifestDir(), name+".yaml")
}

// WriteManifests writes, atomically and mode 0600, a static pod manifest for each of the
// cluster's components into ManifestDir, replacing any that exist: the command is the
// component's name and the flags it runs with now (the harness's, or those of the manifest the
// Kubelet last ran); its hostPath volumes are the folders and files the flags name, mounted at
// the same paths, so a path in the manifest is the path on the host.
func (c *Cluster) WriteManifests() error { return c.writeManifests(false) }

// WriteManifests writes every node's manifests (see Cluster.WriteManifests).
func (h *HA) WriteManifests() error {
	for _, c := range h.Nodes {
		if err := c.WriteManifests(); err != nil {
			return fmt.Errorf("%s: %w", c.nodeName, err)
		}
	}
	return nil
}

// writeManifests writes the components' manifests; with missingOnly, only those that do not exist
// yet, leaving the others.
func (c *Cluster) writeManifests(missingOnly bool) error {
	for _, name := range c.opts.Components {
		if _, err := os.Stat(c.ManifestPath(name)); missingOnly && err == nil {
			continue
		}
		data, err := yaml.Marshal(c.manifestPod(name))
		if err != nil {
			return fmt.Errorf("encode manifest of %s: %w", name, err)
		}
		if err := os.MkdirAll(c.ManifestDir(), 0o700); err != nil {
			return fmt.Errorf("create manifest folder: %w", err)
		}
		if err := atomicfile.WriteFile(c.ManifestPath(name), data, 0o600); err != nil {
			return fmt.Errorf("write manifest of %s: %w", name, err)
		}
	}
	return nil
}

// manifestPod is kubeadm's pod for component name with this node's current command line.
func (c *Cluster) manifestPod(name string) *corev1.Pod {
	type mount struct {
		volume, path string
		kind         corev1.HostPathType
		readOnly     bool
	}
	var mounts []mount
	var annotations map[string]string
	switch name {
	case Etcd:
		mounts = []mount{
			{"etcd-certs", filepath.Join(c.PKIDir(), "etcd"), corev1.HostPathDirectoryOrCreate, false},
			{"etcd-data", filepath.Join(c.opts.Dir, "var", "lib", "etcd"), corev1.HostPathDirectoryOrCreate, false},
		}
		annotations = map[string]string{"kubeadm.kubernetes.io/etcd.advertise-client-urls": c.URL(Etcd)}
	case APIServer:
		mounts = []mount{
			{"k8s-certs", c.PKIDir(), corev1.HostPathDirectoryOrCreate, true},
			{"cert-dir", c.runDir(APIServer), corev1.HostPathDirectoryOrCreate, false},
		}
		annotations = map[string]string{"kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint": c.Addr(APIServer)}
	case ControllerManager:
		mounts = []mount{
			{"k8s-certs", c.PKIDir(), corev1.HostPathDirectoryOrCreate, true},
			{"kubeconfig", c.Kubeconfig("controller-manager.conf"), corev1.HostPathFileOrCreate, true},
			{"cert-dir", c.runDir(ControllerManager), corev1.HostPathDirectoryOrCreate, false},
		}
	case Scheduler:
		mounts = []mount{
			{"kubeconfig", c.Kubeconfig("scheduler.conf"), corev1.HostPathFileOrCreate, true},
			{"cert-dir", c.runDir(Scheduler), corev1.HostPathDirectoryOrCreate, false},
		}
	}
	ctr := corev1.Container{
		Name:            name,
		Image:           "registry.k8s.io/" + name + ":" + KubeVersion,
		ImagePullPolicy: corev1.PullIfNotPresent,
		Command:         append([]string{name}, c.cmdline(name)...),
	}
	pod := &corev1.Pod{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Namespace:   "kube-system",
			Labels:      map[string]string{"component": name, "tier": "control-plane"},
			Annotations: annotations,
		},
		Spec: corev1.PodSpec{
			HostNetwork:       true,
			PriorityClassName: "system-node-critical",
		},
	}
	for _, m := range mounts {
		pod.Spec.Volumes = append(pod.Spec.Volumes, corev1.Volume{
			Name:         m.volume,
			VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: m.path, Type: &m.kind}},
		})
		ctr.VolumeMounts = append(ctr.VolumeMounts, corev1.VolumeMount{Name: m.volume, MountPath: m.path, ReadOnly: m.readOnly})
	}
	pod.Spec.Containers = []corev1.Container{ctr}
	return pod
}

// cmdline returns the flags component name starts with: those of the manifest the Kubelet last
// ran, else the harness's (args), then those of SetStartFlags.
func (c *Cluster) cmdline(name string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	a, ok := c.manifestArgs[name]
	if !ok {
		a = c.args(name)
	}
	return append(slices.Clone(a), c.startFlags[name]...)
}

// SetStartFlags appends flags to component name's command line at each of its later starts (by
// the Kubelet, Restart or StartComponent), after its manifest's flags or the harness's; no flags
// removes them. The running process and the manifest are left as they are, so that a test can
// make a component fail to come back from a restart that certctl makes through its manifest,
// and fix it, with no edit of the manifest (which would restart it at once): kube-apiserver with
// an etcd client certificate that etcd refuses (--etcd-certfile and --etcd-keyfile of another
// CA's pair) serves its certificate but is never ready; one with a flag it does not know exits as
// it starts. A flag given twice takes the last value, except a list (--etcd-servers), which the
// second one extends.
//
// Set them while no Kubelet starts (StartKubelet compares the flags a component runs with to its
// manifest's, and restarts it when they differ).
func (c *Cluster) SetStartFlags(name string, flags ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.startFlags[name] = slices.Clone(flags)
}

// setManifestArgs makes StartComponent (and Restart) run component name with args from now on.
func (c *Cluster) setManifestArgs(name string, args []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.manifestArgs[name] = slices.Clone(args)
}

// hostArgs maps the paths in a container's arguments to host paths through the pod's hostPath
// mounts, as the container runtime would make them visible: "--flag=PATH[,PATH...]" and bare
// absolute paths. A path no mount covers is left as it is.
func hostArgs(args []string, toHost func(string) (string, bool)) []string {
	mapPath := func(v string) string {
		parts := strings.Split(v, ",")
		for i, p := range parts {
			if filepath.IsAbs(p) {
				if h, ok := toHost(p); ok {
					parts[i] = h
				}
			}
		}
		return strings.Join(parts, ",")
	}
	out := make([]string, len(args))
	for i, a := range args {
		if flag, v, ok := strings.Cut(a, "="); ok && strings.HasPrefix(flag, "-") {
			out[i] = flag + "=" + mapPath(v)
		} else {
			out[i] = mapPath(a)
		}
	}
	return out
}
