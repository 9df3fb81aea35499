package cmd

import (
	"encoding/json"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/internal/refused"
	"github.com/certctl/certctl/pki"
)

// TestConfigMapReadTakesContext: the kubeadm-config read of the commands
// that work on a node's folders and talk to the API server takes their
// --kubeconfig and --context, as their other requests do and as kubectl's
// --context picks a context of the kubeconfig loaded. The node's
// admin.conf has two contexts: its current one's server refuses every
// connection, "harness" is an API server that serves the ConfigMap. With
// --context harness, and with --kubeconfig of that server, the ConfigMap
// is read there; a context admin.conf lacks stops the command with one
// line. Before, the read went through admin.conf's current-context
// whatever the flags said, so it met the refused server and the settings
// came from the certificates.
func TestConfigMapReadTakesContext(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	cm := kubeadmConfigMap("")
	cm.TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"}
	var mu sync.Mutex
	var seen []string
	url := startFakeAPI(t, n, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Method+" "+r.URL.Path)
		mu.Unlock()
		if r.Method+" "+r.URL.Path != "GET /api/v1/namespaces/kube-system/configmaps/kubeadm-config" {
			http.Error(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}`, http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(cm)
	})
	v := pki.NewValidity(time.Now(), time.Hour, time.Hour)
	harness := n.APIKubeconfig(t, url, v)
	// admin.conf: its current context refused, and "harness" beside it.
	admin := n.Path(pki.AdminKubeconfig)
	data, err := os.ReadFile(n.APIKubeconfig(t, "https://"+refused.Addr(t), v))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(admin, data, 0o600); err != nil {
		t.Fatal(err)
	}
	pkitest.EditKubeconfig(t, admin, func(cfg *clientcmdapi.Config) {
		cur := cfg.Contexts[cfg.CurrentContext]
		other := cfg.Clusters[cur.Cluster].DeepCopy()
		other.Server = url
		cfg.Clusters["harness"] = other
		cfg.Contexts["harness"] = &clientcmdapi.Context{Cluster: "harness", AuthInfo: cur.AuthInfo}
	})
	t.Setenv("KUBECONFIG", admin) // certs download's client, without --kubeconfig
	key := strings.Repeat("ab", 32)
	folders := []string{"--cert-dir", n.CertDir(), "--kubeconfig-dir", n.Dir}
	for _, cmdline := range [][]string{
		{"ca", "status"},
		{"ca", "rotate", "ca", "--dry-run", "--manifest-dir", t.TempDir()},
		{"renew", "all", "--use-api", "--dry-run"},
		{"certs", "upload", "--certificate-key", key, "--dry-run"},
		{"certs", "download", "--certificate-key", key, "--dry-run"},
	} {
		name := strings.Join(cmdline[:2], " ")
		for _, tc := range []struct {
			name, flag, value, through string
		}{
			{"context", "--context", "harness", admin + " (context harness)"},
			{"kubeconfig", "--kubeconfig", harness, harness},
		} {
			t.Run(name+" "+tc.name, func(t *testing.T) {
				mu.Lock()
				seen = nil
				mu.Unlock()
				_, stderr, err := execute(t, append(append(cmdline, folders...), tc.flag, tc.value)...)
				mu.Lock()
				read := slices.Contains(seen, "GET /api/v1/namespaces/kube-system/configmaps/kubeadm-config")
				mu.Unlock()
				if !read {
					t.Errorf("the ConfigMap was not read through %s %s: %v\n%s", tc.flag, tc.value, err, stderr)
				}
				// certs upload and download do not say where their settings came from.
				if line := "[config] using the ClusterConfiguration of ConfigMap kube-system/kubeadm-config (read with " + tc.through + ")\n"; cmdline[0] != "certs" && !strings.Contains(stderr, line) {
					t.Errorf("stderr does not say %q:\n%s", line, stderr)
				}
			})
		}
		t.Run(name+" unknown context", func(t *testing.T) {
			_, stderr, err := execute(t, append(append(cmdline, folders...), "--context", "staging")...)
			if want := "kubeconfig " + admin + ` has no context "staging"`; err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %v, want one line saying %q", err, want)
			}
			if stderr != "" {
				t.Errorf("said before the error:\n%s", stderr)
			}
		})
	}
}
