package carotate

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"

	"github.com/certctl/certctl/pki"
)

// ExtensionAuthConfigMap is where kube-apiserver publishes, in
// kube-system, the CAs an extension API server (an aggregated API,
// metrics-server) trusts for client certificates (client-ca-file) and for
// the front proxy (requestheader-client-ca-file). Each kube-apiserver
// merges the CAs it reads into it and drops one only when it expires
// (kubernetes pkg/controlplane/controller/clusterauthenticationtrust), so
// a rotated CA would stay trusted there for the rest of its validity.
const ExtensionAuthConfigMap = "extension-apiserver-authentication"

// extensionAuthKey is the key of ExtensionAuthConfigMap that holds a CA,
// by name; none for a CA kube-apiserver does not publish there.
var extensionAuthKey = map[string]string{pki.CAName: "client-ca-file", pki.FrontProxyCAName: "requestheader-client-ca-file"}

// dropped is the fingerprint of the CA that no node of the rotation
// trusts any more: the old CA once every node of cur has finished, the
// new one once the last node aborted (cur is gone); "" while some node
// still trusts both.
func dropped(cur *ClusterRecord, rec *Record) string {
	switch {
	case rec.Stage == StageFinished && cur != nil && cur.ID == rec.NewCA && reachedBy(cur, StageFinished) == len(cur.Nodes):
		return rec.OldCA
	case rec.Stage == StageAborted && cur == nil:
		return rec.NewCA
	}
	return ""
}

// pruneExtensionAuth removes the certificate of fingerprint fp from k's
// key of ExtensionAuthConfigMap, so that extension API servers stop
// trusting a CA that the control plane dropped. It keeps every other
// certificate in their order, writes nothing when fp is not there (a
// second call, or a cluster without the ConfigMap), and never leaves the
// key empty. It reports whether it removed something; with dry, whether
// it would, writing nothing and refusing as the write would.
func (s store) pruneExtensionAuth(ctx context.Context, k kind, fp string, dry bool) (bool, error) {
	key := extensionAuthKey[k.name]
	if key == "" || fp == "" {
		return false, nil
	}
	what := "ConfigMap kube-system/" + ExtensionAuthConfigMap
	removed := false
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		removed = false
		gctx, cancel := context.WithTimeout(ctx, apiTimeout)
		defer cancel()
		cms := s.client.CoreV1().ConfigMaps(metav1.NamespaceSystem)
		cm, err := cms.Get(gctx, ExtensionAuthConfigMap, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		kept, n, err := withoutCert([]byte(cm.Data[key]), fp)
		if err != nil {
			return fmt.Errorf("%s: %s: %w", what, key, err)
		}
		if n == 0 {
			return nil
		}
		if len(bytes.TrimSpace(kept)) == 0 {
			return fmt.Errorf("%s: %s holds only the CA this rotation dropped, not the CA the control plane trusts now: check that every kube-apiserver runs with the new CA (certctl ca status), then delete the ConfigMap so that they write it again", what, key)
		}
		if dry {
			removed = true
			return nil
		}
		cm = cm.DeepCopy()
		cm.Data[key] = string(kept)
		if _, err := cms.Update(gctx, cm, metav1.UpdateOptions{}); err != nil {
			return err
		}
		removed = true
		return nil
	})
	if err != nil && dry {
		return false, fmt.Errorf("check the dropped %s in %s on the API server %s: %w", k.name, what, s.server, err)
	}
	if err != nil {
		return false, fmt.Errorf("remove the dropped %s from %s on the API server %s: %w; the next `certctl ca rotate %s` tries again", k.name, what, s.server, err, k.name)
	}
	return removed, nil
}

// withoutCert is the PEM bundle data without the certificates of
// fingerprint fp, and how many it removed. A block that is not a
// certificate, or does not parse, is an error: the bundle is left as it is.
func withoutCert(data []byte, fp string) ([]byte, int, error) {
	var out bytes.Buffer
	n := 0
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			if len(bytes.TrimSpace(rest)) != 0 {
				return nil, 0, fmt.Errorf("text that is not PEM after the certificates")
			}
			break
		}
		if b.Type != "CERTIFICATE" {
			return nil, 0, fmt.Errorf("a %s block where certificates were expected", b.Type)
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, 0, fmt.Errorf("a certificate that does not parse: %w", err)
		}
		if fingerprint(c) == fp {
			n++
			continue
		}
		if err := pem.Encode(&out, b); err != nil {
			return nil, 0, err
		}
	}
	return out.Bytes(), n, nil
}
