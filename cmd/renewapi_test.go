package cmd

import (
	"crypto/rand"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/kubeconfig"
	"github.com/certctl/certctl/pki"
)

// apiKubeconfig writes a copy of the node's admin.conf that points at
// server, with a client certificate valid in v, and returns its path.
func apiKubeconfig(t *testing.T, n *pkitest.Node, server string, v pki.Validity) string {
	t.Helper()
	cfg, err := kubeconfig.Load(n.Path("admin.conf"))
	if err != nil {
		t.Fatal(err)
	}
	s := pki.Store{Dir: n.CertDir()}
	caCert, _, err := s.ReadCert("ca")
	if err != nil {
		t.Fatal(err)
	}
	caKey, err := s.ReadKey("ca")
	if err != nil {
		t.Fatal(err)
	}
	cur, key, err := kubeconfig.ClientCert(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := pki.Sign(rand.Reader, pki.ProfileFromCert("admin", "admin.conf", "ca", cur), key.Public(), caCert, caKey, v)
	if err != nil {
		t.Fatal(err)
	}
	_, cluster, _, user, _ := kubeconfig.Current(cfg)
	cluster.Server = server
	user.ClientCertificateData = pki.EncodeCert(cert)
	path := t.TempDir() + "/api.conf"
	if err := kubeconfig.Write(path, cfg); err != nil {
		t.Fatal(err)
	}
	return path
}

// closedPort returns a local address nothing listens on: a connection to it
// is refused at once.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().(*net.TCPAddr)
	l.Close()
	return "https://127.0.0.1:" + strconv.Itoa(addr.Port)
}

// TestRenewUseAPIRefuses: wrong flags, an expired client certificate and
// an API server that is down fail with a clear error, leaving every file
// (and no pending key) as it was.
func TestRenewUseAPIRefuses(t *testing.T) {
	n, flags := renewNode(t)
	now := time.Now()
	down := closedPort(t)
	valid := apiKubeconfig(t, n, down, pki.NewValidity(now, time.Hour, time.Hour))
	expired := apiKubeconfig(t, n, down, pki.Validity{NotBefore: now.Add(-48 * time.Hour), NotAfter: now.Add(-24 * time.Hour)})
	before := treetest.Snapshot(t, n.Dir)
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"admin.conf", "--timeout", "1m"}, []string{"--timeout applies to renewal through the API: add --use-api"}},
		{[]string{"admin.conf", "--signer-name", "admin.conf=example.com/x"}, []string{"--signer-name applies to renewal through the API"}},
		{[]string{"admin.conf", "--use-api", "--reuse-key"}, []string{"--reuse-key cannot be used with --use-api"}},
		{[]string{"admin.conf", "--use-api", "--timeout", "0s"}, []string{"invalid --timeout"}},
		{[]string{"admin.conf", "--use-api", "--kubeconfig", valid, "--signer-name", "ca=example.com/x"}, []string{`"ca": not a certificate certctl renews`}},
		{[]string{"super-admin.conf", "--use-api", "--kubeconfig", valid, "--signer-name", "super-admin.conf=kubernetes.io/kube-apiserver-client"},
			[]string{"O=system:masters, which the API server refuses", "without --use-api"}},
		{[]string{"admin.conf", "--use-api", "--kubeconfig", valid, "--certificate-validity", "5m"}, []string{"below the 10m0s"}},
		{[]string{"admin.conf", "--use-api", "--kubeconfig", expired}, []string{"the client certificate of kubeconfig " + expired, "expired on", "certctl renew admin.conf", "super-admin.conf"}},
		{[]string{"admin.conf", "apiserver", "--use-api", "--kubeconfig", valid}, []string{"create CSR certctl-cp-1-", "is the API server at " + down + " up and reachable", "othing was changed"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			start := time.Now()
			_, _, err := execute(t, append(append([]string{"renew"}, tt.args...), flags...)...)
			for _, w := range tt.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("err = %v, want one containing %q", err, w)
				}
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
	treetest.AssertSame(t, before, treetest.Snapshot(t, n.Dir))
}

// TestUseAPIKubeconfig: --kubeconfig, else KUBECONFIG-DIR/admin.conf, else
// $KUBECONFIG, else the pod's service account.
func TestUseAPIKubeconfig(t *testing.T) {
	n, _ := renewNode(t)
	now := time.Now()
	other := apiKubeconfig(t, n, "https://192.0.2.7:6443", pki.NewValidity(now, time.Hour, time.Hour))
	empty := t.TempDir()
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	for _, tc := range []struct {
		name, flag, dir, env string
		want                 string // the source, or the error
	}{
		{"--kubeconfig wins", other, n.Dir, "", "kubeconfig " + other},
		{"admin.conf of --kubeconfig-dir", "", n.Dir, other, "kubeconfig " + n.Path("admin.conf")},
		{"then $KUBECONFIG", "", empty, other, "$KUBECONFIG " + other},
		{"then the pod's service account", "", empty, "", "no --kubeconfig, no " + empty + "/admin.conf and no $KUBECONFIG"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("KUBECONFIG", tc.env)
			_, _, source, err := (&useAPIFlags{kubeconfig: tc.flag}).client(tc.dir, now)
			if !strings.Contains(source+errString(err), tc.want) {
				t.Errorf("source %q, error %v; want %q", source, err, tc.want)
			}
		})
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
