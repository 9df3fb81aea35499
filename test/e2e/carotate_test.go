package e2e

import (
	"context"
	"crypto/x509"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	certv1 "k8s.io/api/certificates/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/certctl/certctl/internal/doctest"
	"github.com/certctl/certctl/internal/testcluster"
	"github.com/certctl/certctl/pki"
)

// TestRotateClusterCA rotates the cluster CA of a real one-node control
// plane (etcd, kube-apiserver, kube-controller-manager run by the harness
// Kubelet from their static pod manifests) through trust, reissue and
// finish, with --restart-control-plane. At every stage admin.conf, read
// again, lists namespaces, and kube-controller-manager signs a CSR with the
// CA the stage says (the old one at trust, the new one after reissue and
// finish): its signing flags, which cannot name a bundle, follow the
// stages. A client re-reading admin.conf every 50 ms through the whole
// rotation measures the unavailability window, which the test reports (one
// node restarts its only kube-apiserver: requests fail meanwhile). The
// commands are those of docs/ca-rotation.md's console of the three stages
// and `ca status`, run with the harness's folder flags, and what they print
// is compared with the console.
func TestRotateClusterCA(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{})
	ctx := testCtx(t, 10*time.Minute)
	k, err := c.StartKubelet(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pkiDir := c.PKIDir()
	p := startAdminProbe(ctx, c.Kubeconfig("admin.conf"))

	// The commands are docs/ca-rotation.md's, with the harness's folders.
	folders := []string{"--cert-dir", pkiDir, "--kubeconfig-dir", c.KubeconfigDir(), "--manifest-dir", c.ManifestDir()}
	want := docConsole(t, "ca-rotation.md", "$ sudo certctl ca rotate ca --restart-control-plane     # trust", c.KubeconfigDir(), testcluster.NodeName)
	var commands []string // the console's command lines
	for _, l := range want {
		if strings.HasPrefix(l, "$ ") {
			commands = append(commands, l)
		}
	}
	if len(commands) != 4 {
		t.Fatalf("docs/ca-rotation.md's console has %d commands, want the three stages and ca status: %q", len(commands), commands)
	}
	var got []string
	stages := []struct {
		stage    string
		signedBy string // the file of the CA that signs CSRs at that stage
	}{
		{"trust", "ca.old.crt"},
		{"reissue", "ca.new.crt"},
		{"finished", "ca.crt"},
	}
	var newCA *x509.Certificate
	for i, s := range stages {
		if !strings.HasSuffix(commands[i], "# "+strings.TrimSuffix(s.stage, "ed")) {
			t.Errorf("docs/ca-rotation.md's command %q is not stage %s", commands[i], s.stage)
		}
		start := time.Now()
		out, err := runCertctl(t, ctx, docCommand(t, commands[i], folders...)...)
		if err != nil {
			t.Fatalf("%s (%s): %v\n%s", commands[i], s.stage, err, out)
		}
		got = append(append(got, commands[i]), doctest.OutputLines(out, folders...)...)
		t.Logf("stage %s took %v", s.stage, time.Since(start).Round(time.Millisecond))
		if i == 0 {
			newCA = readCert(t, filepath.Join(pkiDir, "ca.new.crt"))
		}
		cs := adminClient(t, c)
		// A restarted kube-apiserver answers "forbidden" until its RBAC caches are filled.
		if err := eventually(ctx, 30*time.Second, func() error {
			_, err := cs.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
			return err
		}); err != nil {
			t.Fatalf("after %s: admin.conf cannot list namespaces: %v", s.stage, err)
		}
		key := newKey(t)
		name := fmt.Sprintf("rotate-%s", s.stage)
		csr := createCSR(t, ctx, cs, name, certv1.KubeAPIServerClientSignerName,
			pki.Profile{Name: name, CommonName: "rotate-" + s.stage}, key,
			[]certv1.KeyUsage{certv1.UsageDigitalSignature, certv1.UsageClientAuth})
		approve(t, ctx, cs, csr)
		csr = waitCSR(t, ctx, cs, name, issued)
		cert := verifyChain(t, csr.Status.Certificate, filepath.Join(pkiDir, s.signedBy), x509.ExtKeyUsageClientAuth)
		signedByNew := cert.CheckSignatureFrom(newCA) == nil
		if want := s.stage != "trust"; signedByNew != want {
			t.Errorf("after %s: kube-controller-manager signed with the new CA: %v, want %v", s.stage, signedByNew, want)
		}
	}
	failed, total, window := p.stop()
	t.Logf("admin.conf probe: %d of %d requests failed, during %v in all (kube-apiserver restarts on a single node); Kubelet restarts: kube-apiserver %d, kube-controller-manager %d, etcd %d",
		failed, total, window.Round(time.Millisecond), k.Restarts(testcluster.APIServer), k.Restarts(testcluster.ControllerManager), k.Restarts(testcluster.Etcd))
	if total == 0 || failed == total {
		t.Errorf("the probe made %d requests, %d failed", total, failed)
	}
	out, err := runCertctl(t, ctx, docCommand(t, commands[3], folders...)...)
	if err != nil {
		t.Fatalf("%s: %v\n%s", commands[3], err, out)
	}
	checkDocConsole(t, "ca-rotation.md", want, append(append(got, commands[3]), doctest.OutputLines(out, folders...)...))
	if out, err := runCertctl(t, ctx, "ca", "status", "-o", "wide", "--cert-dir", pkiDir, "--kubeconfig-dir", c.KubeconfigDir()); err != nil {
		t.Fatalf("ca status: %v\n%s", err, out)
	}
}

func adminClient(t *testing.T, c *testcluster.Cluster) *kubernetes.Clientset {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", c.Kubeconfig("admin.conf"))
	if err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// adminProbe reads admin.conf again and makes a request every 50 ms.
type adminProbe struct {
	cancel        context.CancelFunc
	wg            sync.WaitGroup
	failed, total int
	window        time.Duration // the sum of the intervals between a failure and the next success
}

func startAdminProbe(ctx context.Context, kubeconfig string) *adminProbe {
	ctx, cancel := context.WithCancel(ctx)
	p := &adminProbe{cancel: cancel}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		var down time.Time
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			err := func() error {
				cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
				if err != nil {
					return err
				}
				cfg.Timeout = 2 * time.Second
				cs, err := kubernetes.NewForConfig(cfg)
				if err != nil {
					return err
				}
				_, err = cs.Discovery().ServerVersion()
				return err
			}()
			p.total++
			switch {
			case err != nil && down.IsZero():
				p.failed++
				down = time.Now()
			case err != nil:
				p.failed++
			case !down.IsZero():
				p.window += time.Since(down)
				down = time.Time{}
			}
		}
	}()
	return p
}

func (p *adminProbe) stop() (failed, total int, window time.Duration) {
	p.cancel()
	p.wg.Wait()
	return p.failed, p.total, p.window
}
