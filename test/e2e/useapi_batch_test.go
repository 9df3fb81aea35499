package e2e

import (
	"context"
	"crypto/x509"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	certv1 "k8s.io/api/certificates/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/certctl/certctl/internal/testcluster"
	"github.com/certctl/certctl/phases/renewal/apirenew"
	"github.com/certctl/certctl/pki"
)

// allRenewed are the certificates `renew all` renews on a test cluster's
// node.
var allRenewed = []string{"apiserver", "apiserver-kubelet-client", "front-proxy-client", "etcd-server", "etcd-peer",
	"etcd-healthcheck-client", "apiserver-etcd-client", "admin.conf", "super-admin.conf", "controller-manager.conf", "scheduler.conf"}

// currentCert is the certificate on disk of the certificate called name.
func currentCert(t *testing.T, c *testcluster.Cluster, name string) *x509.Certificate {
	t.Helper()
	if strings.HasSuffix(name, ".conf") {
		return kubeconfigCert(t, c.Kubeconfig(name))
	}
	if base, ok := strings.CutPrefix(name, "etcd-"); ok {
		name = "etcd/" + base
	}
	return readCert(t, pki.Store{Dir: c.PKIDir()}.CertPath(name))
}

// startBatchSigner starts `certctl signer run` for the certificates
// certctl's signer names issue, super-admin.conf's included.
func startBatchSigner(t *testing.T, ctx context.Context, c *testcluster.Cluster) {
	t.Helper()
	args := append([]string{"--kubeconfig", c.Kubeconfig("admin.conf"), "--cert-dir", c.PKIDir(), "--allow-system-masters"}, c.PKI().Flags()...)
	startSignerRun(t, ctx, t.TempDir(), args...)
}

// batchCSRs reads the eleven CSR lines of `renew all --use-api` and waits
// until it waits for them.
func batchCSRs(t *testing.T, ctx context.Context, r *renewRun) map[string]csrLine {
	t.Helper()
	got := map[string]csrLine{}
	for range allRenewed {
		l := r.nextCSR(t, ctx)
		got[l.target] = l
	}
	<-r.waiting
	return got
}

// TestUseAPIBatchDenied is `renew all --use-api` on a real control plane
// when one CSR, super-admin.conf's, is denied and the ten others are
// approved with the kubectl command certctl prints (run as printed, less
// the denied name): the ten are installed in one transaction with a
// backup, super-admin.conf is left as it was, and the exit status is 6
// with the denial and the command to run. The same renewal again reports
// the denial at once, without a wait or a new CSR; the command certctl
// printed (--new-request=super-admin.conf) requests that one only, and
// installs it once approved.
func TestUseAPIBatchDenied(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{})
	ctx := testCtx(t, 8*time.Minute)
	cs, err := c.SuperAdminClient()
	if err != nil {
		t.Fatal(err)
	}
	startBatchSigner(t, ctx, c)
	before := map[string]*x509.Certificate{}
	for _, n := range allRenewed {
		before[n] = currentCert(t, c, n)
	}

	r := startRenew(t, ctx, c, "all", "--use-api")
	csrs := batchCSRs(t, ctx, r)
	denied := csrs["super-admin.conf"].name
	setCondition(t, ctx, cs, denied, certv1.CertificateDenied, "E2EDenied", "no super-admin today")
	// The kubectl command certctl printed, as printed but for the denied
	// CSR: it names the kubeconfig certctl used.
	var approve []string
	for _, l := range strings.Split(r.output(), "\n") {
		if f, ok := strings.CutPrefix(l, "  kubectl certificate approve "); ok {
			approve = strings.Fields("certificate approve " + f)
		}
	}
	if !slices.Contains(approve, "--kubeconfig") || !slices.Contains(approve, c.Kubeconfig("admin.conf")) {
		t.Fatalf("the printed approve command %q does not name %s", approve, c.Kubeconfig("admin.conf"))
	}
	approve = slices.DeleteFunc(approve, func(s string) bool { return s == denied })
	kubectl := exec.CommandContext(ctx, filepath.Join(os.Getenv("KUBE_BIN_DIR"), "kubectl"), approve...)
	kubectl.Env = append(os.Environ(), "KUBECONFIG=", "HOME="+t.TempDir()) // only what the command says
	if out, err := kubectl.CombinedOutput(); err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(approve, " "), err, out)
	}
	out, code := r.wait(t)
	if code != 6 {
		t.Fatalf("exit status %d, want 6 (not all issued)", code)
	}
	rerun := ""
	for _, want := range []string{"CSR " + denied + ` for super-admin.conf was denied (reason "E2EDenied": no super-admin today)`,
		"certctl renew super-admin.conf --use-api --new-request=super-admin.conf --cert-dir " + c.PKIDir() + " --kubeconfig-dir " + c.KubeconfigDir()} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if i := strings.LastIndex(out, "certctl renew super-admin.conf "); i >= 0 {
		rerun = strings.TrimRight(strings.SplitN(out[i:], "\n", 2)[0], ".")
	}
	for _, n := range allRenewed {
		renewed := !currentCert(t, c, n).Equal(before[n])
		if renewed != (n != "super-admin.conf") {
			t.Errorf("%s renewed: %v", n, renewed)
		}
	}
	backups, err := os.ReadDir(filepath.Join(c.KubeconfigDir(), "certctl-backups"))
	if err != nil || len(backups) != 1 {
		t.Errorf("%d backups (%v), want one transaction's", len(backups), err)
	}
	pending := filepath.Join(c.KubeconfigDir(), apirenew.PendingDirName)
	if left, _ := os.ReadDir(pending); len(left) != 2 {
		t.Errorf("pending folder holds %v, want super-admin.conf's key and its refusal", left)
	}

	// Again: the denial is known, no wait, no CSR.
	n := len(certctlCSRs(t, ctx, cs))
	start := time.Now()
	r = startRenew(t, ctx, c, "super-admin.conf", "--use-api", "--timeout", "5m")
	out, code = r.wait(t)
	if code != 1 || time.Since(start) > 30*time.Second || !strings.Contains(out, "in an earlier run") || !strings.Contains(out, "--new-request=super-admin.conf") {
		t.Errorf("re-run: exit status %d after %v, want 1 at once, naming the denial and --new-request=super-admin.conf", code, time.Since(start))
	}
	if m := len(certctlCSRs(t, ctx, cs)); m != n {
		t.Errorf("re-run created %d CSR(s)", m-n)
	}

	// The command certctl printed: one new CSR, for super-admin.conf.
	args := strings.Fields(rerun)
	if len(args) < 2 || args[0] != "certctl" {
		t.Fatalf("no renew command in the output: %q", rerun)
	}
	r = startCertctl(t, ctx, args[1:]...)
	l := r.nextCSR(t, ctx)
	<-r.waiting
	if l.target != "super-admin.conf" || l.name == denied {
		t.Fatalf("CSR %s for %s, want a new one for super-admin.conf", l.name, l.target)
	}
	setCondition(t, ctx, cs, l.name, certv1.CertificateApproved, "E2ETest", "approved after the denial")
	if _, code := r.wait(t); code != 0 {
		t.Fatalf("%s: exit status %d", rerun, code)
	}
	if m := len(certctlCSRs(t, ctx, cs)); m != n+1 {
		t.Errorf("%d CSRs created by the --new-request run, want 1", m-n)
	}
	if currentCert(t, c, "super-admin.conf").Equal(before["super-admin.conf"]) {
		t.Error("super-admin.conf not renewed by the --new-request run")
	}
	if _, err := os.Stat(pending); !os.IsNotExist(err) {
		t.Errorf("pending folder left: %v", err)
	}
}

