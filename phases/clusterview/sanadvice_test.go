package clusterview

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"strings"
	"testing"

	"github.com/certctl/certctl/pki"
)

// TestSANMismatchSaysWhatToDo: a served certificate without a SAN said
// "add them (apiServer.certSANs or etcd's serverCertSANs/peerCertSANs) and
// issue it again", the same for every component and with no command. It
// now names the one setting of that component and the renewal that
// applies it.
func TestSANMismatchSaysWhatToDo(t *testing.T) {
	f := newFixture(t)
	ca, _ := f.node.CA(t, "ca")
	etcdCA, _ := f.node.CA(t, "etcd/ca")
	client, err := tls.LoadX509KeyPair(f.node.Path("pki/etcd/healthcheck-client.crt"), f.node.Path("pki/etcd/healthcheck-client.key"))
	if err != nil {
		t.Fatal(err)
	}
	ck := &checker{o: Options{Now: now}, cas: map[string][]*x509.Certificate{pki.CAName: {ca}, pki.EtcdCAName: {etcdCA}}, etcdClient: &client}
	// Served at 127.0.0.2, which none of these certificates is valid for.
	for _, tc := range []struct{ component, cert, want string }{
		{APIServer, "apiserver", "add them to apiServer.certSANs in its kubeadm configuration and run `certctl renew apiserver --update-sans --config FILE`"},
		{EtcdClient, "etcd/server", "add them to etcd.local.serverCertSANs in its kubeadm configuration and run `certctl renew etcd-server --update-sans --config FILE`"},
		{EtcdPeer, "etcd/peer", "add them to etcd.local.peerCertSANs in its kubeadm configuration and run `certctl renew etcd-peer --update-sans --config FILE`"},
	} {
		var clientCA *x509.Certificate
		if tc.component != APIServer {
			clientCA = etcdCA
		}
		ep := &Endpoint{Component: tc.component, Address: serveTLS(t, "127.0.0.2:0", f.node.Path("pki/"+tc.cert+".crt"), f.node.Path("pki/"+tc.cert+".key"), clientCA)}
		ck.check(context.Background(), ep)
		if len(ep.Problems) != 1 || ep.Problems[0].Type != SANMismatch || !strings.Contains(ep.Problems[0].Message, tc.want) {
			t.Errorf("%s: problems %+v, want one san-mismatch saying %q", tc.component, ep.Problems, tc.want)
		}
	}
}
