package config

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/url"
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
	https := e.CAFile != "" || e.CertFile != "" || e.KeyFile != ""
	if err := cmp.Or(checkURLs("endpoints", e.Endpoints, https), checkURLs("httpEndpoints", e.HTTPEndpoints, false)); err != nil {
		return ExternalEtcd{}, err
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

// checkURLs applies kubeadm's ValidateURLs to etcd.external.FIELD: each a
// URL with a scheme, https when https is set (a CA or client certificate
// is given).
func checkURLs(field string, urls []string, https bool) error {
	for _, s := range urls {
		u, err := url.Parse(s)
		switch {
		case err != nil:
			err = fmt.Errorf("URL parse error: %w", err)
		case https && u.Scheme != "https":
			err = fmt.Errorf("must use https, as etcd.external has caFile, certFile or keyFile")
		case u.Scheme == "":
			err = fmt.Errorf("the URL without scheme is not allowed")
		}
		if err != nil {
			return fmt.Errorf("invalid etcd.external.%s entry %q: %w: use a URL such as https://10.0.0.5:2379", field, s, err)
		}
	}
	return nil
}
