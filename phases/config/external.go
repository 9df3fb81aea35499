package config

import (
	"encoding/json"
	"fmt"
)

// ExternalEtcdFiles are the client files of an external etcd
// (etcd.external.caFile, certFile, keyFile): kubeadm copies them to a
// joining control-plane node through the kubeadm-certs Secret.
type ExternalEtcdFiles struct {
	CAFile, CertFile, KeyFile string
}

// parseExternalEtcd reads etcd.external; each file, when given, must be an
// absolute path, as kubeadm's ValidateEtcd requires.
func parseExternalEtcd(raw json.RawMessage) (ExternalEtcdFiles, error) {
	var e struct {
		Endpoints []string `json:"endpoints"`
		CAFile    string   `json:"caFile"`
		CertFile  string   `json:"certFile"`
		KeyFile   string   `json:"keyFile"`
	}
	if err := json.Unmarshal(raw, &e); err != nil {
		return ExternalEtcdFiles{}, fmt.Errorf("invalid etcd.external: %w", typeError(err))
	}
	for _, f := range []struct{ field, path string }{{"caFile", e.CAFile}, {"certFile", e.CertFile}, {"keyFile", e.KeyFile}} {
		if f.path == "" {
			continue
		}
		if err := checkAbsolute(f.path); err != nil {
			return ExternalEtcdFiles{}, fmt.Errorf("invalid etcd.external.%s %q: %w", f.field, f.path, err)
		}
	}
	return ExternalEtcdFiles{CAFile: e.CAFile, CertFile: e.CertFile, KeyFile: e.KeyFile}, nil
}
