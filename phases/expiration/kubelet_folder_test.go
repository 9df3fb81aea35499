package expiration

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/certctl/certctl/internal/output"
	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/pki"
)

// TestKubeletFolderAndCertFile: after the kubelet's TLS bootstrap,
// kubelet.conf names /var/lib/kubelet/pki/kubelet-client-current.pem, a
// link to the dated file the kubelet wrote last. The folder check covered
// only the certificate and kubeconfig folders: a kubelet folder group or
// others may write, where they may put another certificate and key and so
// give the kubelet another identity, was not reported, nor was a client
// certificate kept apart from its key that they may write. They are now
// folder-permissions (folders[], name kubelet-cert-dir) and
// cert-permissions, in the problems list (exit 3), the JSON, the metrics
// and certs list. A PEM holding the key too stays key-permissions alone.
func TestKubeletFolderAndCertFile(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, n *pkitest.Node)
		// want are the problems, "NAME: TYPE: text in the message", with
		// KUBELET for the kubelet's folder; none when empty. count is how
		// many problems there are.
		want  []string
		count int
	}{
		{name: "as the kubelet makes it", want: nil},
		{
			name:  "kubelet folder 0777",
			setup: func(t *testing.T, n *pkitest.Node) { chmod(t, n.Path("kubelet/pki"), 0o777) },
			want:  []string{"kubelet-cert-dir: folder-permissions: folder KUBELET is mode 0777", "kubelet-cert-dir: folder-permissions: another identity: chmod go-w KUBELET"},
			count: 1,
		},
		{
			name:  "kubelet folder group-writable and sticky",
			setup: func(t *testing.T, n *pkitest.Node) { chmod(t, n.Path("kubelet/pki"), 0o1775) },
			want:  []string{"kubelet-cert-dir: folder-permissions: folder KUBELET is mode 1775"},
			count: 1,
		},
		{
			// The link's target is elsewhere: whoever may write its
			// folder may replace the file the kubelet reads.
			name: "the dated file the link names in a writable folder",
			setup: func(t *testing.T, n *pkitest.Node) {
				dated := n.Path("rotated/kubelet-client-2026-12-06-21-00-00.pem")
				if err := os.MkdirAll(filepath.Dir(dated), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.Rename(n.Path(pkitest.KubeletRotatedFile), dated); err != nil {
					t.Fatal(err)
				}
				if err := os.Symlink(dated, n.Path(pkitest.KubeletRotatedFile)); err != nil {
					t.Fatal(err)
				}
				chmod(t, filepath.Dir(dated), 0o757)
			},
			want:  []string{"kubelet-cert-dir: folder-permissions: folder DIR/rotated is mode 0757"},
			count: 1,
		},
		{
			name:  "certificate and key in one file, group-writable: key-permissions only",
			setup: func(t *testing.T, n *pkitest.Node) { chmod(t, n.Path(pkitest.KubeletRotatedFile), 0o620) },
			want:  []string{"kubelet.conf: key-permissions: is mode 0620"},
			count: 1,
		},
		{
			name: "certificate apart from its key, writable by others",
			setup: func(t *testing.T, n *pkitest.Node) {
				splitKubeletPEM(t, n)
				chmod(t, n.Path("kubelet/pki/kubelet-client.crt"), 0o646)
			},
			want:  []string{"kubelet.conf: cert-permissions: KUBELET/kubelet-client.crt is mode 0646", "kubelet.conf: cert-permissions: chmod 644 KUBELET/kubelet-client.crt"},
			count: 1,
		},
		{
			name:  "certificate apart from its key, both as the kubelet makes them",
			setup: splitKubeletPEM,
			want:  nil,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := pkitest.NewNode(t, nil)
			chmod(t, n.Dir, 0o755)
			n.BootstrappedKubelet(t, 0o600)
			chmod(t, n.Path("kubelet"), 0o755)
			chmod(t, n.Path("kubelet/pki"), 0o755)
			if tc.setup != nil {
				tc.setup(t, n)
			}
			info := check(t, n, nil)
			var got []string
			for _, c := range info.all() {
				for _, p := range c.Problems {
					got = append(got, c.Name+": "+string(p.Type)+": "+p.Message)
				}
			}
			for _, f := range info.Folders {
				for _, p := range f.Problems {
					got = append(got, f.Name+": "+string(p.Type)+": "+p.Message)
				}
			}
			if len(got) != tc.count {
				t.Errorf("problems %q, want %d", got, tc.count)
			}
			if len(info.Problems()) != len(got) {
				t.Errorf("Problems() %q, want the %d found (exit status 3)", info.Problems(), len(got))
			}
			// certs list shows the same problems.
			list, err := listInventory(n.CertDir(), n.Dir, pki.Kubeadm().Certificates(pki.Node{}), pki.Kubeadm().Kubeconfigs(pki.Node{}), nil, pkitest.Made)
			if err != nil {
				t.Fatal(err)
			}
			var listed bytes.Buffer
			if err := writeList(&listed, list, pkitest.Made, false); err != nil {
				t.Fatal(err)
			}
			var js, listJS, metrics bytes.Buffer
			if err := Write(&js, info, "json"); err != nil {
				t.Fatal(err)
			}
			if err := WriteMetrics(&metrics, info); err != nil {
				t.Fatal(err)
			}
			f, err := output.Parse("json")
			if err != nil {
				t.Fatal(err)
			}
			if err := f.Print(&listJS, list, nil); err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				w = strings.NewReplacer("KUBELET", n.Path("kubelet/pki"), "DIR", n.Dir).Replace(w)
				name, rest, _ := strings.Cut(w, ": ")
				typ, text, _ := strings.Cut(rest, ": ")
				if !slices.ContainsFunc(got, func(g string) bool {
					return strings.HasPrefix(g, name+": "+typ+": ") && strings.Contains(g, text)
				}) {
					t.Errorf("problems %q, want one %q", got, w)
				}
				if !strings.Contains(js.String(), `"type": "`+typ+`"`) || !strings.Contains(listJS.String(), `"type": "`+typ+`"`) {
					t.Errorf("JSON of check-expiration or certs list lacks %s:\n%s\n%s", typ, js.String(), listJS.String())
				}
				if !strings.Contains(metrics.String(), `name="`+name+`"`) || !strings.Contains(metrics.String(), `type="`+typ+`"`) {
					t.Errorf("metrics lack %s of %s:\n%s", typ, name, metrics.String())
				}
				if !strings.Contains(listed.String(), "- "+name+": ") || !strings.Contains(listed.String(), text) {
					t.Errorf("certs list does not list %q:\n%s", w, listed.String())
				}
				if typ == string(FolderPermissions) && (!strings.Contains(js.String(), `"folders"`) || !strings.Contains(listJS.String(), `"folders"`) || !strings.Contains(metrics.String(), `kind="folder"`)) {
					t.Errorf("no folders in the JSON, or kind=\"folder\" in the metrics:\n%s\n%s\n%s", js.String(), listJS.String(), metrics.String())
				}
			}
		})
	}
}

// splitKubeletPEM makes n's bootstrapped kubelet.conf name its client
// certificate (kubelet-client.crt, 0644) and key (kubelet-client.key,
// 0600) as two files, as a kubelet given --cert-dir files keeps them.
func splitKubeletPEM(t *testing.T, n *pkitest.Node) {
	t.Helper()
	pemPath := n.Path(pkitest.KubeletRotatedFile)
	data, err := os.ReadFile(pemPath)
	if err != nil {
		t.Fatal(err)
	}
	certs, err := pki.ParseCerts(data)
	if err != nil {
		t.Fatal(err)
	}
	key, err := pki.ParsePrivateKey(data)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err := pki.MarshalPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(pemPath)
	if err := os.WriteFile(filepath.Join(dir, "kubelet-client.crt"), pki.EncodeCert(certs[0]), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "kubelet-client.key"), keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(pemPath); err != nil {
		t.Fatal(err)
	}
	pkitest.EditKubeconfig(t, n.Path("kubelet.conf"), func(cfg *clientcmdapi.Config) {
		for _, u := range cfg.AuthInfos {
			u.ClientCertificate, u.ClientKey = filepath.Join(dir, "kubelet-client.crt"), filepath.Join(dir, "kubelet-client.key")
		}
	})
}
