package staticpods

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	apiequality "k8s.io/apimachinery/pkg/api/equality"

	"github.com/certctl/certctl/internal/refused"
	"github.com/certctl/certctl/manifests"
	"github.com/certctl/certctl/pki"
)

var fixedNow = func() time.Time { return time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC) }

// newCert makes a self-signed serving certificate with the given serial.
func newCert(t *testing.T, serial int64) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "kube-apiserver"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// server is a TLS server whose certificate a test swaps, as a restarted
// component would serve its new one.
type server struct {
	addr string
	cert atomic.Pointer[tls.Certificate]
}

func startServer(t *testing.T, cert tls.Certificate) *server {
	t.Helper()
	s := &server{}
	s.cert.Store(&cert)
	l, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return s.cert.Load(), nil },
		// As etcd with --client-cert-auth: certctl presents none.
		ClientAuth: tls.RequireAnyClientCert,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { c.(*tls.Conn).Handshake(); c.Close() }()
		}
	}()
	s.addr = l.Addr().String()
	return s
}

// node is a manifest folder with an apiserver manifest pointing at a test
// server and a certificate folder, plus kubeadm's other three manifests.
type node struct {
	manifestDir, certDir string
	srv                  *server
}

func newNode(t *testing.T, served tls.Certificate) *node {
	t.Helper()
	n := &node{manifestDir: kubeadmDir(t), certDir: t.TempDir(), srv: startServer(t, served)}
	host, port, _ := net.SplitHostPort(n.srv.addr)
	apiserver := fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata:
  labels: {component: kube-apiserver, tier: control-plane}
  name: kube-apiserver
  namespace: kube-system
spec:
  containers:
  - command:
    - kube-apiserver
    - --bind-address=%s
    - --secure-port=%s
    - --tls-cert-file=/etc/kubernetes/pki/apiserver.crt
    - --etcd-certfile=/etc/kubernetes/pki/apiserver-etcd-client.crt
    image: registry.k8s.io/kube-apiserver:v1.37.1
    name: kube-apiserver
    volumeMounts:
    - {mountPath: /etc/kubernetes/pki, name: k8s-certs, readOnly: true}
  hostNetwork: true
  volumes:
  - hostPath: {path: %s, type: DirectoryOrCreate}
    name: k8s-certs
`, host, port, n.certDir)
	if err := os.WriteFile(filepath.Join(n.manifestDir, "kube-apiserver.yaml"), []byte(apiserver), 0o600); err != nil {
		t.Fatal(err)
	}
	n.writeCert(t, "apiserver.crt", served)
	return n
}

func (n *node) writeCert(t *testing.T, name string, c tls.Certificate) {
	t.Helper()
	data := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Certificate[0]})
	if err := os.WriteFile(filepath.Join(n.certDir, name), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func snapshot(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string][]byte{}
	for _, e := range entries {
		m[e.Name()], _ = os.ReadFile(filepath.Join(dir, e.Name()))
	}
	return m
}

// kubelet plays the kubelet's part for the test: when a manifest's
// restart annotation changes it "restarts" the component, which then
// listens with a new PID and serves next (if not nil).
type kubelet struct {
	mu   sync.Mutex
	pids map[int]int // port -> pid
}

func (k *kubelet) listenerPID(_ string, port int) (int, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if pid, ok := k.pids[port]; ok {
		return pid, nil
	}
	return 100, nil
}

func (k *kubelet) watch(t *testing.T, ctx context.Context, path string, port int, swap func()) {
	go func() {
		for ctx.Err() == nil {
			data, err := os.ReadFile(path)
			if err == nil {
				if pod, err := manifests.Parse(data); err == nil && pod.Annotations[RestartAnnotation] != "" {
					time.Sleep(50 * time.Millisecond) // the old pod stops, the new one starts
					if swap != nil {
						swap()
					}
					k.mu.Lock()
					k.pids[port] = 200
					k.mu.Unlock()
					return
				}
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
}

// TestRestartOnlyAffected: only the manifests that name a changed file
// get the annotation, every other byte of them is kept, no temporary file
// is left, and each restarted component is verified.
func TestRestartOnlyAffected(t *testing.T) {
	oldCert, newCert := newCert(t, 1001), newCert(t, 2002)
	n := newNode(t, oldCert)
	n.writeCert(t, "apiserver.crt", newCert) // the renewal
	before := snapshot(t, n.manifestDir)
	set, err := Load(n.manifestDir)
	if err != nil {
		t.Fatal(err)
	}
	affected := set.Affected([]string{filepath.Join(n.certDir, "apiserver.crt"), "/etc/kubernetes/scheduler.conf"})
	if len(affected) != 2 || affected[0].Component != pki.KubeAPIServer || affected[1].Component != pki.KubeScheduler {
		t.Fatalf("affected: %+v", affected)
	}
	_, port, _ := net.SplitHostPort(n.srv.addr)
	k := &kubelet{pids: map[int]int{}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var p int
	fmt.Sscan(port, &p)
	k.watch(t, ctx, filepath.Join(n.manifestDir, "kube-apiserver.yaml"), p, func() { n.srv.cert.Store(&newCert) })
	k.watch(t, ctx, filepath.Join(n.manifestDir, "kube-scheduler.yaml"), 10259, nil)
	var out bytes.Buffer
	results, err := Restart(ctx, affected, Options{Timeout: 5 * time.Second, Poll: 20 * time.Millisecond, Now: fixedNow, Out: &out, ListenerPID: k.listenerPID})
	if err != nil {
		t.Fatalf("Restart: %v\n%s", err, out.String())
	}
	if results[0].Status != ServingNew || results[0].Endpoints[0].ServedSerial != "07D2" || results[0].Endpoints[0].OldSerial != "03E9" {
		t.Errorf("kube-apiserver: %+v", results[0])
	}
	if results[1].Status != Restarted || results[1].Restarted == nil || !*results[1].Restarted {
		t.Errorf("kube-scheduler: %+v", results[1])
	}
	for _, want := range []string{"[restart] kube-apiserver: set certctl.io/restartedAt=2026-03-01T10:00:00Z in ", "serving the new certificate: secure port " + n.srv.addr + " serial 07D2", "[restart] kube-scheduler: restarted (pid 200, was 100)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	after := snapshot(t, n.manifestDir)
	if len(after) != len(before) {
		t.Errorf("files before %d, after %d: a temporary file was left?", len(before), len(after))
	}
	for name, b := range before {
		changed := !bytes.Equal(b, after[name])
		if want := name == "kube-apiserver.yaml" || name == "kube-scheduler.yaml"; changed != want {
			t.Errorf("%s changed: %v, want %v", name, changed, want)
		}
		if !changed {
			continue
		}
		// The annotation is the only difference.
		p, err := manifests.Parse(after[name])
		if err != nil {
			t.Fatal(err)
		}
		if p.Annotations[RestartAnnotation] != "2026-03-01T10:00:00Z" {
			t.Errorf("%s: annotation %q", name, p.Annotations[RestartAnnotation])
		}
		delete(p.Annotations, RestartAnnotation)
		if len(p.Annotations) == 0 {
			p.Annotations = nil
		}
		orig, _ := manifests.Parse(b)
		if !apiequality.Semantic.DeepEqual(orig, p) {
			t.Errorf("%s: more than the annotation changed:\n%s", name, after[name])
		}
		if name == "kube-scheduler.yaml" && bytes.Count(after[name], []byte("\n")) != bytes.Count(b, []byte("\n"))+2 {
			t.Errorf("kubeadm's %s: more lines changed than the annotation's two:\n%s", name, after[name])
		}
		// The old manifest is kept outside the manifest folder.
		backup := filepath.Join(manifests.BackupDir(filepath.Join(n.manifestDir, name), fixedNow()), name)
		if got, err := os.ReadFile(backup); err != nil || !bytes.Equal(got, b) {
			t.Errorf("backup %s of %s: %v, same bytes %v", backup, name, err, bytes.Equal(got, b))
		}
		if !strings.Contains(out.String(), "(old one in "+backup+")") {
			t.Errorf("output does not name the backup %s:\n%s", backup, out.String())
		}
	}
}

// TestRestartTimeout: a kubelet that does nothing leaves the old
// certificate served; the components after the failed one are skipped.
func TestRestartTimeout(t *testing.T) {
	oldCert, newCert := newCert(t, 1001), newCert(t, 2002)
	n := newNode(t, oldCert)
	n.writeCert(t, "apiserver.crt", newCert)
	set, err := Load(n.manifestDir)
	if err != nil {
		t.Fatal(err)
	}
	affected := set.Affected([]string{filepath.Join(n.certDir, "apiserver.crt"), "/etc/kubernetes/controller-manager.conf"})
	k := &kubelet{pids: map[int]int{}}
	var out bytes.Buffer
	results, err := Restart(context.Background(), affected, Options{Timeout: 300 * time.Millisecond, Poll: 20 * time.Millisecond, Now: fixedNow, Out: &out, ListenerPID: k.listenerPID})
	if err == nil || !strings.Contains(err.Error(), "kube-apiserver still serves the old certificate") || !strings.Contains(err.Error(), "serial 03E9, want 07D2") {
		t.Fatalf("err = %v", err)
	}
	if results[0].Status != ServingOld || results[1].Status != Skipped {
		t.Errorf("statuses %s, %s", results[0].Status, results[1].Status)
	}
	if data, _ := os.ReadFile(filepath.Join(n.manifestDir, "kube-controller-manager.yaml")); bytes.Contains(data, []byte(RestartAnnotation)) {
		t.Error("kube-controller-manager was annotated after kube-apiserver failed")
	}
	// Served the new certificate (reloaded) but the same process: not restarted.
	n.srv.cert.Store(&newCert)
	results, err = Restart(context.Background(), affected[:1], Options{Timeout: 300 * time.Millisecond, Poll: 20 * time.Millisecond, Now: fixedNow, ListenerPID: k.listenerPID})
	if err == nil || results[0].Status != NotRestarted || !strings.Contains(err.Error(), "same process (pid 100)") {
		t.Errorf("reloaded, not restarted: %v, %+v", err, results[0])
	}
}

func TestServedCapturesCertificateOfServerThatRefusesUs(t *testing.T) {
	c := newCert(t, 77)
	s := startServer(t, c)
	got, err := served(context.Background(), s.addr)
	if err != nil {
		t.Fatal(err)
	}
	if Serial(got) != "4D" {
		t.Errorf("serial %s", Serial(got))
	}
	if _, err := served(context.Background(), refused.Addr(t)); err == nil {
		t.Error("no error from a closed port")
	}
}
