package e2e

import (
	"bufio"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	certv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/certctl/certctl/internal/testcluster"
	"github.com/certctl/certctl/pki"
)

// signerCertctl returns the certctl under test (testcluster.CertctlBinary).
func signerCertctl(t *testing.T) string {
	t.Helper()
	bin, err := testcluster.CertctlBinary()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// runCertctl runs certctl to completion and returns its combined output and error.
func runCertctl(t *testing.T, ctx context.Context, args ...string) (string, error) {
	t.Helper()
	out, err := exec.CommandContext(ctx, signerCertctl(t), args...).CombinedOutput()
	t.Logf("$ certctl %s\n%s", strings.Join(args, " "), out)
	return string(out), err
}

// proc is a long-running program a test started.
type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	err  error // how it exited, once done is closed
	log  string
}

// startProc starts bin with args, output to DIR/NAME.log, in its own process group and killed
// with the test process (Pdeathsig). The test's cleanup stops it: SIGTERM, then SIGKILL after 15s.
func startProc(t *testing.T, dir, name, bin string, args ...string) *proc {
	t.Helper()
	logPath := filepath.Join(dir, name+".log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	fmt.Fprintf(logFile, "==== %s %s\n", bin, strings.Join(args, " "))
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{}), log: logPath}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.stop(t)
		if t.Failed() {
			data, _ := os.ReadFile(logPath)
			lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
			if len(lines) > 60 {
				lines = lines[len(lines)-60:]
			}
			t.Logf("---- last lines of %s:\n%s", logPath, strings.Join(lines, "\n"))
		}
	})
	return p
}

// stop sends SIGTERM to the process it started, waits up to 15s, then SIGKILL.
func (p *proc) stop(t *testing.T) {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		t.Logf("%s (pid %d) ignored SIGTERM for 15s: killing it", p.name, p.cmd.Process.Pid)
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

var listenLine = regexp.MustCompile(`/healthz, /readyz and /metrics on http://(\S+)`)

// startSignerRun starts `certctl signer run` with args plus --listen-address 127.0.0.1:0 and
// waits until its /readyz answers ok (its informer listed the CSRs). It returns the process and the
// endpoint's base URL.
func startSignerRun(t *testing.T, ctx context.Context, dir string, args ...string) (*proc, string) {
	t.Helper()
	p := startProc(t, dir, "certctl-signer", signerCertctl(t), append(append([]string{"signer", "run"}, args...), "--listen-address", "127.0.0.1:0")...)
	var base string
	for base == "" {
		if p.exited() {
			t.Fatalf("certctl signer run exited during start-up; see %s", p.log)
		}
		f, err := os.Open(p.log)
		if err == nil {
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				if m := listenLine.FindStringSubmatch(sc.Text()); m != nil {
					base = "http://" + m[1]
				}
			}
			f.Close()
		}
		if base == "" {
			sleepOrFail(t, ctx, 20*time.Millisecond, "certctl signer run to print its address")
		}
	}
	for {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && string(body) == "ok" {
				return p, base
			}
		}
		if p.exited() {
			t.Fatalf("certctl signer run exited; see %s", p.log)
		}
		sleepOrFail(t, ctx, 50*time.Millisecond, "certctl signer run's /readyz")
	}
}

func sleepOrFail(t *testing.T, ctx context.Context, d time.Duration, what string) {
	t.Helper()
	select {
	case <-ctx.Done():
		t.Fatalf("wait for %s: %v", what, ctx.Err())
	case <-time.After(d):
	}
}

// waitHealthz polls https://ADDR/healthz, whose serving certificate no CA vouches for.
func waitHealthz(t *testing.T, ctx context.Context, p *proc, addr string) {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // self-signed serving cert
	defer client.CloseIdleConnections()
	for {
		resp, err := client.Get("https://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if p.exited() {
			t.Fatalf("%s exited during start-up; see %s", p.name, p.log)
		}
		sleepOrFail(t, ctx, 100*time.Millisecond, p.name+"'s /healthz")
	}
}

// newKey returns a fresh ECDSA P-256 key.
func newKey(t testing.TB) crypto.Signer {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// createCSR creates a CSR for profile p's subject and SANs with key, for signerName.
func createCSR(t testing.TB, ctx context.Context, cs kubernetes.Interface, name, signerName string, p pki.Profile, key crypto.Signer, usages []certv1.KeyUsage) *certv1.CertificateSigningRequest {
	t.Helper()
	req, err := pki.NewCSR(rand.Reader, p, key)
	if err != nil {
		t.Fatal(err)
	}
	csr := &certv1.CertificateSigningRequest{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       certv1.CertificateSigningRequestSpec{Request: pki.EncodeCSR(req), SignerName: signerName, Usages: usages},
	}
	created, err := cs.CertificatesV1().CertificateSigningRequests().Create(ctx, csr, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create CSR %s: %v", name, err)
	}
	return created
}

// approve adds an Approved condition through the /approval subresource, without checks.
func approve(t testing.TB, ctx context.Context, cs kubernetes.Interface, csr *certv1.CertificateSigningRequest) {
	t.Helper()
	csr = csr.DeepCopy()
	csr.Status.Conditions = append(csr.Status.Conditions, certv1.CertificateSigningRequestCondition{
		Type: certv1.CertificateApproved, Status: corev1.ConditionTrue, Reason: "E2ETest", Message: "approved by test/e2e",
	})
	if _, err := cs.CertificatesV1().CertificateSigningRequests().UpdateApproval(ctx, csr.Name, csr, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("approve CSR %s: %v", csr.Name, err)
	}
}

// waitCSR polls CSR name until done says it is finished, and returns it.
func waitCSR(t *testing.T, ctx context.Context, cs kubernetes.Interface, name string, done func(*certv1.CertificateSigningRequest) bool) *certv1.CertificateSigningRequest {
	t.Helper()
	for {
		csr, err := cs.CertificatesV1().CertificateSigningRequests().Get(ctx, name, metav1.GetOptions{})
		if err == nil && done(csr) {
			return csr
		}
		sleepOrFail(t, ctx, 20*time.Millisecond, "CSR "+name)
	}
}

func issued(csr *certv1.CertificateSigningRequest) bool { return len(csr.Status.Certificate) > 0 }

func hasCondition(csr *certv1.CertificateSigningRequest, typ certv1.RequestConditionType) *certv1.CertificateSigningRequestCondition {
	for i := range csr.Status.Conditions {
		if csr.Status.Conditions[i].Type == typ {
			return &csr.Status.Conditions[i]
		}
	}
	return nil
}

// verifyChain checks that the first certificate of certPEM chains to the CA file caFile for usage.
func verifyChain(t *testing.T, certPEM []byte, caFile string, usage x509.ExtKeyUsage) *x509.Certificate {
	t.Helper()
	cert := parseCertPEM(t, certPEM, "issued certificate")
	if _, err := cert.Verify(x509.VerifyOptions{Roots: certPool(t, caFile), KeyUsages: []x509.ExtKeyUsage{usage}}); err != nil {
		t.Errorf("issued certificate %q does not chain to %s: %v", cert.Subject, caFile, err)
	}
	return cert
}
