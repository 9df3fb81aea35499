package renew

import (
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/manifests/staticpods"
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

// TestEtcdQuorumCredentialsFIFO: a FIFO in place of a client key is
// refused, not waited on (pki.ReadFile), as every other file certctl
// reads: the next client is presented. tls.LoadX509KeyPair's open of it
// blocked the run, under certctl's lock, until something wrote to it.
func TestEtcdQuorumCredentialsFIFO(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	key := n.Path("pki/etcd/healthcheck-client.key")
	if err := os.Remove(key); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(key, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	done := make(chan *staticpods.EtcdQuorum, 1)
	go func() { done <- EtcdQuorum(n.CertDir(), time.Minute) }()
	var q *staticpods.EtcdQuorum
	select {
	case q = <-done:
	case <-time.After(10 * time.Second):
		// Unblock the open of the FIFO, then fail.
		if f, err := os.OpenFile(key, os.O_WRONLY, 0); err == nil {
			f.Close()
		}
		t.Fatalf("EtcdQuorum still reading %s, a FIFO, after 10s", key)
	}
	if q.Client == nil {
		t.Fatalf("no client (Unchecked %q): want apiserver-etcd-client, the next one", q.Unchecked)
	}
	if cn := q.Client.Leaf.Subject.CommonName; cn != "kube-apiserver-etcd-client" {
		t.Errorf("client %s, want kube-apiserver-etcd-client", cn)
	}
}
