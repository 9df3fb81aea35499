// Package staticpods makes the kubelet restart the control-plane components
// of a kubeadm node whose certificate files changed, and proves that they
// did and that they serve the new certificates.
//
// Which components a change affects comes from their static pod manifests:
// a component is affected when its command line (or an exec probe) names a
// changed file, through the pod's hostPath mounts. To restart one, certctl
// sets the annotation RestartAnnotation in its manifest, written atomically
// through a dot-named temporary file; the kubelet derives a static pod's UID
// from a hash of the whole pod, so it replaces the pod. No container runtime
// client is involved. Then it waits until the process listening on the
// component's port is a new one and a TLS handshake with each local
// endpoint that serves a changed certificate (kube-apiserver's secure port,
// etcd's client and peer ports, read from the manifests) returns exactly the
// certificate on disk.
//
// Pending (PendingFileName) remembers, beside the certificate folder, the
// restarts still owed when one fails, for the next run to retry.
//
// The served certificate alone would not prove a restart: kube-apiserver
// reloads --tls-cert-file and etcd its serving certificate without one, but
// neither reloads its client certificates (etcd, kubelet), which only a
// restart picks up.
package staticpods

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/certctl/certctl/manifests"
	"github.com/certctl/certctl/pki"
)

// Order is the order of restarts: etcd first, because kube-apiserver cannot
// start without it, and the other two need kube-apiserver.
var Order = []string{pki.Etcd, pki.KubeAPIServer, pki.KubeControllerManager, pki.KubeScheduler}

// RestartAnnotation is set, in the pod's metadata, to the time of the
// restart request (RFC 3339, UTC), as `kubectl rollout restart` sets
// kubectl.kubernetes.io/restartedAt in a Deployment's template.
const RestartAnnotation = "certctl.io/restartedAt"

// DefaultManifestDir is the kubelet's staticPodPath on a kubeadm node.
const DefaultManifestDir = "/etc/kubernetes/manifests"

// Manifest is the static pod manifest of one control-plane component.
type Manifest struct {
	Component string
	Path      string
	pod       *corev1.Pod
	container *corev1.Container
}

// command is the component's command line as its container runs it: the
// container's command, then its args; nil when unknown.
func (m *Manifest) command() []string {
	if m.container == nil {
		return nil
	}
	return append(slices.Clone(m.container.Command), m.container.Args...)
}

// Set is the control-plane manifests of a folder.
type Set struct {
	Dir       string
	Manifests []*Manifest // in Order
	// Warnings name the files that were skipped (not a Pod certctl can
	// read) and why.
	Warnings []string
}

// Load reads the manifests of the four control-plane components in dir.
// Like the kubelet it skips dot-files and folders; a file that is not a Pod
// manifest certctl can read is skipped with a warning. Two manifests for one
// component are an error: the kubelet would run both.
func Load(dir string) (*Set, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read static pod manifest folder %s: %w; pass --manifest-dir, the kubelet's staticPodPath", dir, err)
	}
	s := &Set{Dir: dir}
	byComponent := map[string]*Manifest{}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") || e.IsDir() {
			continue
		}
		p := filepath.Join(dir, e.Name())
		data, err := pki.ReadFile(p)
		if errors.Is(err, fs.ErrPermission) {
			return nil, fmt.Errorf("read manifest %s: %w: run certctl as root", p, err)
		} else if err != nil {
			s.Warnings = append(s.Warnings, fmt.Sprintf("skipped %s: %v", p, err))
			continue
		}
		pod, err := manifests.Parse(data)
		if err != nil {
			s.Warnings = append(s.Warnings, fmt.Sprintf("skipped %s: %v", p, err))
			continue
		}
		for _, name := range Order {
			c, err := manifests.FindComponent(pod, name)
			if err != nil {
				continue
			}
			if other := byComponent[name]; other != nil {
				return nil, fmt.Errorf("%s and %s are both manifests of %s, and the kubelet runs both: move one out of %s", other.Path, p, name, dir)
			}
			byComponent[name] = &Manifest{Component: name, Path: p, pod: pod, container: c}
			break
		}
	}
	for _, name := range Order {
		if m := byComponent[name]; m != nil {
			s.Manifests = append(s.Manifests, m)
		}
	}
	return s, nil
}

// Affected is a component whose manifest names changed files.
type Affected struct {
	*Manifest
	// Files are the changed files it names, and the flags naming them.
	Files []manifests.FileReference
	// Endpoints are where it serves a changed certificate; empty when it
	// serves none (kube-controller-manager, kube-scheduler).
	Endpoints []Endpoint
	// Port is where its process listens, to tell a new process from the
	// old one; 0 if unknown.
	Port int
	// Host is the address Port is bound on ("" when every address), so
	// that a process of another component listening on the same port
	// number at another address is not taken for this one.
	Host string
	// OldPID is a process an earlier run saw on Port with the old files
	// (Pending); 0 if none. When another process listens there now and
	// serves the files on disk, the component was restarted since, and
	// Restart does not restart it again.
	OldPID int
}

// Affected returns the components whose manifests name one of the changed
// host files (absolute paths), in Order.
func (s *Set) Affected(changed []string) []Affected {
	want := map[string]bool{}
	for _, f := range changed {
		want[filepath.Clean(f)] = true
	}
	var out []Affected
	for _, m := range s.Manifests {
		refs := slices.DeleteFunc(manifests.FileReferences(m.pod, m.container), func(r manifests.FileReference) bool { return !want[r.Path] })
		if len(refs) == 0 {
			continue
		}
		eps := slices.DeleteFunc(m.endpoints(), func(e Endpoint) bool { return !want[e.CertFile] })
		out = append(out, Affected{Manifest: m, Files: refs, Endpoints: eps, Port: m.port(), Host: m.listenHost()})
	}
	return out
}

// ChangedFiles lists the distinct paths of a's references.
func (a Affected) ChangedFiles() []string {
	var out []string
	for _, r := range a.Files {
		if !slices.Contains(out, r.Path) {
			out = append(out, r.Path)
		}
	}
	return out
}
