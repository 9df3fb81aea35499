package promrules

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
)

// TestMonitoringDocsDescriptions: the description of each kind of
// certificate's expiry alert, expanded as Prometheus does, says what works
// for it: a CA is rotated, the kubelet's client certificate is the
// kubelet's, a leaf is renewed unless its CA has expired too. The alerts
// of TestMonitoringDocsAlerts cover the front-proxy ones on real output;
// this covers every branch, kubelet.conf's included.
func TestMonitoringDocsDescriptions(t *testing.T) {
	rules := map[string]alertRule{}
	for _, r := range docRules(t) {
		rules[r.rule.Alert] = r
	}
	tests := []struct {
		alert, name, file, kind, ca string
		value                       float64
		want                        string
	}{
		{"KubernetesCertificateExpiresSoon", "apiserver", "/etc/kubernetes/pki/apiserver.crt", "certificate", "ca", 3600,
			"/etc/kubernetes/pki/apiserver.crt expires 1h 0m 0s from now: check the renewal timer, or run `certctl renew apiserver` (with an external CA: docs/external-ca.md); if its CA ca expires within these 14 days too, renew refuses once the CA has expired: rotate the CA first, `certctl ca rotate ca` (docs/ca-rotation.md), whose reissue stage renews this certificate."},
		{"KubernetesCertificateExpiresSoon", "kubelet.conf", "/var/lib/kubelet/pki/kubelet-client-current.pem", "certificate", "ca", 3600,
			"/var/lib/kubelet/pki/kubelet-client-current.pem expires 1h 0m 0s from now: the kubelet renews its own client certificate: see why it has not in `journalctl -u kubelet` and `kubectl get csr`."},
		{"KubernetesCertificateExpiresSoon", "etcd-ca", "/etc/kubernetes/pki/etcd/ca.crt", "ca", "", -60,
			"/etc/kubernetes/pki/etcd/ca.crt has expired: rotate the CA in stages, `certctl ca rotate etcd-ca` (docs/ca-rotation.md)."},
		{"KubernetesCertificateExpired", "etcd-ca", "/etc/kubernetes/pki/etcd/ca.crt", "ca", "", -60,
			"/etc/kubernetes/pki/etcd/ca.crt has expired: clients refuse everything it signed, and certctl renews nothing with it: rotate it, `certctl ca rotate etcd-ca` (docs/ca-rotation.md), whose reissue stage renews what it signed; when the API server cannot be reached, `ca rotate` says to add `--node-only`."},
		{"KubernetesCertificateExpired", "kubelet.conf", "/var/lib/kubelet/pki/kubelet-client-current.pem", "certificate", "ca", -60,
			"/var/lib/kubelet/pki/kubelet-client-current.pem has expired: the kubelet cannot renew an expired client certificate itself: give it a new one as kubeadm's troubleshooting guide says (https://kubernetes.io/docs/setup/production-environment/tools/kubeadm/troubleshooting-kubeadm/, \"Kubelet client certificate rotation fails\")."},
		{"KubernetesCertificateExpired", "apiserver", "/etc/kubernetes/pki/apiserver.crt", "certificate", "ca", -60,
			"/etc/kubernetes/pki/apiserver.crt has expired: run `certctl renew apiserver` on the node, then restart what it names: it signs with the CA on disk, so it works with the API server down (with an external CA: docs/external-ca.md); if its CA ca has expired too, renew refuses: rotate the CA first, `certctl ca rotate ca` (docs/ca-rotation.md), whose reissue stage renews this certificate."},
	}
	for _, tt := range tests {
		t.Run(tt.alert+"/"+tt.name, func(t *testing.T) {
			r, ok := rules[tt.alert]
			if !ok {
				t.Fatalf("docs/monitoring.md has no alert %s", tt.alert)
			}
			s := promql.Sample{F: tt.value, Metric: labels.FromMap(map[string]string{
				"instance": "cp-1:9100", "job": job, "name": tt.name, "file": tt.file, "kind": tt.kind, "ca": tt.ca})}
			got, err := expandTemplate(context.Background(), tt.alert, "annotation description", r.rule.Annotations["description"], s, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("description\n  %s\nwant\n  %s", got, tt.want)
			}
		})
	}
}
