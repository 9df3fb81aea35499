package clusterview

import (
	"context"
	"net"
	"os"
	"strings"
	"testing"

	"k8s.io/client-go/kubernetes/fake"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/pki"
)

// TestServedDiffersFromDisk: apiserver.crt was renewed on this node but
// kube-apiserver was not restarted: it still serves the old certificate,
// which expires on its own date while the node view reports the new file.
// The endpoint at one of this host's own addresses is this node's: its row
// says so (differs-from-disk, naming the file, both serials and the
// restart to make), exit 3. An endpoint at another host's address is
// never compared with this node's files.
func TestServedDiffersFromDisk(t *testing.T) {
	f := newFixture(t)
	// The file on disk is now another certificate (its listener keeps the old one).
	other := pkitest.NewNode(t, nil)
	data, err := os.ReadFile(other.Path("pki/apiserver.crt"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f.node.Path("pki/apiserver.crt"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		local []net.IP
		want  bool
	}{
		{"this host is 127.0.0.1", []net.IP{net.ParseIP("::1"), net.ParseIP("127.0.0.1")}, true},
		{"this host is another", []net.IP{net.ParseIP("127.0.0.9")}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := Options{Client: fake.NewClientset(cpNode("cp-1", "127.0.0.1"), mirrorPod("kube-apiserver", "cp-1", APIServerEndpointAnnotation, f.apiserver),
				mirrorPod("etcd", "cp-1", EtcdClientURLsAnnotation, "https://"+f.etcd)), CertDir: f.node.CertDir(), Now: now, LocalIPs: tc.local}
			info, err := Check(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range info.Nodes[0].Endpoints {
				var got []string
				for _, p := range e.Problems {
					got = append(got, string(p.Type))
				}
				want := ""
				if tc.want && e.Component == APIServer {
					want = string(DiffersFromDisk)
				}
				if strings.Join(got, ",") != want {
					t.Errorf("%s: problems %+v, want %q", e.Component, e.Problems, want)
					continue
				}
				if want != "" {
					msg := e.Problems[0].Message
					path := pki.Store{Dir: f.node.CertDir()}.CertPath("apiserver")
					if !strings.Contains(msg, f.apiserver) || !strings.Contains(msg, path) || !strings.Contains(msg, e.Serial) || !strings.Contains(msg, "restart kube-apiserver") {
						t.Errorf("%q does not name %s, %s, serial %s and the restart", msg, f.apiserver, path, e.Serial)
					}
				}
			}
		})
	}
}
