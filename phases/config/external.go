package config

import (
	"encoding/json"
	"fmt"
)

// parseExternalEtcd reads etcd.external (its files: kubeadm copies them to
// a joining control-plane node through the kubeadm-certs Secret) with
// kubeadm's ValidateEtcd rules: at least one endpoint, certFile and
// keyFile both or neither, caFile with them, each file an absolute path.
func parseExternalEtcd(raw json.RawMessage) (ExternalEtcd, error) {
	var e ExternalEtcd
	if err := json.Unmarshal(raw, &e); err != nil {
		return ExternalEtcd{}, fmt.Errorf("invalid etcd.external: %w", typeError(err))
	}
	switch {
	case len(e.Endpoints) == 0:
		return ExternalEtcd{}, fmt.Errorf("invalid etcd.external: at least one endpoint must be specified: list the external etcd's client URLs in etcd.external.endpoints, such as https://10.0.0.5:2379")
	case (e.CertFile == "") != (e.KeyFile == ""):
		return ExternalEtcd{}, fmt.Errorf("invalid etcd.external: set both or none of etcd.external.certFile and etcd.external.keyFile (kube-apiserver's client certificate for etcd and its key)")
	case e.CertFile != "" && e.CAFile == "":
		return ExternalEtcd{}, fmt.Errorf("invalid etcd.external: a client certificate (certFile, keyFile) requires etcd.external.caFile: set it to the external etcd's CA certificate")
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
