package e2e

import (
	"context"
	"crypto/x509"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	certv1 "k8s.io/api/certificates/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/certctl/certctl/internal/testcluster"
	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/phases/renewal/apirenew"
	"github.com/certctl/certctl/pki"
)

// TestRenewUseAPI renews through the real certificates API with `certctl
// renew --use-api`, on one control plane, in order:
//
//	(a) admin.conf, controller-manager.conf and apiserver-kubelet-client,
//	    with kube-controller-manager's built-in signer, approved by the
//	    test through the /approval subresource: one run, three CSRs, one
//	    round of approvals; the renewed admin.conf then authenticates;
//	(b) a denied CSR: exit status 1, the condition's reason and message,
//	    no file changed;
//	(c) a timeout, then the approval, then the same command again: it
//	    installs that CSR's certificate, creating no other CSR;
//	(all) every certificate at once, built-in and certctl's signer names
//	    (`certctl signer run`), approved with the `certctl approve` commands
//	    certctl prints, installed in one transaction;
//	(restart) kube-apiserver restarts while certctl waits: the wait goes
//	    on; restarted, it serves the apiserver.crt "all" renewed through
//	    `certctl signer run` (d), and reaches etcd with the renewed
//	    apiserver-etcd-client.crt;
//	(f) a user allowed to create and get CSRs but not to list or watch
//	    them: refused at once, naming the kubeconfig, the user and what to
//	    grant, with no CSR created and no file changed;
//	(e) the API server down: a clear error well within --timeout, no file
//	    changed.
//
// TestRenewUseAPICompletedBySigner also covers (d) on its own.
func TestRenewUseAPI(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{})
	ctx := testCtx(t, 10*time.Minute)
	client := func(t *testing.T) kubernetes.Interface {
		cs, err := c.SuperAdminClient()
		if err != nil {
			t.Fatal(err)
		}
		return cs
	}
	store := pki.Store{Dir: c.PKIDir()}

	t.Run("a: built-in signer, three certificates, one round of approvals", func(t *testing.T) {
		cs := client(t)
		names := []string{"apiserver-kubelet-client", "admin.conf", "controller-manager.conf"}
		before := map[string]*x509.Certificate{
			"apiserver-kubelet-client": readCert(t, store.CertPath("apiserver-kubelet-client")),
			"admin.conf":               kubeconfigCert(t, c.Kubeconfig("admin.conf")),
			"controller-manager.conf":  kubeconfigCert(t, c.Kubeconfig("controller-manager.conf")),
		}
		r := startRenew(t, ctx, c, append(names, "--use-api")...)
		got := map[string]csrLine{}
		for range names {
			l := r.nextCSR(t, ctx)
			got[l.target] = l
		}
		// Every CSR exists before the first is approved.
		<-r.waiting
		for _, n := range names {
			l := got[n]
			if l.signer != certv1.KubeAPIServerClientSignerName {
				t.Errorf("%s: signer %s, want %s", n, l.signer, certv1.KubeAPIServerClientSignerName)
			}
			setCondition(t, ctx, cs, l.name, certv1.CertificateApproved, "E2ETest", "approved by test/e2e")
		}
		out, code := r.wait(t)
		if code != 0 {
			t.Fatalf("certctl renew --use-api: exit status %d", code)
		}
		for _, want := range []string{"kubectl certificate approve " + got[names[0]].name, "certctl approve --all-from-node ", "Restart these components"} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q", want)
			}
		}
		after := map[string]*x509.Certificate{
			"apiserver-kubelet-client": readCert(t, store.CertPath("apiserver-kubelet-client")),
			"admin.conf":               kubeconfigCert(t, c.Kubeconfig("admin.conf")),
			"controller-manager.conf":  kubeconfigCert(t, c.Kubeconfig("controller-manager.conf")),
		}
		for _, n := range names {
			req, err := cs.CertificatesV1().CertificateSigningRequests().Get(ctx, got[n].name, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			issued := parseCertPEM(t, req.Status.Certificate, "CSR "+req.Name)
			if !after[n].Equal(issued) || after[n].Equal(before[n]) {
				t.Errorf("%s: installed serial %x, CSR's %x, old %x", n, after[n].SerialNumber, issued.SerialNumber, before[n].SerialNumber)
			}
			if after[n].Subject.String() != before[n].Subject.String() {
				t.Errorf("%s: subject %q, was %q", n, after[n].Subject, before[n].Subject)
			}
			if req.Spec.ExpirationSeconds == nil || *req.Spec.ExpirationSeconds != 365*24*3600 || !slices.Contains(req.Spec.Usages, certv1.UsageClientAuth) {
				t.Errorf("%s: CSR spec expirationSeconds %v usages %v", n, req.Spec.ExpirationSeconds, req.Spec.Usages)
			}
			verifyChain(t, pki.EncodeCert(after[n]), store.CertPath("ca"), x509.ExtKeyUsageClientAuth)
		}
		if _, err := os.Stat(filepath.Join(c.KubeconfigDir(), apirenew.PendingDirName)); !os.IsNotExist(err) {
			t.Errorf("pending keys left after the install: %v", err)
		}
		// The key on disk is the CSR's: the renewed kubeconfigs log in.
		for kc, user := range map[string]string{"admin.conf": "kubernetes-admin", "controller-manager.conf": "system:kube-controller-manager"} {
			ucs, err := c.Clientset(kc)
			if err != nil {
				t.Fatal(err)
			}
			ssr, err := ucs.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authnv1.SelfSubjectReview{}, metav1.CreateOptions{})
			if err != nil || ssr.Status.UserInfo.Username != user {
				t.Errorf("the renewed %s: %v, %+v", kc, err, ssr)
			}
		}
		if _, err := os.ReadDir(filepath.Join(c.KubeconfigDir(), "certctl-backups")); err != nil {
			t.Errorf("no backup: %v", err)
		}
	})

	t.Run("b: denied", func(t *testing.T) {
		cs := client(t)
		before := nodeFiles(t, c)
		r := startRenew(t, ctx, c, "scheduler.conf", "--use-api")
		l := r.nextCSR(t, ctx)
		setCondition(t, ctx, cs, l.name, certv1.CertificateDenied, "E2EDenied", "not this one")
		out, code := r.wait(t)
		if code != 1 {
			t.Errorf("exit status %d, want 1", code)
		}
		for _, want := range []string{"error: CSR " + l.name + " for scheduler.conf was denied", `reason "E2EDenied": not this one`, "nothing was changed", "--new-request"} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q", want)
			}
		}
		treetest.AssertSame(t, before, nodeFiles(t, c))
	})

	t.Run("c: timeout, approval, then the same command installs the same CSR", func(t *testing.T) {
		cs := client(t)
		before := nodeFiles(t, c)
		// scheduler.conf's CSR was denied in (b): --new-request makes another.
		start := time.Now()
		r := startRenew(t, ctx, c, "scheduler.conf", "--use-api", "--new-request", "--timeout", "3s")
		l := r.nextCSR(t, ctx)
		out, code := r.wait(t)
		if code != 1 || !strings.Contains(out, "timed out after 3s waiting for CSR(s): CSR "+l.name+" for scheduler.conf is pending approval") {
			t.Fatalf("exit status %d, want 1 and a timeout naming %s", code, l.name)
		}
		if d := time.Since(start); d > 30*time.Second {
			t.Errorf("--timeout 3s took %v", d)
		}
		treetest.AssertSame(t, before, nodeFiles(t, c))
		n := len(certctlCSRs(t, ctx, cs))

		setCondition(t, ctx, cs, l.name, certv1.CertificateApproved, "E2ETest", "approved after the timeout")
		req := waitCSR(t, ctx, cs, l.name, issued)
		r = startRenew(t, ctx, c, "scheduler.conf", "--use-api")
		again := r.nextCSR(t, ctx)
		out, code = r.wait(t)
		if code != 0 || again.name != l.name || !strings.Contains(out, "resumed with the pending key") {
			t.Fatalf("re-run: exit status %d, CSR %s (want %s)", code, again.name, l.name)
		}
		if got := kubeconfigCert(t, c.Kubeconfig("scheduler.conf")); !got.Equal(parseCertPEM(t, req.Status.Certificate, l.name)) {
			t.Errorf("scheduler.conf holds serial %x, not CSR %s's certificate", got.SerialNumber, l.name)
		}
		if m := len(certctlCSRs(t, ctx, cs)); m != n {
			t.Errorf("%d certctl CSRs after the re-run, %d before: it created one", m, n)
		}
	})

	t.Run("all: every certificate, one round of approvals, one transaction", func(t *testing.T) {
		admin := c.Kubeconfig("admin.conf")
		cluster := c.PKI().Flags()
		startSignerRun(t, ctx, t.TempDir(), append([]string{"--kubeconfig", admin, "--cert-dir", c.PKIDir(), "--allow-system-masters"}, cluster...)...)
		all := map[string]string{ // certificate -> its CA's file
			"apiserver": "ca", "apiserver-kubelet-client": "ca", "front-proxy-client": "front-proxy-ca",
			"etcd-server": "etcd/ca", "etcd-peer": "etcd/ca", "etcd-healthcheck-client": "etcd/ca", "apiserver-etcd-client": "etcd/ca",
			"admin.conf": "ca", "super-admin.conf": "ca", "controller-manager.conf": "ca", "scheduler.conf": "ca",
		}
		current := func(name string) *x509.Certificate {
			if strings.HasSuffix(name, ".conf") {
				return kubeconfigCert(t, c.Kubeconfig(name))
			}
			if base, ok := strings.CutPrefix(name, "etcd-"); ok {
				name = "etcd/" + base
			}
			return readCert(t, store.CertPath(name))
		}
		before := map[string]*x509.Certificate{}
		for n := range all {
			before[n] = current(n)
		}
		backups, _ := os.ReadDir(filepath.Join(c.KubeconfigDir(), "certctl-backups"))
		r := startRenew(t, ctx, c, "all", "--use-api")
		var lines []csrLine
		for range all {
			lines = append(lines, r.nextCSR(t, ctx))
		}
		<-r.waiting
		// One command for the run's eleven CSRs, as renew prints it: the
		// node is the host name (no --config).
		host, err := os.Hostname()
		if err != nil {
			t.Fatal(err)
		}
		args := append([]string{"approve", "--all-from-node", strings.ToLower(host), "--kubeconfig", admin, "--allow-system-masters"}, cluster...)
		approved, err := runCertctl(t, ctx, args...)
		if err != nil {
			t.Fatalf("certctl approve --all-from-node: %v\n%s", err, approved)
		}
		for _, l := range lines {
			if !strings.Contains(approved, "[approve] CSR "+l.name+" approved") {
				t.Errorf("certctl approve --all-from-node did not approve %s (%s):\n%s", l.name, l.target, approved)
			}
		}
		out, code := r.wait(t)
		if code != 0 {
			t.Fatalf("certctl renew all --use-api: exit status %d", code)
		}
		for n, ca := range all {
			after := current(n)
			if after.Equal(before[n]) || after.Subject.String() != before[n].Subject.String() {
				t.Errorf("%s: serial %x (was %x), subject %q (was %q)", n, after.SerialNumber, before[n].SerialNumber, after.Subject, before[n].Subject)
			}
			if _, err := after.Verify(x509.VerifyOptions{Roots: certPool(t, store.CertPath(ca)), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
				t.Errorf("%s does not chain to %s: %v", n, ca, err)
			}
		}
		if now, _ := os.ReadDir(filepath.Join(c.KubeconfigDir(), "certctl-backups")); len(now) != len(backups)+1 {
			t.Errorf("%d backups after one run, %d before: want one transaction", len(now), len(backups))
		}
		for _, want := range []string{"etcd ", "kube-apiserver", "kube-controller-manager", "kube-scheduler"} {
			if !strings.Contains(out, want) {
				t.Errorf("restart list lacks %q", want)
			}
		}
		ucs, err := c.Clientset("super-admin.conf")
		if err != nil {
			t.Fatal(err)
		}
		if ssr, err := ucs.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authnv1.SelfSubjectReview{}, metav1.CreateOptions{}); err != nil || !slices.Contains(ssr.Status.UserInfo.Groups, pki.MastersGroup) {
			t.Errorf("the renewed super-admin.conf: %v, %+v", err, ssr)
		}
	})

	t.Run("restart: kube-apiserver restarts while certctl waits", func(t *testing.T) {
		r := startRenew(t, ctx, c, "admin.conf", "--use-api", "--timeout", "3m")
		l := r.nextCSR(t, ctx)
		<-r.waiting
		if err := c.Restart(ctx, testcluster.APIServer); err != nil {
			t.Fatal(err)
		}
		setCondition(t, ctx, client(t), l.name, certv1.CertificateApproved, "E2ETest", "approved after a restart")
		if _, code := r.wait(t); code != 0 {
			t.Fatalf("exit status %d", code)
		}
		// (d): the restarted kube-apiserver serves the apiserver.crt that
		// "all" renewed through certctl's signer name and `certctl signer run`.
		if got, want := served(t, c.Addr(testcluster.APIServer), clientTLS(t, c, "ca.crt", "")), readCert(t, store.CertPath("apiserver")); !got.Equal(want) {
			t.Errorf("the restarted kube-apiserver serves serial %x, want the renewed apiserver.crt's %x", got.SerialNumber, want.SerialNumber)
		}
	})

	t.Run("f: a user who may not list or watch CSRs", func(t *testing.T) {
		cs := client(t)
		const user = "e2e-no-watch"
		grantCSRVerbs(t, ctx, cs, user, "create", "get")
		kc := userKubeconfig(t, c, user)
		before, n := nodeFiles(t, c), len(certctlCSRs(t, ctx, cs))
		start := time.Now()
		r := startRenew(t, ctx, c, "scheduler.conf", "--use-api", "--kubeconfig", kc, "--timeout", "5m")
		out, code := r.wait(t)
		if d := time.Since(start); d > 30*time.Second {
			t.Errorf("took %v with --timeout 5m", d)
		}
		for _, want := range []string{"error: kubeconfig " + kc + ` (user "` + user + `") may not list, watch certificatesigningrequests`,
			"--user=" + user, "nothing was changed"} {
			if code != 1 || !strings.Contains(out, want) {
				t.Errorf("exit status %d, want 1 and output with %q", code, want)
			}
		}
		treetest.AssertSame(t, before, nodeFiles(t, c))
		if m := len(certctlCSRs(t, ctx, cs)); m != n {
			t.Errorf("%d certctl CSRs, %d before: one was created", m, n)
		}
		if _, err := os.Stat(filepath.Join(c.KubeconfigDir(), apirenew.PendingDirName, "scheduler.conf.key")); !os.IsNotExist(err) {
			t.Errorf("pending key written: %v", err)
		}
	})

	t.Run("e: the API server is down", func(t *testing.T) {
		if err := c.StopComponent(ctx, testcluster.APIServer); err != nil {
			t.Fatal(err)
		}
		before := treetest.Snapshot(t, c.KubeconfigDir())
		start := time.Now()
		r := startRenew(t, ctx, c, "admin.conf", "--use-api", "--timeout", "1m")
		out, code := r.wait(t)
		if d := time.Since(start); d > 30*time.Second {
			t.Errorf("took %v with --timeout 1m", d)
		}
		if code != 1 || !strings.Contains(out, "is the API server at "+c.URL(testcluster.APIServer)+" up and reachable? Nothing was changed") {
			t.Errorf("exit status %d, want 1 and an error naming the API server", code)
		}
		treetest.AssertSame(t, before, treetest.Snapshot(t, c.KubeconfigDir()))
	})
}

