package config

import (
	"strings"
	"testing"
)

// TestExternalEtcdKubeadmRules: an etcd.external kubeadm v1.37 refuses
// (ValidateEtcd) is refused, not taken as "skip etcd's certificates": no
// endpoint, certFile without keyFile or the reverse, a client pair without
// caFile.
func TestExternalEtcdKubeadmRules(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		err        string // "": accepted
	}{
		{"endpoints only", "endpoints: [http://10.0.0.5:2379]", ""},
		{"all files", "endpoints: [https://10.0.0.5:2379]\n    caFile: /e/ca.crt\n    certFile: /e/c.crt\n    keyFile: /e/c.key", ""},
		{"no endpoint", "caFile: /e/ca.crt", "at least one endpoint"},
		{"certFile alone", "endpoints: [https://10.0.0.5:2379]\n    caFile: /e/ca.crt\n    certFile: /e/c.crt", "both or none of etcd.external.certFile and etcd.external.keyFile"},
		{"keyFile alone", "endpoints: [https://10.0.0.5:2379]\n    caFile: /e/ca.crt\n    keyFile: /e/c.key", "both or none of etcd.external.certFile and etcd.external.keyFile"},
		{"no caFile", "endpoints: [https://10.0.0.5:2379]\n    certFile: /e/c.crt\n    keyFile: /e/c.key", "requires etcd.external.caFile"},
	} {
		t.Run(tc.name, func(t *testing.T) { checkExternalEtcd(t, tc.body, tc.err) })
	}
}

// TestExternalEtcdHTTPEndpoints: etcd.external.httpEndpoints is a v1beta4
// field (kubeadm v1beta4's doc.go: "Add HTTPEndpoints field to
// ClusterConfiguration.Etcd.ExternalEtcd"): no "unknown field" warning for
// it there, as kubeadm gives none; v1beta3 had no such field.
func TestExternalEtcdHTTPEndpoints(t *testing.T) {
	body := "etcd:\n  external:\n    endpoints: [https://10.0.0.5:2379]\n    httpEndpoints: [http://10.0.0.5:2381]"
	for v, warned := range map[string]bool{"v1beta4": false, "v1beta3": true} {
		f, err := Parse([]byte(clusterDoc(v, body)), Default())
		if err != nil {
			t.Fatalf("%s: %v", v, err)
		}
		got := strings.Contains(strings.Join(f.Warnings, "\n"), `unknown field "etcd.external.httpEndpoints"`)
		if got != warned {
			t.Errorf("%s: warned about httpEndpoints %t, want %t: %q", v, got, warned, f.Warnings)
		}
	}
}

// TestExternalEtcdURLs: etcd.external's endpoints are URLs, https when a
// client certificate or CA is set, as kubeadm's ValidateURLs requires.
func TestExternalEtcdURLs(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		err        string // "": accepted
	}{
		{"http without files", "endpoints: [http://10.0.0.5:2379]", ""},
		{"no scheme", "endpoints: [10.0.0.5:2379]", `invalid etcd.external.endpoints entry "10.0.0.5:2379"`},
		{"host only", "endpoints: [etcd.example.com]", "without scheme"},
		{"http with a CA", "endpoints: [http://10.0.0.5:2379]\n    caFile: /e/ca.crt", "must use https"},
		{"bad httpEndpoints", "endpoints: [https://10.0.0.5:2379]\n    httpEndpoints: [10.0.0.5:2381]", "etcd.external.httpEndpoints"},
	} {
		t.Run(tc.name, func(t *testing.T) { checkExternalEtcd(t, tc.body, tc.err) })
	}
}

// checkExternalEtcd parses a v1beta4 ClusterConfiguration whose
// etcd.external is body: accepted when want is "", else refused with an
// error containing want.
func checkExternalEtcd(t *testing.T, body, want string) {
	t.Helper()
	_, err := Parse([]byte(clusterDoc("v1beta4", "etcd:\n  external:\n    "+body)), Default())
	if want == "" {
		if err != nil {
			t.Fatal(err)
		}
		return
	}
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("error %v, want one containing %q", err, want)
	}
}
