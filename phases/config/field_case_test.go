package config

import (
	"strings"
	"testing"
)

// TestMisspeltCaseIsIgnored: a field spelt with other letter cases
// (certSans, servicesubnet) is unknown to kubeadm, whose decoding is case
// sensitive: it warns and ignores it, so kubeadm's certificates leave it
// out. certctl warned "ignored" but Go's encoding/json applied it anyway,
// making other certificates than kubeadm from the same file.
func TestMisspeltCaseIsIgnored(t *testing.T) {
	f, err := Parse([]byte(`apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
nodeRegistration:
  Name: other-node
localAPIEndpoint:
  advertiseAddress: 192.0.2.1
  BindPort: 7443
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
ClusterName: prod
apiServer:
  certSans: [a.example.com]
networking:
  servicesubnet: 10.1.0.0/16
etcd:
  local:
    serverCertSans: [etcd.example.com]
`), Default())
	if err != nil {
		t.Fatal(err)
	}
	c := f.Cluster
	if c.NodeName != "" || c.BindPort != DefaultBindPort || c.ClusterName != DefaultClusterName || len(c.APIServerCertSANs) != 0 || c.ServiceSubnet != DefaultServiceSubnet || len(c.EtcdServerCertSANs) != 0 {
		t.Errorf("fields of another case were applied: %+v", c)
	}
	if c.AdvertiseAddress != "192.0.2.1" {
		t.Errorf("advertiseAddress %q, want 192.0.2.1", c.AdvertiseAddress)
	}
	joined := strings.Join(f.Warnings, "\n")
	for _, w := range []string{`"nodeRegistration.Name"`, `"localAPIEndpoint.BindPort"`, `"ClusterName"`, `"apiServer.certSans"`, `"networking.servicesubnet"`, `"etcd.local.serverCertSans"`} {
		if !strings.Contains(joined, w) {
			t.Errorf("no warning about %s: %q", w, f.Warnings)
		}
	}
}

// TestExternalEtcdFieldsAreChecked: etcd.external's fields are kubeadm's
// too: a misspelt or miscased one is warned about and ignored, as kubeadm
// does, not applied silently.
func TestExternalEtcdFieldsAreChecked(t *testing.T) {
	f, err := Parse([]byte(`apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
etcd:
  external:
    endpoints: [https://etcd-0.example.com:2379]
    caFile: /etc/etcd/ca.crt
    CertFile: /etc/etcd/client.crt
    keyfile: /etc/etcd/client.key
    certificateFile: /etc/etcd/other.crt
`), Default())
	if err != nil {
		t.Fatal(err)
	}
	e := f.Cluster.EtcdExternal
	if !f.Cluster.ExternalEtcd || e.CAFile != "/etc/etcd/ca.crt" || e.CertFile != "" || e.KeyFile != "" {
		t.Errorf("etcd.external %+v", e)
	}
	joined := strings.Join(f.Warnings, "\n")
	for _, w := range []string{`"etcd.external.CertFile"`, `"etcd.external.keyfile"`, `"etcd.external.certificateFile"`} {
		if !strings.Contains(joined, w) {
			t.Errorf("no warning about %s: %q", w, f.Warnings)
		}
	}
}