// TestUseAPILatency measures how long `certctl renew --use-api` takes to
// have a certificate on disk once the API server shows it: the test
// watches the CSR and the kubeconfig folder (inotify) and compares the
// instant the certificate appears in the CSR's status with the instant
// admin.conf is replaced. Target (issue 6): under 100 ms. `make bench`
// prints the figure (hack/bench.d/useapi.sh).
func TestUseAPILatency(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{})
	ctx := testCtx(t, 5*time.Minute)
	cs, err := c.SuperAdminClient()
	if err != nil {
		t.Fatal(err)
	}
	const runs = 5
	var lat, fromApproval []time.Duration
	for i := range runs {
		moved := watchRename(t, c.KubeconfigDir(), "admin.conf")
		r := startRenew(t, ctx, c, "admin.conf", "--use-api")
		l := r.nextCSR(t, ctx)
		<-r.waiting
		shown := watchCertificate(t, ctx, cs, l.name)
		approved := time.Now()
		setCondition(t, ctx, cs, l.name, certv1.CertificateApproved, "E2ETest", "latency run")
		if _, code := r.wait(t); code != 0 {
			t.Fatalf("run %d: exit status %d", i, code)
		}
		var onDisk time.Time
		select {
		case onDisk = <-moved:
		case <-time.After(10 * time.Second):
			t.Fatalf("run %d: admin.conf was not replaced", i)
		}
		lat = append(lat, onDisk.Sub(<-shown))
		fromApproval = append(fromApproval, onDisk.Sub(approved))
	}
	slices.Sort(lat)
	slices.Sort(fromApproval)
	var parts []string
	for _, d := range lat {
		parts = append(parts, d.Round(100*time.Microsecond).String())
	}
	t.Logf("use-api latency, certificate on the API server -> on disk: median %v, max %v over %d runs (%s); target < 100ms",
		lat[len(lat)/2].Round(100*time.Microsecond), lat[len(lat)-1].Round(100*time.Microsecond), runs, strings.Join(parts, ", "))
	t.Logf("use-api latency, approval -> on disk (includes kube-controller-manager's signing): median %v, max %v",
		fromApproval[len(fromApproval)/2].Round(100*time.Microsecond), fromApproval[len(fromApproval)-1].Round(100*time.Microsecond))
	if m := lat[len(lat)/2]; m >= 100*time.Millisecond {
		t.Errorf("median latency %v, want < 100ms", m)
	}
}

