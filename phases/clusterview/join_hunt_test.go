package clusterview

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
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
