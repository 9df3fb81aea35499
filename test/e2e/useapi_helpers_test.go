package e2e

import (
	"bufio"
	"context"
	"crypto"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	certv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/certctl/certctl/internal/testcluster"
	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/phases/renewal/apirenew"
	"github.com/certctl/certctl/pki"
)

// renewRun is `certctl renew ... --use-api` running in the background. Its
// output (stdout and stderr) is read line by line, so that the test can
// act on the CSR names certctl prints while it waits.
type renewRun struct {
	cmd     *exec.Cmd
	csrs    chan csrLine  // one per "[renew] CSR NAME for TARGET: signer SIGNER" line
	waiting chan struct{} // closed at "[renew] Waiting up to"
	done    chan struct{} // closed when certctl has exited
	mu      sync.Mutex
	out     strings.Builder
	err     error
}

type csrLine struct{ name, target, signer string }

var csrLineRE = regexp.MustCompile(`^\[renew\] CSR (\S+) for (\S+): signer (\S+) `)

// startRenew starts `certctl renew ARGS --cert-dir --kubeconfig-dir` on c's
// folders. The kubeconfig is the default one, c's admin.conf.
func startRenew(t *testing.T, ctx context.Context, c *testcluster.Cluster, args ...string) *renewRun {
	t.Helper()
	return startCertctl(t, ctx, append(append([]string{"renew"}, args...), "--cert-dir", c.PKIDir(), "--kubeconfig-dir", c.KubeconfigDir())...)
}

// startCertctl starts `certctl ARGS`, a renew --use-api, as startRenew
// does, with args exactly as given: a command certctl printed.
func startCertctl(t *testing.T, ctx context.Context, args ...string) *renewRun {
	t.Helper()
	r := &renewRun{csrs: make(chan csrLine, 32), waiting: make(chan struct{}), done: make(chan struct{})}
	r.cmd = exec.CommandContext(ctx, signerCertctl(t), args...)
	pr, pw := io.Pipe()
	r.cmd.Stdout, r.cmd.Stderr = pw, pw
	if err := r.cmd.Start(); err != nil {
		t.Fatalf("start certctl: %v", err)
	}
	t.Logf("$ certctl %s", strings.Join(args, " "))
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		sc := bufio.NewScanner(pr)
		closed := false
		for sc.Scan() {
			line := sc.Text()
			r.mu.Lock()
			r.out.WriteString(line + "\n")
			r.mu.Unlock()
			if m := csrLineRE.FindStringSubmatch(line); m != nil {
				r.csrs <- csrLine{m[1], m[2], m[3]}
			}
			if strings.HasPrefix(line, "[renew] Waiting up to") && !closed {
				close(r.waiting)
				closed = true
			}
		}
	}()
	go func() {
		r.err = r.cmd.Wait()
		pw.Close()
		<-scanned
		close(r.done)
	}()
	return r
}

// output is what certctl has printed so far.
func (r *renewRun) output() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.out.String()
}

// wait waits for certctl to exit and returns its output and exit status.
func (r *renewRun) wait(t *testing.T) (string, int) {
	t.Helper()
	<-r.done
	r.mu.Lock()
	out := r.out.String()
	r.mu.Unlock()
	t.Logf("certctl output:\n%s", out)
	var exit *exec.ExitError
	switch {
	case r.err == nil:
		return out, 0
	case errors.As(r.err, &exit):
		return out, exit.ExitCode()
	}
	t.Fatalf("certctl: %v", r.err)
	return out, -1
}

// nextCSR returns the next CSR certctl printed.
func (r *renewRun) nextCSR(t *testing.T, ctx context.Context) csrLine {
	t.Helper()
	select {
	case l := <-r.csrs:
		return l
	case <-r.done:
		r.wait(t)
		t.Fatal("certctl exited before it printed a CSR")
	case <-ctx.Done():
		t.Fatalf("wait for certctl's CSR: %v", ctx.Err())
	}
	return csrLine{}
}

// setCondition adds an Approved or Denied condition to CSR name through
// its /approval subresource, as `kubectl certificate approve|deny` does.
func setCondition(t *testing.T, ctx context.Context, cs kubernetes.Interface, name string, typ certv1.RequestConditionType, reason, message string) {
	t.Helper()
	csrs := cs.CertificatesV1().CertificateSigningRequests()
	got, err := csrs.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get CSR %s: %v", name, err)
	}
	got.Status.Conditions = append(got.Status.Conditions, certv1.CertificateSigningRequestCondition{
		Type: typ, Status: corev1.ConditionTrue, Reason: reason, Message: message})
	if _, err := csrs.UpdateApproval(ctx, name, got, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("%s CSR %s: %v", typ, name, err)
	}
}

// certctlCSRs lists the CSRs whose names certctl made.
func certctlCSRs(t *testing.T, ctx context.Context, cs kubernetes.Interface) []certv1.CertificateSigningRequest {
	t.Helper()
	l, err := cs.CertificatesV1().CertificateSigningRequests().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var out []certv1.CertificateSigningRequest
	for _, c := range l.Items {
		if strings.HasPrefix(c.Name, "certctl-") {
			out = append(out, c)
		}
	}
	return out
}

// nodeFiles snapshots the node's certificates and kubeconfigs, without
// the pending-key folder, which a stopped --use-api run keeps on purpose.
func nodeFiles(t *testing.T, c *testcluster.Cluster) map[string]string {
	t.Helper()
	m := treetest.Snapshot(t, c.KubeconfigDir())
	pending := filepath.Join(c.KubeconfigDir(), apirenew.PendingDirName)
	for p := range m {
		if p == pending || strings.HasPrefix(p, pending+string(filepath.Separator)) {
			delete(m, p)
		}
	}
	return m
}

// userKubeconfig writes a copy of c's admin.conf whose client certificate,
// from the cluster CA, is for user (no group), and returns its path.
func userKubeconfig(t *testing.T, c *testcluster.Cluster, user string) string {
	t.Helper()
	pair := loadIssuer(t, c, "ca").clientCert(t, pkix.Name{CommonName: user})
	keyPEM, err := pki.MarshalPrivateKey(pair.PrivateKey.(crypto.Signer))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := clientcmd.LoadFromFile(c.Kubeconfig("admin.conf"))
	if err != nil {
		t.Fatal(err)
	}
	u := cfg.AuthInfos[cfg.Contexts[cfg.CurrentContext].AuthInfo]
	u.ClientCertificateData = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: pair.Certificate[0]})
	u.ClientKeyData = keyPEM
	path := filepath.Join(t.TempDir(), user+".conf")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// grantCSRVerbs makes a ClusterRole with verbs on CSRs, named after user,
// and binds it to user.
func grantCSRVerbs(t *testing.T, ctx context.Context, cs kubernetes.Interface, user string, verbs ...string) {
	t.Helper()
	role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "e2e:" + user}, Rules: []rbacv1.PolicyRule{{
		APIGroups: []string{certv1.GroupName}, Resources: []string{"certificatesigningrequests"}, Verbs: verbs}}}
	if _, err := cs.RbacV1().ClusterRoles().Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	binding := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "e2e:" + user},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
		Subjects: []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: user}}}
	if _, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}