// watchCertificate returns a channel that receives the instant this process's
// watch on CSR name sees a certificate in its status.
func watchCertificate(t *testing.T, ctx context.Context, cs kubernetes.Interface, name string) <-chan time.Time {
	t.Helper()
	w, err := cs.CertificatesV1().CertificateSigningRequests().Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=" + name})
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan time.Time, 1)
	go func() {
		defer w.Stop()
		for e := range w.ResultChan() {
			if csr, ok := e.Object.(*certv1.CertificateSigningRequest); ok && len(csr.Status.Certificate) > 0 {
				ch <- time.Now()
				return
			}
		}
	}()
	return ch
}

// TestUseAPIAllFromNodeCollidingNames: node cp's super-admin.conf CSR and
// node cp-super's admin.conf CSR are both named
// certctl-cp-super-admin.conf-KEYHASH. With both nodes' renewals of
// admin.conf and super-admin.conf pending at once (`certctl renew
// --use-api`, one folder and nodeRegistration.name each),
// `deny --all-from-node cp-super --dry-run` would deny exactly cp-super's
// two, and `approve --all-from-node cp` approves exactly cp's two, as the
// API server shows afterwards.
func TestUseAPIAllFromNodeCollidingNames(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{})
	ctx := testCtx(t, 3*time.Minute)
	cs, err := c.SuperAdminClient()
	if err != nil {
		t.Fatal(err)
	}
	renewCtx, stopRenews := context.WithCancel(ctx)
	defer stopRenews()
	csrs := map[string]string{} // CSR name -> node/certificate
	var runs []*renewRun
	for _, node := range []string{"cp", "cp-super"} {
		dir := filepath.Join(t.TempDir(), "kubernetes")
		if out, err := exec.CommandContext(ctx, "cp", "-a", c.KubeconfigDir(), dir).CombinedOutput(); err != nil {
			t.Fatalf("copy %s: %v\n%s", c.KubeconfigDir(), err, out)
		}
		cfg := filepath.Join(dir, "kubeadm.yaml")
		if err := os.WriteFile(cfg, []byte("apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\nnodeRegistration:\n  name: "+node+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		r := startCertctl(t, renewCtx, "renew", "admin.conf", "super-admin.conf", "--use-api", "--timeout", "2m",
			"--config", cfg, "--cert-dir", filepath.Join(dir, "pki"), "--kubeconfig-dir", dir)
		for range 2 {
			l := r.nextCSR(t, ctx)
			csrs[l.name] = node + "/" + l.target
		}
		<-r.waiting
		runs = append(runs, r)
	}
	if len(csrs) != 4 {
		t.Fatalf("CSRs %v, want four", csrs)
	}
	var cpSuper string
	for name, what := range csrs {
		if what == "cp/super-admin.conf" {
			cpSuper = name
		}
	}
	if !strings.HasPrefix(cpSuper, "certctl-cp-super-admin.conf-") {
		t.Fatalf("node cp's super-admin.conf CSR is %q: the names do not collide, the test is wrong", cpSuper)
	}
	// Each command prints a line for each CSR it acts on.
	acted := func(out, verb string) []string {
		var got []string
		for name, what := range csrs {
			if strings.Contains(out, "["+verb+"] CSR "+name+" ") {
				got = append(got, what)
			}
		}
		slices.Sort(got)
		return got
	}
	admin := c.Kubeconfig("admin.conf")
	out, err := runCertctl(t, ctx, "deny", "--all-from-node", "cp-super", "--reason", "E2ETest", "--dry-run", "--kubeconfig", admin)
	if got := acted(out, "deny"); err != nil || !slices.Equal(got, []string{"cp-super/admin.conf", "cp-super/super-admin.conf"}) {
		t.Errorf("deny --all-from-node cp-super --dry-run: %v, acts on %q; want cp-super's two only", err, got)
	}
	out, err = runCertctl(t, ctx, append([]string{"approve", "--all-from-node", "cp", "--kubeconfig", admin, "--allow-system-masters"}, c.PKI().Flags()...)...)
	if got := acted(out, "approve"); err != nil || !slices.Equal(got, []string{"cp/admin.conf", "cp/super-admin.conf"}) {
		t.Errorf("approve --all-from-node cp: %v, acts on %q; want cp's two only", err, got)
	}
	for name, what := range csrs {
		got, err := cs.CertificatesV1().CertificateSigningRequests().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		mine := strings.HasPrefix(what, "cp/")
		if approved := slices.ContainsFunc(got.Status.Conditions, func(c certv1.CertificateSigningRequestCondition) bool {
			return c.Type == certv1.CertificateApproved
		}); approved != mine || len(got.Status.Conditions) > 1 {
			t.Errorf("CSR %s (%s): conditions %+v; want it approved: %v, and not denied", name, what, got.Status.Conditions, mine)
		}
	}
	stopRenews()
	for _, r := range runs {
		<-r.done
	}
}
