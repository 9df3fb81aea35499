package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/certctl/certctl/internal/testcluster"
	"github.com/certctl/certctl/manifests"
	"github.com/certctl/certctl/manifests/staticpods"
	"github.com/certctl/certctl/pki"
)

// TestCronRenewalRestartsAndVerifies is issue 8 end to end, on a real control plane: two
// certificates are short-lived (renewed with --certificate-validity 1h), the static pod manifests
// are the ones kubeadm v1.37.1 writes (with this cluster's folders and ports), and the test plays
// the kubelet: it restarts a component whose manifest's restart annotation changed. Then
//
//	certctl renew all --if-expires-within 2h --restart-control-plane -o json
//
// must renew exactly those two, annotate exactly the manifests of etcd and kube-apiserver, see
// each restarted (a new process on its port) and serving its new certificate, and exit 0; an
// independent TLS handshake confirms the served serials. Run again, it has nothing to do: exit 2.
func TestCronRenewalRestartsAndVerifies(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{})
	ctx := testCtx(t, 5*time.Minute)
	pkiDir, kubeDir := c.PKIDir(), c.KubeconfigDir()
	folders := []string{"--cert-dir", pkiDir, "--kubeconfig-dir", kubeDir}
	if err := c.PKI().Certctl(ctx, append([]string{"renew", "apiserver", "etcd-server", "--certificate-validity", "1h"}, folders...)...); err != nil {
		t.Fatal(err)
	}
	manifestDir := filepath.Join(c.Dir(), "manifests")
	writeKubeadmManifests(t, ctx, c, manifestDir)
	before := map[string][]byte{}
	for _, name := range staticpods.Order {
		before[name], _ = os.ReadFile(filepath.Join(manifestDir, name+".yaml"))
	}

	k := startKubelet(t, ctx, c, manifestDir)
	args := append([]string{"renew", "all", "--if-expires-within", "2h", "--restart-control-plane", "--manifest-dir", manifestDir,
		"--restart-timeout", "3m", "-o", "json"}, folders...)
	cmd := exec.CommandContext(ctx, certctlBin(t), args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	t.Logf("$ certctl %s\n%s\nstderr:\n%s", strings.Join(args, " "), out, stderr.String())
	if err != nil {
		t.Fatalf("certctl renew: %v", err)
	}
	var s struct {
		Status  string `json:"status"`
		Renewed []struct {
			Name   string `json:"name"`
			Serial string `json:"serial"`
		} `json:"renewed"`
		Skipped []struct {
			Name, Reason string
		} `json:"skipped"`
		Restarts []staticpods.Result `json:"restarts"`
	}
	if err := json.Unmarshal(out, &s); err != nil {
		t.Fatalf("decode the summary: %v", err)
	}
	var renewed []string
	for _, r := range s.Renewed {
		renewed = append(renewed, r.Name)
	}
	if s.Status != "renewed" || !slices.Equal(renewed, []string{"apiserver", "etcd-server"}) || len(s.Skipped) != 9 {
		t.Errorf("status %q, renewed %q, %d skipped; want renewed [apiserver etcd-server], 9 skipped", s.Status, renewed, len(s.Skipped))
	}
	for _, sk := range s.Skipped {
		if sk.Reason != "not-due" {
			t.Errorf("%s skipped as %q", sk.Name, sk.Reason)
		}
	}
	newAPIServer := readCert(t, filepath.Join(pkiDir, "apiserver.crt"))
	newEtcd := readCert(t, filepath.Join(pkiDir, "etcd", "server.crt"))
	want := map[string]string{pki.Etcd: staticpods.Serial(newEtcd), pki.KubeAPIServer: staticpods.Serial(newAPIServer)}
	if len(s.Restarts) != 2 {
		t.Fatalf("restarts %+v, want etcd and kube-apiserver", s.Restarts)
	}
	for i, name := range []string{pki.Etcd, pki.KubeAPIServer} {
		r := s.Restarts[i]
		if r.Component != name || r.Status != staticpods.ServingNew || r.Restarted == nil || !*r.Restarted ||
			len(r.Endpoints) != 1 || r.Endpoints[0].ServedSerial != want[name] {
			t.Errorf("restart %d: %+v; want %s restarted, serving serial %s", i, r, name, want[name])
		}
	}
	// certctl is done once the new kube-apiserver serves its certificate; the harness's Restart
	// also waits for it to be ready.
	deadline := time.Now().Add(2 * time.Minute)
	for len(k.restarted()) < 2 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if got := k.restarted(); !slices.Equal(got, []string{pki.Etcd, pki.KubeAPIServer}) {
		t.Errorf("the kubelet restarted %q, want etcd then kube-apiserver", got)
	}
	// Only the affected manifests changed, and only by the annotation.
	for _, name := range staticpods.Order {
		after, _ := os.ReadFile(filepath.Join(manifestDir, name+".yaml"))
		affected := name == pki.Etcd || name == pki.KubeAPIServer
		if affected == bytes.Equal(before[name], after) {
			t.Errorf("%s.yaml changed: %v, want %v", name, !affected, affected)
		}
		if affected && bytes.Count(after, []byte("\n")) != bytes.Count(before[name], []byte("\n"))+1 {
			t.Errorf("%s.yaml: more than one line added:\n%s", name, after)
		}
	}
	// An independent look at what is served.
	if got := served(t, c.Addr(testcluster.APIServer), clientTLS(t, c, "ca.crt", "")); !got.Equal(newAPIServer) {
		t.Errorf("kube-apiserver serves serial %x, want the renewed %x", got.SerialNumber, newAPIServer.SerialNumber)
	}
	if got := served(t, c.Addr(testcluster.Etcd), clientTLS(t, c, "etcd/ca.crt", "apiserver-etcd-client")); !got.Equal(newEtcd) {
		t.Errorf("etcd serves serial %x, want the renewed %x", got.SerialNumber, newEtcd.SerialNumber)
	}
	cs, err := c.AdminClient()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.RbacV1().ClusterRoleBindings().Get(ctx, "kubeadm:cluster-admins", metav1.GetOptions{}); err != nil {
		t.Errorf("kube-apiserver does not read etcd after the restarts: %v", err)
	}

	// The next day's run: nothing to do, exit 2, nothing printed with --quiet.
	again := exec.CommandContext(ctx, certctlBin(t), append([]string{"renew", "all", "--if-expires-within", "2h", "--restart-control-plane",
		"--manifest-dir", manifestDir, "--quiet"}, folders...)...)
	b, err := again.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 || len(b) != 0 {
		t.Errorf("second run: %v, output %q; want exit 2 and no output", err, b)
	}
}

