package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/certctl/certctl/internal/testcluster"
)

// kubeadmConfig is the configuration check-expiration reads inside the chroot: the kubeadm paths
// (certificatesDir is kubeadm's default), a fixed version so that kubeadm does not look one up on
// the internet, and an advertise address and node name so that it does not look at the network.
const kubeadmConfig = `apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
localAPIEndpoint:
  advertiseAddress: 198.51.100.10
nodeRegistration:
  name: ` + testcluster.NodeName + `
  criSocket: unix:///var/run/containerd/containerd.sock
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
kubernetesVersion: ` + testcluster.KubeVersion + `
certificatesDir: /etc/kubernetes/pki
networking:
  serviceSubnet: ` + testcluster.ServiceCIDR + `
  dnsDomain: ` + testcluster.DNSDomain + `
`

// The rows of `kubeadm certs check-expiration` v1.37 and the CA kubeadm expects to have signed
// each; kubelet.conf is not listed (the kubelet rotates its own certificate).
var wantExpirationRows = map[string]string{
	"admin.conf":               "ca",
	"super-admin.conf":         "ca",
	"controller-manager.conf":  "ca",
	"scheduler.conf":           "ca",
	"apiserver":                "ca",
	"apiserver-kubelet-client": "ca",
	"apiserver-etcd-client":    "etcd-ca",
	"etcd-server":              "etcd-ca",
	"etcd-peer":                "etcd-ca",
	"etcd-healthcheck-client":  "etcd-ca",
	"front-proxy-client":       "front-proxy-ca",
}

var wantCAs = []string{"ca", "etcd-ca", "front-proxy-ca"}

// TestKubeadmCheckExpiration proves that kubeadm v1.37 reads certctl's tree as its own:
// `kubeadm certs check-expiration` lists every certificate and kubeconfig it knows with the CA that
// signed it, none missing, invalid or externally managed, and expiry dates equal to the files'.
//
// check-expiration has no --kubeconfig-dir flag (it reads /etc/kubernetes/*.conf), so kubeadm runs
// with --rootfs on the cluster folder, whose layout is a node's (DIR/etc/kubernetes/...). --rootfs
// chroots, which needs root; as another user the test runs kubeadm in a new user namespace.
func TestKubeadmCheckExpiration(t *testing.T) {
	c := testcluster.WritePKI(t, testcluster.Options{})
	bin, err := testcluster.BinDir("", "kubeadm")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(c.Dir(), "kubeadm.yaml"), []byte(kubeadmConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	kubeadm := func(t *testing.T, args ...string) []byte {
		t.Helper()
		out, err := runKubeadmCheckExpiration(testCtx(t, time.Minute), filepath.Join(bin, "kubeadm"), c.Dir(), args...)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}

	t.Run("table", func(t *testing.T) {
		out := kubeadm(t)
		t.Logf("kubeadm certs check-expiration:\n%s", out)
		certs, cas := parseExpirationTable(t, string(out))
		if bytes.Contains(out, []byte("MISSING")) || bytes.Contains(out, []byte("<invalid>")) {
			t.Errorf("output has MISSING or <invalid> rows")
		}
		for name, ca := range wantExpirationRows {
			row, ok := certs[name]
			switch {
			case !ok:
				t.Errorf("no row for %s", name)
			case row.ca != ca:
				t.Errorf("%s: CERTIFICATE AUTHORITY %q, want %q", name, row.ca, ca)
			case row.external != "no":
				t.Errorf("%s: EXTERNALLY MANAGED %q, want no (the CA key is there)", name, row.external)
			}
		}
		for name := range certs {
			if _, ok := wantExpirationRows[name]; !ok {
				t.Errorf("unexpected row %s", name)
			}
		}
		for _, name := range wantCAs {
			if row, ok := cas[name]; !ok {
				t.Errorf("no CA row for %s", name)
			} else if row.external != "no" {
				t.Errorf("CA %s: EXTERNALLY MANAGED %q, want no", name, row.external)
			}
		}
		if len(cas) != len(wantCAs) {
			t.Errorf("CA rows %v, want %v", keys(cas), wantCAs)
		}
	})

	t.Run("json dates equal the files", func(t *testing.T) {
		var info struct {
			Certificates           []expirationInfo `json:"certificates"`
			CertificateAuthorities []expirationInfo `json:"certificateAuthorities"`
		}
		out := kubeadm(t, "-o", "json")
		if err := json.Unmarshal(out, &info); err != nil {
			t.Fatalf("decode kubeadm -o json: %v\n%s", err, out)
		}
		if len(info.Certificates) != len(wantExpirationRows) || len(info.CertificateAuthorities) != len(wantCAs) {
			t.Errorf("kubeadm lists %d certificates and %d CAs, want %d and %d", len(info.Certificates), len(info.CertificateAuthorities), len(wantExpirationRows), len(wantCAs))
		}
		for _, e := range append(info.Certificates, info.CertificateAuthorities...) {
			if e.Missing {
				t.Errorf("%s: missing", e.Name)
				continue
			}
			notAfter := certNotAfter(t, c, e.Name)
			if !e.ExpirationDate.Equal(notAfter) {
				t.Errorf("%s: kubeadm says it expires %v, the file says %v", e.Name, e.ExpirationDate, notAfter)
			}
		}
	})
}

type expirationInfo struct {
	Name           string    `json:"name"`
	ExpirationDate time.Time `json:"expirationDate"`
	CAName         string    `json:"caName"`
	Missing        bool      `json:"missing"`
}

type expirationRow struct{ ca, external string }

// parseExpirationTable reads check-expiration's two tables: certificates (NAME EXPIRES RESIDUAL CA
// EXTERNAL) and CAs (NAME EXPIRES RESIDUAL EXTERNAL). Dates like "Nov 22, 2026 06:00 UTC" are
// four words.
func parseExpirationTable(t *testing.T, out string) (certs, cas map[string]expirationRow) {
	t.Helper()
	certs, cas = map[string]expirationRow{}, map[string]expirationRow{}
	var table map[string]expirationRow
	inCerts := false
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 0:
			continue
		case f[0] == "CERTIFICATE" && len(f) > 1 && f[1] == "EXPIRES":
			table, inCerts = certs, true
			continue
		case f[0] == "CERTIFICATE" && len(f) > 1 && f[1] == "AUTHORITY":
			table, inCerts = cas, false
			continue
		case table == nil:
			continue
		}
		if strings.HasPrefix(f[0], "!MISSING!") {
			table[f[len(f)-1]] = expirationRow{ca: "MISSING"}
			continue
		}
		row := expirationRow{external: f[len(f)-1]}
		if len(f) < 7 {
			t.Errorf("cannot parse row %q", line)
			continue
		}
		if inCerts {
			row.ca = f[len(f)-2]
		}
		table[f[0]] = row
	}
	return certs, cas
}

