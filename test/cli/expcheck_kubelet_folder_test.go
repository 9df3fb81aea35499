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

// TestExpcheckKubeletFolder: after the kubelet's TLS bootstrap,
// kubelet.conf names /var/lib/kubelet/pki/kubelet-client-current.pem, a
// link to the dated PEM the kubelet wrote. With that folder mode 0777,
// anyone could put another certificate and key there and give the
// kubelet another identity, but check-expiration exited 0 and certs list
// said nothing: only the certificate and kubeconfig folders were checked.
// Now it is folder-permissions of kubelet-cert-dir: exit 3, the problems
// list, --textfile's series, and certs list's problems and JSON folders[].
func TestExpcheckKubeletFolder(t *testing.T) {
	bin := certctlBin(t)
	n := makeNode(t, bin, "ECDSA-P256")
	if err := os.Chmod(n.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	pem := (&pkitest.Node{Dir: n.dir}).BootstrappedKubelet(t, 0o600)
	kubeletDir := filepath.Join(t.TempDir(), "var/lib/kubelet/pki")
	if err := os.MkdirAll(kubeletDir, 0o755); err != nil {
		t.Fatal(err)
	}
	dated := filepath.Join(kubeletDir, "kubelet-client-2026-12-06-21-00-00.pem")
	current := filepath.Join(kubeletDir, "kubelet-client-current.pem")
	if err := os.Rename(pem, dated); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(dated, current); err != nil {
		t.Fatal(err)
	}
	pkitest.EditKubeconfig(t, filepath.Join(n.dir, "kubelet.conf"), func(cfg *clientcmdapi.Config) {
		for _, u := range cfg.AuthInfos {
			u.ClientCertificate, u.ClientKey = current, current
		}
	})
	if code, stdout, stderr := runAll(t, nil, bin, append([]string{"check-expiration"}, n.flags()...)...); code != 0 {
		t.Fatalf("as the kubelet makes it: exit %d, want 0:\n%s%s", code, stdout, stderr)
	}
	if err := os.Chmod(kubeletDir, 0o777); err != nil {
		t.Fatal(err)
	}

	prom := filepath.Join(t.TempDir(), "certctl.prom")
	code, stdout, stderr := runAll(t, nil, bin, append([]string{"check-expiration", "--textfile", prom}, n.flags()...)...)
	if code != 3 {
		t.Errorf("kubelet folder 0777: exit %d, want 3 (a problem was found):\n%s%s", code, stdout, stderr)
	}
	metrics, err := os.ReadFile(prom)
	if err != nil {
		t.Fatal(err)
	}
	if w := "- kubelet-cert-dir: folder " + kubeletDir + " is mode 0777"; !strings.Contains(stdout, w) {
		t.Errorf("check-expiration does not list %q:\n%s%s", w, stdout, stderr)
	}
	if w := "error: kubelet-cert-dir: folder " + kubeletDir + " is mode 0777"; !strings.Contains(stderr, w) || !strings.Contains(stderr, "another identity: chmod go-w "+kubeletDir) {
		t.Errorf("check-expiration's error does not say %q and what to do:\n%s", w, stderr)
	}
	if w := `certctl_certificate_problem{ca="",file="` + kubeletDir + `",kind="folder",name="kubelet-cert-dir",type="folder-permissions"} 1`; !strings.Contains(string(metrics), w) {
		t.Errorf("metrics lack %s:\n%s", w, metrics)
	}

	code, stdout, stderr = runAll(t, nil, bin, append([]string{"certs", "list"}, n.flags()...)...)
	if !strings.Contains(stdout, "- kubelet-cert-dir: folder "+kubeletDir+" is mode 0777") {
		t.Errorf("certs list (exit %d) does not list the kubelet folder's problem:\n%s%s", code, stdout, stderr)
	}
	_, stdout, stderr = runAll(t, nil, bin, append([]string{"certs", "list", "-o", "json"}, n.flags()...)...)
	var list struct {
		Folders []struct {
			Name, File string
			Problems   []struct{ Type string }
		}
	}
	if err := json.Unmarshal([]byte(stdout), &list); err != nil {
		t.Fatalf("certs list -o json: %v\n%s%s", err, stdout, stderr)
	}
	if len(list.Folders) != 1 || list.Folders[0].Name != "kubelet-cert-dir" || list.Folders[0].File != kubeletDir ||
		len(list.Folders[0].Problems) != 1 || list.Folders[0].Problems[0].Type != "folder-permissions" {
		t.Errorf("certs list -o json folders %+v, want kubelet-cert-dir %s with folder-permissions", list.Folders, kubeletDir)
	}
}
