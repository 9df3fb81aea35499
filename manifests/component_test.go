package manifests

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/certctl/certctl/pki"
)

func TestFileReferencesKubeadm(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "kubeadm.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	pod, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	c, err := FindComponent(pod, pki.KubeControllerManager)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, r := range FileReferences(pod, c) {
		got[r.Path] = append(got[r.Path], r.Flag)
	}
	want := map[string][]string{
		"/etc/kubernetes/controller-manager.conf": {"authentication-kubeconfig", "authorization-kubeconfig", "kubeconfig"},
		"/etc/kubernetes/pki/ca.crt":              {"client-ca-file", "cluster-signing-cert-file", "root-ca-file"},
		"/etc/kubernetes/pki/ca.key":              {"cluster-signing-key-file"},
		"/etc/kubernetes/pki/front-proxy-ca.crt":  {"requestheader-client-ca-file"},
		"/etc/kubernetes/pki/sa.key":              {"service-account-private-key-file"},
	}
	for p, flags := range want {
		if !slices.Equal(got[p], flags) {
			t.Errorf("%s named by %q, want %q", p, got[p], flags)
		}
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			t.Errorf("unexpected reference %s (%q)", p, got[p])
		}
	}
	if v, ok := FlagValue(c, "bind-address"); !ok || v != "127.0.0.1" {
		t.Errorf("FlagValue(bind-address) = %q, %v", v, ok)
	}
	if _, ok := FlagValue(c, "secure-port"); ok {
		t.Error("FlagValue(secure-port) found a flag kubeadm does not set")
	}
}

// TestFileReferencesMounts: host paths come through the hostPath volume of
// the longest covering mount, with its subPath; a path no hostPath mount
// covers, a "--flag value" pair, exec probes, --tls-sni-cert-key's
// certificate and key (before its domain names), and a comma in a path,
// which every other flag takes as one.
func TestFileReferencesMounts(t *testing.T) {
	pod, err := Parse([]byte(`apiVersion: v1
kind: Pod
metadata: {name: etcd, namespace: kube-system}
spec:
  containers:
  - name: etcd
    command: [etcd, --cert-file=/certs/server.crt, --peer-cert-file, /certs/peer/peer.crt, --data-dir=/var/lib/etcd, --trusted-ca-file=/image/ca.crt, "--key-file=/certs/v1,v2/server.key"]
    args: ["--tls-sni-cert-key=/certs/a.crt,/certs/a.key", "--tls-sni-cert-key=/certs/b.crt, /certs/b.key:b.example.com,/certs/c.crt"]
    livenessProbe:
      exec: {command: [etcdctl, --cert=/certs/healthcheck-client.crt]}
    volumeMounts:
    - {name: certs, mountPath: /certs}
    - {name: peer, mountPath: /certs/peer}
    - {name: data, mountPath: /var/lib/etcd}
    - {name: empty, mountPath: /image}
  volumes:
  - {name: certs, hostPath: {path: /srv/pki/etcd}}
  - {name: peer, hostPath: {path: /srv/peer-pki}}
  - {name: data, hostPath: {path: /var/lib/etcd}}
  - {name: empty, emptyDir: {}}
`))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range FileReferences(pod, &pod.Spec.Containers[0]) {
		got = append(got, r.Flag+"="+r.Path)
	}
	want := []string{
		"cert-file=/srv/pki/etcd/server.crt",
		"peer-cert-file=/srv/peer-pki/peer.crt",
		"data-dir=/var/lib/etcd",
		"key-file=/srv/pki/etcd/v1,v2/server.key",
		"tls-sni-cert-key=/srv/pki/etcd/a.crt",
		"tls-sni-cert-key=/srv/pki/etcd/a.key",
		"tls-sni-cert-key=/srv/pki/etcd/b.crt",
		"tls-sni-cert-key=/srv/pki/etcd/b.key",
		"cert=/srv/pki/etcd/healthcheck-client.crt",
	}
	if !slices.Equal(got, want) {
		t.Errorf("references\n got %q\nwant %q", got, want)
	}
}

func TestSetAnnotationKeepsKubeadmShape(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "kubeadm.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := SetAnnotation(data, "certctl.io/restartedAt", "2026-03-01T10:00:00Z")
	if err != nil {
		t.Fatal(err)
	}
	d, err := UnifiedDiff("a", "b", data, out)
	if err != nil {
		t.Fatal(err)
	}
	var added, removed []string
	for _, l := range strings.Split(d, "\n") {
		switch {
		case strings.HasPrefix(l, "+++"), strings.HasPrefix(l, "---"):
		case strings.HasPrefix(l, "+"):
			added = append(added, l)
		case strings.HasPrefix(l, "-"):
			removed = append(removed, l)
		}
	}
	wantAdded := []string{"+  annotations:", `+    certctl.io/restartedAt: "2026-03-01T10:00:00Z"`}
	if len(removed) != 0 || !slices.Equal(added, wantAdded) {
		t.Errorf("diff is not the annotation alone:\n%s", d)
	}
	again, err := SetAnnotation(out, "certctl.io/restartedAt", "2026-03-02T10:00:00Z")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(string(again), "certctl.io/restartedAt") != 1 || !strings.Contains(string(again), "2026-03-02T10:00:00Z") {
		t.Errorf("second SetAnnotation did not replace the value:\n%s", again)
	}
}