// TestUseAPIBatchLatency measures, on a real control plane, how long
// `certctl renew all --use-api` takes to have every certificate of the
// batch on disk once the last one is issued, when the eleven CSRs are
// approved one by one in a random order and at a random pace (up to
// 400 ms apart), issued by kube-controller-manager and `certctl signer
// run`: the instant the test's own watch sees the last certificate in a
// CSR's status, to the last file renamed into place (inotify). Target
// (issue 14): at most 300 ms. `make bench` prints the figure
// (hack/bench.d/useapi.sh).
func TestUseAPIBatchLatency(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{})
	ctx := testCtx(t, 8*time.Minute)
	cs, err := c.SuperAdminClient()
	if err != nil {
		t.Fatal(err)
	}
	startBatchSigner(t, ctx, c)
	const runs = 3
	var lat []time.Duration
	for i := range runs {
		in := watchInstalls(t, c.PKIDir(), filepath.Join(c.PKIDir(), "etcd"), c.KubeconfigDir())
		r := startRenew(t, ctx, c, "all", "--use-api")
		csrs := batchCSRs(t, ctx, r)
		issued := watchLastIssued(t, ctx, cs, csrs)
		order := slices.Collect(func(yield func(csrLine) bool) {
			for _, l := range csrs {
				if !yield(l) {
					return
				}
			}
		})
		rand.Shuffle(len(order), func(a, b int) { order[a], order[b] = order[b], order[a] })
		for _, l := range order {
			time.Sleep(time.Duration(rand.IntN(400)) * time.Millisecond)
			setCondition(t, ctx, cs, l.name, certv1.CertificateApproved, "E2ETest", "batch latency run")
		}
		if _, code := r.wait(t); code != 0 {
			t.Fatalf("run %d: exit status %d", i, code)
		}
		n, installed := in.settle()
		last := <-issued
		if n < 2*len(allRenewed)-4 { // a key and a certificate each, a kubeconfig for four
			t.Fatalf("run %d: %d files installed", i, n)
		}
		lat = append(lat, installed.Sub(last))
	}
	slices.Sort(lat)
	var parts []string
	for _, d := range lat {
		parts = append(parts, d.Round(time.Millisecond).String())
	}
	t.Logf("use-api batch of %d, last-issued-to-installed: median %d ms, max %d ms over %d runs (%s); target <= 300 ms",
		len(allRenewed), lat[len(lat)/2].Milliseconds(), lat[len(lat)-1].Milliseconds(), runs, strings.Join(parts, ", "))
	if m := lat[len(lat)/2]; m > 300*time.Millisecond {
		t.Errorf("median %v from the last issued certificate to all installed, want <= 300ms", m)
	}
}

// watchLastIssued returns a channel that receives the instant this process's
// watch sees the last of csrs issued.
func watchLastIssued(t *testing.T, ctx context.Context, cs kubernetes.Interface, csrs map[string]csrLine) <-chan time.Time {
	t.Helper()
	w, err := cs.CertificatesV1().CertificateSigningRequests().Watch(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	left := map[string]bool{}
	for _, l := range csrs {
		left[l.name] = true
	}
	ch := make(chan time.Time, 1)
	go func() {
		defer w.Stop()
		for e := range w.ResultChan() {
			if csr, ok := e.Object.(*certv1.CertificateSigningRequest); ok && left[csr.Name] && len(csr.Status.Certificate) > 0 {
				delete(left, csr.Name)
				if len(left) == 0 {
					ch <- time.Now()
					return
				}
			}
		}
	}()
	return ch
}
