package config

import (
	"strings"
	"testing"
)

// TestDuplicateKeyWarns: a key given twice in a mapping is a warning that
// names it and its line, as kubeadm v1.37's strict decoding warns ("key
// ... already set in map"); the last value is used, as kubeadm does. A
// second certSANs list must not silently replace the first.
func TestDuplicateKeyWarns(t *testing.T) {
	data := []byte(`apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
apiServer:
  certSANs: [api.example.com]
clusterName: a
apiServer:
  certSANs: [other.example.com]
`)
	f, err := Parse(data, Default())
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Cluster.APIServerCertSANs; len(got) != 1 || got[0] != "other.example.com" {
		t.Errorf("certSANs %v, want the last one, as kubeadm", got)
	}
	joined := strings.Join(f.Warnings, "\n")
	for _, want := range []string{"document 1 (ClusterConfiguration)", `"apiServer"`, "line 6", "given twice"} {
		if !strings.Contains(joined, want) {
			t.Errorf("warnings do not say %q: %q", want, f.Warnings)
		}
	}
	f, err = Parse([]byte("apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nclusterName: a\n"), Default())
	if err != nil || len(f.Warnings) != 0 {
		t.Errorf("no duplicate: %v, %q", err, f.Warnings)
	}
}
