package renew

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/pkitest"
)

// TestEtcdQuorumCredentials: the quorum check of etcd's restarts trusts
// the node's etcd CA and presents etcd/healthcheck-client, else
// apiserver-etcd-client; without either, or without the CA, it says why
// it is not made, naming the files.
func TestEtcdQuorumCredentials(t *testing.T) {
	for _, tc := range []struct {
		name      string
		remove    []string // under the certificate folder
		wantCN    string
		unchecked []string
	}{
		{name: "healthcheck client", wantCN: "kube-etcd-healthcheck-client"},
		{name: "apiserver's etcd client", remove: []string{"etcd/healthcheck-client.key"}, wantCN: "kube-apiserver-etcd-client"},
		{name: "no client", remove: []string{"etcd/healthcheck-client.key", "apiserver-etcd-client.crt"},
			unchecked: []string{"no etcd client certificate", "healthcheck-client.key", "apiserver-etcd-client.crt"}},
		{name: "no etcd CA", remove: []string{"etcd/ca.crt"}, unchecked: []string{"no etcd CA", "etcd/ca.crt"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := pkitest.NewNode(t, nil)
			for _, f := range tc.remove {
				if err := os.Remove(n.Path("pki/" + f)); err != nil {
					t.Fatal(err)
				}
			}
			q := EtcdQuorum(n.CertDir(), 7*time.Minute)
			if q.Wait != 7*time.Minute {
				t.Errorf("Wait %s, want the Lease's wait 7m0s", q.Wait)
			}
			for _, w := range tc.unchecked {
				if !strings.Contains(q.Unchecked, w) {
					t.Errorf("Unchecked %q lacks %q", q.Unchecked, w)
				}
			}
			if tc.unchecked != nil {
				return
			}
			if q.Unchecked != "" || q.Roots == nil || q.Client == nil {
				t.Fatalf("Unchecked %q, Roots %v, Client %v: want the CA and a client", q.Unchecked, q.Roots != nil, q.Client != nil)
			}
			if cn := q.Client.Leaf.Subject.CommonName; cn != tc.wantCN {
				t.Errorf("client %s, want %s", cn, tc.wantCN)
			}
		})
	}
}
