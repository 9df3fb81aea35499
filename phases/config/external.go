package config

import (
	"encoding/json"
	"fmt"
)

// parseExternalEtcd reads etcd.external (its files: kubeadm copies them to
// a joining control-plane node through the kubeadm-certs Secret); each file, when given, must be an
// absolute path, as kubeadm's ValidateEtcd requires.
func parseExternalEtcd(raw json.RawMessage) (ExternalEtcd, error) {
	var e ExternalEtcd
	if err := json.Unmarshal(raw, &e); err != nil {
		return ExternalEtcd{}, fmt.Errorf("invalid etcd.external: %w", typeError(err))
	}
	for _, f := range []struct{ field, path string }{{"caFile", e.CAFile}, {"certFile", e.CertFile}, {"keyFile", e.KeyFile}} {
		if f.path == "" {
			continue
		}
		if err := checkAbsolute(f.path); err != nil {
			return ExternalEtcd{}, fmt.Errorf("invalid etcd.external.%s %q: %w", f.field, f.path, err)
		}
	}
	return e, nil
}