// writeKubeadmManifests writes the four static pod manifests kubeadm v1.37.1 makes (its
// --dry-run) for this cluster's ports, with /etc/kubernetes replaced by the cluster's folder.
func writeKubeadmManifests(t *testing.T, ctx context.Context, c *testcluster.Cluster, dir string) {
	t.Helper()
	bin, err := testcluster.BinDir("", "kubeadm")
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	cfg := fmt.Sprintf(`apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
localAPIEndpoint:
  advertiseAddress: 198.51.100.10
  bindPort: %d
nodeRegistration:
  name: %s
  criSocket: unix:///var/run/containerd/containerd.sock
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
kubernetesVersion: %s
certificatesDir: /etc/kubernetes/pki
apiServer:
  extraArgs:
  - {name: bind-address, value: 127.0.0.1}
etcd:
  local:
    extraArgs:
    - {name: listen-client-urls, value: "https://127.0.0.1:%d"}
    - {name: listen-peer-urls, value: "https://127.0.0.1:%d"}
`, c.Port(testcluster.APIServer), testcluster.NodeName, testcluster.KubeVersion, c.Port(testcluster.Etcd), c.EtcdPeerPort())
	if err := os.WriteFile(filepath.Join(work, "kubeadm.yaml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, phase := range [][]string{{"control-plane", "all"}, {"etcd", "local"}} {
		cmd := exec.CommandContext(ctx, filepath.Join(bin, "kubeadm"), append(append([]string{"init", "phase"}, phase...), "--config", filepath.Join(work, "kubeadm.yaml"), "--dry-run")...)
		cmd.Env = append(os.Environ(), "KUBEADM_INIT_DRYRUN_DIR="+work)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("kubeadm init phase %s --dry-run: %v\n%s", strings.Join(phase, " "), err, out)
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, name := range staticpods.Order {
		data, err := os.ReadFile(filepath.Join(work, name+".yaml"))
		if err != nil {
			t.Fatalf("kubeadm wrote no %s manifest: %v", name, err)
		}
		data = bytes.ReplaceAll(data, []byte("/etc/kubernetes"), []byte(c.KubeconfigDir()))
		if err := os.WriteFile(filepath.Join(dir, name+".yaml"), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// fakeKubelet restarts, through the harness, a component whose manifest's restart annotation
// changed, as the kubelet replaces a static pod whose manifest changed. Like the kubelet it reads
// only the manifests, never dot-files.
type fakeKubelet struct {
	mu   sync.Mutex
	done []string
}

func (k *fakeKubelet) restarted() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return slices.Clone(k.done)
}

func startKubelet(t *testing.T, ctx context.Context, c *testcluster.Cluster, dir string) *fakeKubelet {
	k := &fakeKubelet{}
	seen := map[string]string{}
	ctx, cancel := context.WithCancel(ctx)
	stopped := make(chan struct{})
	t.Cleanup(func() { cancel(); <-stopped })
	go func() {
		defer close(stopped)
		for ctx.Err() == nil {
			for _, name := range []string{testcluster.Etcd, testcluster.APIServer, testcluster.ControllerManager} {
				data, err := os.ReadFile(filepath.Join(dir, name+".yaml"))
				if err != nil {
					continue
				}
				pod, err := manifests.Parse(data)
				if err != nil {
					t.Errorf("the kubelet cannot read %s.yaml: %v", name, err)
					return
				}
				v := pod.Annotations[staticpods.RestartAnnotation]
				if v == seen[name] {
					continue
				}
				seen[name] = v
				t.Logf("kubelet: %s.yaml has %s=%s: restarting %s", name, staticpods.RestartAnnotation, v, name)
				if err := c.Restart(ctx, name); err != nil {
					t.Errorf("kubelet: restart %s: %v", name, err)
					return
				}
				k.mu.Lock()
				k.done = append(k.done, name)
				k.mu.Unlock()
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	return k
}
