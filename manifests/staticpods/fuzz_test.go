package staticpods

import (
	"path/filepath"
	"strings"
	"testing"

	apiequality "k8s.io/apimachinery/pkg/api/equality"

	"github.com/certctl/certctl/internal/fuzzseed"
	"github.com/certctl/certctl/manifests"
)

// TestFuzzSeeds keeps testdata/fuzz/FuzzManifest in step with the seeds
// below: go test ./staticpods -run TestFuzzSeeds -write-seeds rewrites it.
// The seeds are small, shaped like kubeadm's manifests (whose own copies the
// unit tests use): a kilobyte-sized seed makes the fuzzer spend its time
// minimizing.
func TestFuzzSeeds(t *testing.T) {
	fuzzseed.Write(t, "FuzzManifest", map[string]fuzzseed.Seed{
		"etcd": {[]byte(`apiVersion: v1
kind: Pod
metadata: {name: etcd, annotations: {a: b}}
spec:
  containers:
  - name: etcd
    command: [etcd, --cert-file=/etc/kubernetes/pki/etcd/server.crt, --listen-client-urls=https://127.0.0.1:2379,https://[::]:2379, --peer-cert-file, /etc/kubernetes/pki/etcd/peer.crt]
    volumeMounts: [{name: c, mountPath: /etc/kubernetes/pki/etcd}]
  volumes: [{name: c, hostPath: {path: /etc/kubernetes/pki/etcd}}]
`)},
		"kube-apiserver": {[]byte(`apiVersion: v1
kind: Pod
metadata: {name: kube-apiserver}
spec:
  containers:
  - name: kube-apiserver
    command: [kube-apiserver, --bind-address=0.0.0.0, --advertise-address=198.51.100.10, --secure-port=6443, --tls-cert-file=/pki/apiserver.crt]
    livenessProbe: {exec: {command: [cat, /pki/apiserver.crt]}}
    volumeMounts: [{name: c, mountPath: /pki, subPath: x}]
  volumes: [{name: c, hostPath: {path: /etc/kubernetes/pki}}]
`)},
		// Found by the fuzzer: a hostPath volume with a relative path maps
		// to no host file.
		"relative-host-path": {[]byte("apiVersion: v1\nkind: Pod\nmetadata: {name: kube-apiserver}\nspec:\n  containers:\n  - name: kube-apiserver\n    command: [kube-apiser|er, --bind-address=0.0.0.0, --advertise-address=198.51.100.10, --secure-port=6443, --tls-cert-file=/pki/apiserver.crt]\n    livenessProbe: {exec: {command: [cat, /pki/apiserver.crt]}}\n    volumeMounts: [{name: c, mountPath: /pki, subPath: x}]\n  volumes: [{name: c, hostPath: {path: c}}]\n")},
		"kube-scheduler": {[]byte(`apiVersion: v1
kind: Pod
metadata: {name: kube-scheduler}
spec:
  containers:
  - name: s
    command: [/usr/local/bin/kube-scheduler]
    args: [--kubeconfig=/etc/kubernetes/scheduler.conf]
    volumeMounts: [{name: k, mountPath: /etc/kubernetes/scheduler.conf}]
  volumes: [{name: k, hostPath: {path: /etc/kubernetes/scheduler.conf, type: FileOrCreate}}]
`)},
	})
}

// FuzzManifest: for any manifest, finding what it affects and where it
// serves never panics, and the restart annotation changes the pod by the
// annotation alone.
func FuzzManifest(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		pod, err := manifests.Parse(data)
		if err != nil {
			return
		}
		set := &Set{}
		for _, name := range Order {
			if c, err := manifests.FindComponent(pod, name); err == nil {
				set.Manifests = append(set.Manifests, &Manifest{Component: name, Path: "pod.yaml", pod: pod, container: c})
			}
		}
		for _, m := range set.Manifests {
			var files []string
			for _, r := range manifests.FileReferences(m.pod, m.container) {
				if !filepath.IsAbs(r.Path) {
					t.Fatalf("reference %q is not an absolute host path", r.Path)
				}
				files = append(files, r.Path)
			}
			for _, a := range set.Affected(files) {
				for _, e := range a.Endpoints {
					if e.Address == "" || !strings.Contains(e.Address, ":") {
						t.Fatalf("endpoint address %q", e.Address)
					}
				}
			}
		}
		out, err := manifests.SetAnnotation(data, RestartAnnotation, "2026-03-01T10:00:00Z")
		if err != nil {
			return
		}
		before := pod
		after, err := manifests.Parse(out)
		if err != nil {
			t.Fatalf("the annotated manifest does not parse: %v\n%s", err, out)
		}
		if after.Annotations[RestartAnnotation] != "2026-03-01T10:00:00Z" {
			t.Fatalf("annotation %q", after.Annotations[RestartAnnotation])
		}
		delete(after.Annotations, RestartAnnotation)
		if before.Annotations == nil && len(after.Annotations) == 0 {
			after.Annotations = nil
		}
		if !apiequality.Semantic.DeepEqual(before, after) {
			t.Fatalf("more than the annotation changed:\n%s\n----\n%s", data, out)
		}
	})
}
