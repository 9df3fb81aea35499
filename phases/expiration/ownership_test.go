package expiration

import (
	"bytes"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/pkitest"
)

// TestFolderModeAndKeyOwner: check-expiration reported a private key at a
// mode group or others may read (key-permissions), but not what lets
// another user replace a CA, a key or a kubeconfig just as well: a
// certificate or kubeconfig folder group or others may write
// (folder-permissions, in folders[]), or a key or kubeconfig owned by a
// user other than root and its folder's owner (key-owner). Both are
// problems, exit status 3, as key-permissions is (docs/exit-codes.md), in
// the problems list, the JSON and the metrics. So is a certificate file (a
// CA's above all) or sa.pub that another user may replace: group- or
// other-writable, or owned by another user (cert-permissions).
func TestFolderModeAndKeyOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("chown needs root")
	}
	const other = 65534
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, n *pkitest.Node)
		// want are the problems, "NAME: TYPE: text in the message"; none
		// when empty.
		want []string
	}{
		{name: "as made", want: nil},
		{
			name:  "certificate folder 0777",
			setup: func(t *testing.T, n *pkitest.Node) { chmod(t, n.CertDir(), 0o777) },
			want:  []string{"cert-dir: folder-permissions: chmod go-w " + "PKI"},
		},
		{
			name:  "etcd folder group-writable",
			setup: func(t *testing.T, n *pkitest.Node) { chmod(t, n.Path("pki/etcd"), 0o775) },
			want:  []string{"etcd-cert-dir: folder-permissions: chmod go-w " + "PKI/etcd"},
		},
		{
			name:  "kubeconfig folder 0777",
			setup: func(t *testing.T, n *pkitest.Node) { chmod(t, n.Dir, 0o777) },
			want:  []string{"kubeconfig-dir: folder-permissions: chmod go-w " + "DIR"},
		},
		{
			name:  "sticky 1777 still lets others add files",
			setup: func(t *testing.T, n *pkitest.Node) { chmod(t, n.CertDir(), 0o1777) },
			want:  []string{"cert-dir: folder-permissions: chmod go-w PKI"},
		},
		{
			name:  "ca.key owned by another user",
			setup: func(t *testing.T, n *pkitest.Node) { chown(t, n.Path("pki/ca.key"), other) },
			want:  []string{"ca: key-owner: owned by user 65534", "ca: key-owner: chown root PKI/ca.key"},
		},
		{
			name:  "admin.conf owned by another user",
			setup: func(t *testing.T, n *pkitest.Node) { chown(t, n.Path("admin.conf"), other) },
			want:  []string{"admin.conf: key-owner: chown root DIR/admin.conf"},
		},
		{
			name:  "sa.key owned by another user",
			setup: func(t *testing.T, n *pkitest.Node) { chown(t, n.Path("pki/sa.key"), other) },
			want:  []string{"sa: key-owner: chown root PKI/sa.key"},
		},
		{
			name:  "ca.crt writable by others",
			setup: func(t *testing.T, n *pkitest.Node) { chmod(t, n.Path("pki/ca.crt"), 0o666) },
			want:  []string{"ca: cert-permissions: is mode 0666", "ca: cert-permissions: chmod 644 PKI/ca.crt"},
		},
		{
			name:  "apiserver.crt group-writable",
			setup: func(t *testing.T, n *pkitest.Node) { chmod(t, n.Path("pki/apiserver.crt"), 0o664) },
			want:  []string{"apiserver: cert-permissions: chmod 644 PKI/apiserver.crt"},
		},
		{
			name:  "front-proxy-ca.crt owned by another user",
			setup: func(t *testing.T, n *pkitest.Node) { chown(t, n.Path("pki/front-proxy-ca.crt"), other) },
			want:  []string{"front-proxy-ca: cert-permissions: may replace it: chown root PKI/front-proxy-ca.crt"},
		},
		{
			name:  "sa.pub writable by others",
			setup: func(t *testing.T, n *pkitest.Node) { chmod(t, n.Path("pki/sa.pub"), 0o646) },
			want:  []string{"sa: cert-permissions: chmod 644 PKI/sa.pub"},
		},
		{
			name: "the folder's owner owns its keys: no problem",
			setup: func(t *testing.T, n *pkitest.Node) {
				chown(t, n.Path("pki/etcd"), other)
				chown(t, n.Path("pki/etcd/server.key"), other)
			},
			want: nil,
		},
		{
			name: "a key not its folder's owner's",
			setup: func(t *testing.T, n *pkitest.Node) {
				chown(t, n.Path("pki/etcd"), other)
				chown(t, n.Path("pki/etcd/peer.key"), other+1)
			},
			want: []string{"etcd-peer: key-owner: chown 65534 PKI/etcd/peer.key"},
		},
		{
			name: "kubelet.conf 0644 naming its key file holds no key: no problem",
			setup: func(t *testing.T, n *pkitest.Node) {
				n.BootstrappedKubelet(t, 0o600)
				chmod(t, n.Path("kubelet.conf"), 0o644)
			},
			want: nil,
		},
		{
			name: "kubelet.conf naming its key file, owned by another user",
			setup: func(t *testing.T, n *pkitest.Node) {
				n.BootstrappedKubelet(t, 0o600)
				chown(t, n.Path("kubelet.conf"), other)
			},
			want: []string{"kubelet.conf: key-owner: chown root DIR/kubelet.conf"},
		},
		{
			// Whoever may write it may point the kubelet at another API
			// server and CA: reported as a CA certificate others may write.
			name: "kubelet.conf naming its key file, group-writable",
			setup: func(t *testing.T, n *pkitest.Node) {
				n.BootstrappedKubelet(t, 0o600)
				chmod(t, n.Path("kubelet.conf"), 0o664)
			},
			want: []string{"kubelet.conf: cert-permissions: kubeconfig DIR/kubelet.conf is mode 0664", "kubelet.conf: cert-permissions: chmod 600 DIR/kubelet.conf"},
		},
		{
			name: "kubelet.conf naming its key file, writable by others",
			setup: func(t *testing.T, n *pkitest.Node) {
				n.BootstrappedKubelet(t, 0o600)
				chmod(t, n.Path("kubelet.conf"), 0o602)
			},
			want: []string{"kubelet.conf: cert-permissions: another API server, CA or key: chmod 600 DIR/kubelet.conf"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := pkitest.NewNode(t, nil)
			chmod(t, n.Dir, 0o755)
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
			for _, k := range info.KeyPairs {
				for _, p := range k.Problems {
					got = append(got, k.Name+": "+string(p.Type)+": "+p.Message)
				}
			}
			for _, f := range info.Folders {
				for _, p := range f.Problems {
					got = append(got, f.Name+": "+string(p.Type)+": "+p.Message)
				}
			}
			if len(tc.want) == 0 && len(got) > 0 {
				t.Errorf("problems %q, want none", got)
			}
			for _, w := range tc.want {
				w = strings.NewReplacer("PKI", n.CertDir(), "DIR", n.Dir).Replace(w)
				name, rest, _ := strings.Cut(w, ": ")
				typ, text, _ := strings.Cut(rest, ": ")
				if !slices.ContainsFunc(got, func(g string) bool {
					return strings.HasPrefix(g, name+": "+typ+": ") && strings.Contains(g, text)
				}) {
					t.Errorf("problems %q, want one %q", got, w)
				}
			}
			if len(tc.want) == 0 {
				return
			}
			if len(info.Problems()) != len(got) {
				t.Errorf("Problems() %q, want the %d above (exit status 3)", info.Problems(), len(got))
			}
			var js, metrics bytes.Buffer
			if err := Write(&js, info, "json"); err != nil {
				t.Fatal(err)
			}
			if err := WriteMetrics(&metrics, info); err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				_, rest, _ := strings.Cut(w, ": ")
				typ, _, _ := strings.Cut(rest, ": ")
				if !strings.Contains(js.String(), `"type": "`+typ+`"`) {
					t.Errorf("JSON lacks %s:\n%s", typ, js.String())
				}
				if !strings.Contains(metrics.String(), `type="`+typ+`"`) {
					t.Errorf("metrics lack %s:\n%s", typ, metrics.String())
				}
				if typ == string(FolderPermissions) && (!strings.Contains(js.String(), `"folders"`) || !strings.Contains(metrics.String(), `kind="folder"`)) {
					t.Errorf("no folders in the JSON, or kind=\"folder\" in the metrics:\n%s\n%s", js.String(), metrics.String())
				}
			}
		})
	}
}

func chmod(t *testing.T, path string, mode os.FileMode) {
	t.Helper()
	if mode&0o1000 != 0 {
		mode = mode&0o777 | os.ModeSticky
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func chown(t *testing.T, path string, uid int) {
	t.Helper()
	if err := os.Chown(path, uid, uid); err != nil {
		t.Fatal(err)
	}
}
