// Package manifests reads, patches and writes the static pod manifests of a
// kubeadm control-plane node (/etc/kubernetes/manifests/*.yaml).
//
// The patch functions are pure: bytes in, bytes out. A manifest is decoded
// strictly into k8s.io/api's Pod to know what to change, and then only the
// lines holding the changed values are edited (text.go, edit.go): comments,
// CRLF line endings, key order, quoting and every other byte stay, and a
// JSON manifest stays JSON. When a patch changes nothing, the input comes
// back unchanged: running a patch twice never rewrites a file.
//
// The package knows nothing of certificates: callers pass file paths in and
// check the files themselves.
package manifests

import (
	"bytes"
	"errors"
	"fmt"
	"path"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// ErrNoContainer is returned when a manifest has no container for the
// component being patched.
var ErrNoContainer = errors.New("manifests: no container for the component")

// Parse decodes a static pod manifest. It is strict: a field that the Pod
// type does not know is an error, because encoding the pod again would drop
// it silently. The document must be a single v1 Pod.
func Parse(data []byte) (*corev1.Pod, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fmt.Errorf("manifests: empty manifest")
	}
	if isMultiDocument(data) {
		return nil, fmt.Errorf("manifests: more than one YAML document; a static pod manifest holds one Pod, and the kubelet reads the first document alone: move the others out of the file")
	}
	var pod corev1.Pod
	if err := yaml.UnmarshalStrict(data, &pod); err != nil {
		err = lineError{err}
		if yaml.Unmarshal(data, &corev1.Pod{}) == nil {
			// The kubelet decodes leniently: it would drop a misspelled
			// field and run the pod without it.
			return nil, fmt.Errorf("manifests: decode Pod: %w: a field a v1 Pod does not have (misspelled?), or a key given twice, which the kubelet ignores or overrides; correct it by hand", err)
		}
		return nil, fmt.Errorf("manifests: decode Pod: %w: fix the manifest by hand; the kubelet cannot read it either", err)
	}
	if pod.APIVersion != "v1" || pod.Kind != "Pod" {
		return nil, fmt.Errorf("manifests: not a static pod: apiVersion %q, kind %q; want v1 Pod", pod.APIVersion, pod.Kind)
	}
	return &pod, nil
}

// lineError prints err on one line (yaml.v2 lists its errors one per
// line) and unwraps to it.
type lineError struct{ err error }

func (e lineError) Error() string { return strings.Join(strings.Fields(e.err.Error()), " ") }
func (e lineError) Unwrap() error { return e.err }

// isMultiDocument reports whether data holds content after a YAML
// document separator that follows content: yaml.Unmarshal would read the
// first document only. An empty document after the Pod (a trailing
// "---", which the kubelet reads past too) is not a second one.
func isMultiDocument(data []byte) bool {
	seen, after := false, false
	for _, l := range strings.Split(string(data), "\n") {
		t := strings.TrimRight(l, " \t\r")
		if t == "---" || strings.HasPrefix(t, "--- ") {
			after = seen
			t = strings.TrimSpace(strings.TrimPrefix(t, "---")) // content on the separator's line
		}
		if t = strings.TrimSpace(t); t != "" && !strings.HasPrefix(t, "#") {
			if after {
				return true
			}
			seen = true
		}
	}
	return false
}

// FindComponent returns the container of component name in pod: the one
// named name, else the only one whose command runs a binary called name (a
// hand-edited manifest may have renamed the container).
func FindComponent(pod *corev1.Pod, name string) (*corev1.Container, error) {
	for i := range pod.Spec.Containers {
		if pod.Spec.Containers[i].Name == name {
			return &pod.Spec.Containers[i], nil
		}
	}
	var found *corev1.Container
	for i := range pod.Spec.Containers {
		c := &pod.Spec.Containers[i]
		if len(c.Command) > 0 && path.Base(c.Command[0]) == name {
			if found != nil {
				return nil, fmt.Errorf("%w: containers %q and %q both run %s; name the right one %q", ErrNoContainer, found.Name, c.Name, name, name)
			}
			found = c
		}
	}
	if found == nil {
		return nil, fmt.Errorf("%w: no container named %q or running %s in pod %q", ErrNoContainer, name, name, pod.Name)
	}
	return found, nil
}