// certNotAfter returns the NotAfter of the certificate kubeadm calls name: a kubeconfig's
// embedded client certificate, or a file in the PKI folder.
func certNotAfter(t *testing.T, c *testcluster.Cluster, name string) time.Time {
	t.Helper()
	if strings.HasSuffix(name, ".conf") {
		cfg, err := clientcmd.LoadFromFile(c.Kubeconfig(name))
		if err != nil {
			t.Fatalf("load %s: %v", name, err)
		}
		ctx := cfg.Contexts[cfg.CurrentContext]
		if ctx == nil || cfg.AuthInfos[ctx.AuthInfo] == nil {
			t.Fatalf("%s: no user for current context %q", name, cfg.CurrentContext)
		}
		return parseCertPEM(t, cfg.AuthInfos[ctx.AuthInfo].ClientCertificateData, name).NotAfter
	}
	file := map[string]string{
		"etcd-ca": "etcd/ca", "etcd-server": "etcd/server", "etcd-peer": "etcd/peer",
		"etcd-healthcheck-client": "etcd/healthcheck-client",
	}[name]
	if file == "" {
		file = name
	}
	return readCert(t, filepath.Join(c.PKIDir(), file+".crt")).NotAfter
}

func keys(m map[string]expirationRow) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// runKubeadmCheckExpiration runs `kubeadm certs check-expiration` with extra arguments on the node
// folder dir (a node's layout: DIR/etc/kubernetes/..., DIR/kubeadm.yaml) through --rootfs, in a new
// user namespace when not root, and returns its standard output.
func runKubeadmCheckExpiration(ctx context.Context, kubeadm, dir string, extra ...string) ([]byte, error) {
	args := append([]string{"--rootfs", dir, "certs", "check-expiration", "--config", "/kubeadm.yaml"}, extra...)
	cmd := exec.CommandContext(ctx, kubeadm, args...)
	if uid := os.Geteuid(); uid != 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{
			Cloneflags:  syscall.CLONE_NEWUSER,
			UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: uid, Size: 1}},
			GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getegid(), Size: 1}},
		}
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("kubeadm %s: %w\n%s%s", strings.Join(args, " "), err, out, stderr.Bytes())
	}
	return out, nil
}
