package clusterview

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/refused"
)

// TestNoClientKubeadmCertsUnknown: when no API client could be made (the
// kubeconfig is missing or corrupt), kube-system/kubeadm-certs was not
// read: the report says "unknown", as docs/ha.md says for an API server
// that cannot be reached, never "none", which tells the SRE that no
// certificates are uploaded for joining nodes.
func TestNoClientKubeadmCertsUnknown(t *testing.T) {
	f := newFixture(t)
	o := Options{CertDir: f.node.CertDir(), Now: now, ClientError: errors.New("load kubeconfig admin.conf: corrupt"),
		EtcdEndpoints: []string{"https://" + f.etcd}}
	var out bytes.Buffer
	_ = Report(context.Background(), o, "text", &out)
	if strings.Contains(out.String(), "kubeadm-certs: none") || !strings.Contains(out.String(), "kubeadm-certs: unknown") {
		t.Errorf("kubeadm-certs, never read without an API client, is not reported as unknown:\n%s", out.String())
	}
}

// TestEtcdEndpointsDownOneLine: with the API server out of reach and every
// --etcd-endpoints down, the error (and the member-list warning) is one
// line naming each endpoint, as every certctl error is: errors.Join put
// each endpoint's failure on its own line.
func TestEtcdEndpointsDownOneLine(t *testing.T) {
	f := newFixture(t)
	a, b := refused.Addr(t), refused.Addr(t)
	o := Options{CertDir: f.node.CertDir(), Now: now, ClientError: errors.New("no kubeconfig"),
		EtcdEndpoints: []string{"https://" + a, "https://" + b}}
	_, err := Check(context.Background(), o)
	if err == nil {
		t.Fatal("no error with no API server and every etcd endpoint down")
	}
	if msg := err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, a) || !strings.Contains(msg, b) {
		t.Errorf("error is not one line naming %s and %s:\n%s", a, b, msg)
	}
}
