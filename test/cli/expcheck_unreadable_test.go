package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/certctl/certctl/internal/pkitest"
)

// TestExpcheckUnreadableAsNobodySaysRunAsRoot: run as a user who may not
// read root's 0600 keys and kubeconfigs, certs list and check-expiration
// name each file and say to run certctl as root or fix the permissions,
// in every format. sa.key and sa.pub said "restore it from a backup" and
// "remove it and run init-phase certs sa": advice that destroys a good key
// pair when only the user is wrong.
func TestExpcheckUnreadableAsNobodySaysRunAsRoot(t *testing.T) {
	bin := certctlBin(t)
	n := makeNode(t, bin, "ECDSA-P256")
	if os.Geteuid() != 0 {
		t.Skip("running certctl as another user needs root")
	}
	for d := filepath.Dir(n.dir); d != filepath.Dir(d) && strings.HasPrefix(d, os.TempDir()+"/"); d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"pki/sa.key", "pki/sa.pub"} {
		if err := os.Chmod(filepath.Join(n.dir, f), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	type problem struct{ Type, Message string }
	type row struct {
		Name     string
		Problems []problem
	}
	check := func(t *testing.T, what string, rows []row) {
		t.Helper()
		seen := 0
		for _, r := range rows {
			for _, p := range r.Problems {
				if !strings.Contains(p.Message, "permission denied") {
					continue
				}
				seen++
				if !strings.Contains(p.Message, "run certctl as root") {
					t.Errorf("%s: %s: %q does not say to run certctl as root", what, r.Name, p.Message)
				}
				for _, bad := range []string{"backup", "remove it", "init-phase"} {
					if strings.Contains(p.Message, bad) {
						t.Errorf("%s: %s: %q says %q for a file it may not read", what, r.Name, p.Message, bad)
					}
				}
			}
		}
		if seen == 0 {
			t.Errorf("%s: no permission-denied problem at all", what)
		}
	}
	// -o yaml prints what -o json does, folded: json's fields are checked.
	for _, format := range []string{"json", "text", "wide"} {
		t.Run("certs list -o "+format, func(t *testing.T) {
			code, stdout, stderr := runAll(t, nobody, bin, append([]string{"certs", "list", "-o", format}, n.flags()...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if format == "json" {
				var l struct{ Items []row }
				if err := json.Unmarshal([]byte(stdout), &l); err != nil {
					t.Fatal(err)
				}
				check(t, "certs list -o json", l.Items)
				return
			}
			checkLines(t, "certs list -o "+format, stdout)
		})
	}
	for _, format := range []string{"json", "text", "wide", "yaml", "prometheus"} {
		t.Run("check-expiration -o "+format, func(t *testing.T) {
			code, stdout, stderr := runAll(t, nobody, bin, append([]string{"check-expiration", "-o", format}, n.flags()...)...)
			if code != 3 {
				t.Fatalf("exit %d, want 3: %s", code, stderr)
			}
			checkLines(t, "check-expiration -o "+format+" (stderr)", stderr)
			if format == "json" {
				var info struct{ Certificates, CertificateAuthorities, KeyPairs []row }
				if err := json.Unmarshal([]byte(stdout), &info); err != nil {
					t.Fatal(err)
				}
				check(t, "check-expiration -o json", append(append(info.Certificates, info.CertificateAuthorities...), info.KeyPairs...))
				return
			}
			if format != "prometheus" {
				checkLines(t, "check-expiration -o "+format, stdout)
			}
		})
	}
}

// checkLines checks every problem line ("- NAME: ...") and error line of
// out that says "permission denied": it must say to run certctl as root, and
// never to restore or re-make the file. (The table's UNREADABLE cell is
// the bare error; its problem line below says what to do.)
func checkLines(t *testing.T, what, out string) {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		if !strings.Contains(l, "permission denied") || !strings.HasPrefix(l, "- ") && !strings.HasPrefix(l, "error: ") {
			continue
		}
		if !strings.Contains(l, "run certctl as root") {
			t.Errorf("%s: %q does not say to run certctl as root", what, l)
		}
		for _, bad := range []string{"backup", "remove it", "init-phase"} {
			if strings.Contains(l, bad) {
				t.Errorf("%s: %q says %q for a file it may not read", what, l, bad)
			}
		}
	}
}

// TestExpcheckKubeletPEMUnreadableAsNobody: kubelet.conf readable, the
// kubelet's rotated certificate and key file (which it names by path) not:
// check-expiration said to restart the kubelet or re-join the node, and
// said nothing for a key file alone; it is the user that is wrong.
func TestExpcheckKubeletPEMUnreadableAsNobody(t *testing.T) {
	bin := certctlBin(t)
	for _, tc := range []struct {
		name string
		// certApart: the certificate in a 0644 file of its own, the key
		// alone in the 0600 file.
		certApart bool
	}{
		{name: "certificate and key in one file"},
		{name: "key file alone", certApart: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := makeNode(t, bin, "ECDSA-P256")
			if os.Geteuid() != 0 {
				t.Skip("running certctl as another user needs root")
			}
			for d := filepath.Dir(n.dir); d != filepath.Dir(d) && strings.HasPrefix(d, os.TempDir()+"/"); d = filepath.Dir(d) {
				if err := os.Chmod(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			pn := &pkitest.Node{Dir: n.dir}
			pemPath := pn.BootstrappedKubelet(t, 0o600)
			if tc.certApart {
				data, err := os.ReadFile(pemPath)
				if err != nil {
					t.Fatal(err)
				}
				crt := filepath.Join(filepath.Dir(pemPath), "kubelet-client.crt")
				if err := os.WriteFile(crt, data[:strings.Index(string(data), "-----END CERTIFICATE-----")+len("-----END CERTIFICATE-----\n")], 0o644); err != nil {
					t.Fatal(err)
				}
				pkitest.EditKubeconfig(t, pn.Path("kubelet.conf"), func(cfg *clientcmdapi.Config) {
					for _, u := range cfg.AuthInfos {
						u.ClientCertificate = crt
					}
				})
			}
			if err := os.Chmod(filepath.Join(n.dir, "kubelet.conf"), 0o644); err != nil {
				t.Fatal(err)
			}
			code, stdout, stderr := runAll(t, nobody, bin, append([]string{"check-expiration", "-o", "json"}, n.flags()...)...)
			if code != 3 {
				t.Fatalf("exit %d, want 3: %s", code, stderr)
			}
			var info struct {
				Certificates []struct {
					Name     string
					Problems []struct{ Type, Message string }
				}
			}
			if err := json.Unmarshal([]byte(stdout), &info); err != nil {
				t.Fatal(err)
			}
			seen := 0
			for _, c := range info.Certificates {
				for _, p := range c.Problems {
					if c.Name != "kubelet.conf" || p.Type != "unreadable" {
						continue
					}
					seen++
					if !strings.Contains(p.Message, "run certctl as root") || strings.Contains(p.Message, "re-join") {
						t.Errorf("kubelet.conf: %q, want it to say to run certctl as root", p.Message)
					}
				}
			}
			if seen == 0 {
				t.Errorf("kubelet.conf: no unreadable problem:\n%s", stdout)
			}
		})
	}
}
