package reqfile

import (
	"crypto"
	"fmt"
	"path/filepath"
	"strings"

	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/certctl/certctl/pki"
	"github.com/certctl/certctl/pki/kubeconfig"
)

// A Slot is how the new key of one certificate is kept in a CSR folder, as
// kubeadm's certificateReadWriter (phases/certs/renewal/readwriter.go)
// keeps a certificate: KeyFile, NAME.key beside NAME.csr, for a pair of
// the certificate folder; KeyKubeconfig, a kubeconfig NAME.conf holding
// the client key, for a kubeconfig file (the layout of kubeadm's `certs
// generate-csr`). Only the two know the difference.
type Slot interface {
	// KeyName is the file holding the key: "server.key", "admin.conf".
	KeyName(base string) string
	// ReadKey reads the key at path, and its PEM as it is installed.
	ReadKey(path string) (crypto.Signer, []byte, error)
	// WriteKey writes key at path, atomically, readable by its owner only.
	WriteKey(path string, key crypto.Signer) error
	// Signed is the certificate the key's file at path holds as well, nil
	// when none: kubeadm's documentation has the CA operator put a
	// kubeconfig's into its client-certificate-data.
	Signed(path string) []byte
	// keyOf is the key file a request file names, "" when the request is
	// of the other kind; named sets it in a Spec.
	keyOf(r *Request) string
	named(s *Spec, keyName string)
}

// KeyFile is a key file NAME.key.
type KeyFile struct{}

func (KeyFile) KeyName(base string) string { return base + ".key" }

func (KeyFile) ReadKey(path string) (crypto.Signer, []byte, error) {
	data, err := pki.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read private key %s: %w", path, err)
	}
	key, err := pki.ParsePrivateKey(data)
	if err != nil {
		return nil, nil, fmt.Errorf("parse private key %s: %w", path, err)
	}
	return key, data, nil
}

func (KeyFile) WriteKey(path string, key crypto.Signer) error {
	return pki.Store{Dir: filepath.Dir(path)}.WriteKey(strings.TrimSuffix(filepath.Base(path), ".key"), key)
}

func (KeyFile) Signed(string) []byte             { return nil }
func (KeyFile) keyOf(r *Request) string          { return r.Key }
func (KeyFile) named(s *Spec, keyName string)    { s.Key = keyName }
func (KeyKubeconfig) keyOf(r *Request) string    { return r.Kubeconfig }
func (KeyKubeconfig) named(s *Spec, name string) { s.Kubeconfig = name }

// KeyKubeconfig is a kubeconfig that holds the client key and no
// certificate. A new one points where the kubeconfig From does (its
// cluster's name and server, its user's name), or when From is "" at
// Server with Cluster and User, and the CA data CA (none when nil).
type KeyKubeconfig struct {
	From                  string
	Cluster, Server, User string
	CA                    []byte
}

func (KeyKubeconfig) KeyName(base string) string { return base }

func (KeyKubeconfig) ReadKey(path string) (crypto.Signer, []byte, error) {
	user, err := currentUser(path)
	if err != nil {
		return nil, nil, err
	}
	if len(user.ClientKeyData) == 0 {
		return nil, nil, fmt.Errorf("kubeconfig %s holds no client-key-data", path)
	}
	key, err := pki.ParsePrivateKey(user.ClientKeyData)
	if err != nil {
		return nil, nil, fmt.Errorf("kubeconfig %s client-key-data: %w", path, err)
	}
	return key, user.ClientKeyData, nil
}

func (k KeyKubeconfig) WriteKey(path string, key crypto.Signer) error {
	if k.From != "" {
		cfg, err := kubeconfig.Load(k.From)
		if err != nil {
			return err
		}
		cluster, c, user, _, err := kubeconfig.Current(cfg)
		if err != nil {
			return fmt.Errorf("kubeconfig %s: %w", k.From, err)
		}
		k.Cluster, k.Server, k.User = cluster, c.Server, user
	}
	keyPEM, err := pki.MarshalPrivateKey(key)
	if err != nil {
		return err
	}
	return kubeconfig.Write(path, kubeconfig.Build(k.Cluster, k.Server, k.User, k.CA, nil, keyPEM))
}

func (KeyKubeconfig) Signed(path string) []byte {
	if user, err := currentUser(path); err == nil {
		return user.ClientCertificateData
	}
	return nil
}

// currentUser is the current user of the kubeconfig at path.
func currentUser(path string) (*clientcmdapi.AuthInfo, error) {
	cfg, err := kubeconfig.Load(path)
	if err != nil {
		return nil, err
	}
	_, _, _, user, err := kubeconfig.Current(cfg)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig %s: %w", path, err)
	}
	return user, nil
}
