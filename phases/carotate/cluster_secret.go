package carotate

import (
	"context"
	"fmt"
	"io"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/certctl/certctl/phases/copycerts"
	"github.com/certctl/certctl/pki"
)

// The data keys of the Secret: the new CA's certificate and key, each
// sealed with the certificate key (copycerts.Encrypt, as kubeadm-certs).
const (
	secretCertKey = "new.crt"
	secretKeyKey  = "new.key"
)

func (s store) secretWhat() string { return "Secret kube-system/" + s.objectName() }

// upload puts the new CA n, sealed with key, in the Secret, unless a
// Secret of this rotation (id) is there already; one of another rotation
// is replaced. It reports whether it wrote.
func (s store) upload(ctx context.Context, rand io.Reader, key []byte, id string, n side) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	secrets := s.client.CoreV1().Secrets(metav1.NamespaceSystem)
	cur, err := secrets.Get(ctx, s.objectName(), metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		cur = nil
	case err != nil:
		return false, fmt.Errorf("read %s: %w", s.secretWhat(), err)
	case cur.Annotations[idAnnotate] == id:
		return false, nil
	}
	keyPEM, err := pki.MarshalPrivateKey(n.key)
	if err != nil {
		return false, err
	}
	plain := map[string][]byte{secretKeyKey: keyPEM}
	if n.cert != nil {
		plain[secretCertKey] = pki.EncodeCert(n.cert)
	}
	data := map[string][]byte{}
	for k, v := range plain {
		if data[k], err = copycerts.Encrypt(rand, key, v); err != nil {
			return false, fmt.Errorf("encrypt the new %s CA for %s: %w", s.name, s.secretWhat(), err)
		}
	}
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: s.objectName(), Namespace: metav1.NamespaceSystem,
		Labels: map[string]string{managedBy: "certctl"}, Annotations: map[string]string{idAnnotate: id}},
		Type: corev1.SecretTypeOpaque, Data: data}
	if cur == nil {
		_, err = secrets.Create(ctx, sec, metav1.CreateOptions{})
	} else {
		sec.ResourceVersion = cur.ResourceVersion
		_, err = secrets.Update(ctx, sec, metav1.UpdateOptions{})
	}
	if err != nil {
		return false, fmt.Errorf("write %s: %w", s.secretWhat(), err)
	}
	return true, nil
}

// download reads the new CA of rotation id from the Secret with the
// certificate key keyHex, and checks it: sealed with that key and not
// changed since, a CA whose key matches its certificate (a key alone for
// sa), the rotation's.
func (s store) download(ctx context.Context, keyHex, id string, sa bool) (side, error) {
	var n side
	key, err := copycerts.ParseKey(keyHex)
	if err != nil {
		return n, err
	}
	ctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	sec, err := s.client.CoreV1().Secrets(metav1.NamespaceSystem).Get(ctx, s.objectName(), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		flags := "--new-ca-cert and --new-ca-key"
		if sa {
			flags = "--new-ca-key"
		}
		return n, fmt.Errorf("%s does not exist (it is deleted once every node re-issued): copy %s's new CA from a node of the rotation and pass it with %s", s.secretWhat(), s.name, flags)
	}
	if err != nil {
		return n, fmt.Errorf("read %s from the API server %s: %w", s.secretWhat(), s.server, err)
	}
	open := func(k string) ([]byte, error) {
		sealed, ok := sec.Data[k]
		if !ok {
			return nil, fmt.Errorf("%s has no %s: delete it and run trust again on the node that started the rotation", s.secretWhat(), k)
		}
		plain, err := copycerts.Decrypt(key, sealed)
		if err != nil {
			return nil, fmt.Errorf("decrypt %s of %s: %w: the --certificate-key is not the one the rotation printed, or the Secret was changed", k, s.secretWhat(), err)
		}
		return plain, nil
	}
	keyPEM, err := open(secretKeyKey)
	if err != nil {
		return n, err
	}
	if sa {
		if n.key, err = pki.ParsePrivateKey(keyPEM); err != nil {
			return n, fmt.Errorf("%s: %s: %w", s.secretWhat(), secretKeyKey, err)
		}
	} else {
		certPEM, err := open(secretCertKey)
		if err != nil {
			return n, err
		}
		ca, err := pki.ParseCA(s.secretWhat()+" "+secretCertKey, certPEM, s.secretWhat()+" "+secretKeyKey, keyPEM, timeZero)
		if err != nil {
			return n, err
		}
		n.cert, n.key = ca.Cert, ca.Key
	}
	if got := n.id(); got != id {
		return n, fmt.Errorf("%s holds the CA sha256 %s, not the new CA of the rotation in %s (sha256 %s): delete the Secret and run trust again on the node that started the rotation", s.secretWhat(), short([]string{got}), s.what(), short([]string{id}))
	}
	return n, nil
}

// deleteSecret removes the Secret; one already gone is fine.
func (s store) deleteSecret(ctx context.Context) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	err := s.client.CoreV1().Secrets(metav1.NamespaceSystem).Delete(ctx, s.objectName(), metav1.DeleteOptions{})
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("delete %s: %w", s.secretWhat(), err)
	}
	return true, nil
}
