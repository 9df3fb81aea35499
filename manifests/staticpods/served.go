package staticpods

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// handshakeTimeout bounds one TLS handshake with a local endpoint.
const handshakeTimeout = 3 * time.Second

// served returns the leaf certificate that the TLS server at addr presents
// (Served). The caller compares it with the file on disk byte for byte,
// which is stricter than verifying a chain, and nothing secret is sent.
func served(ctx context.Context, addr string) (*x509.Certificate, error) {
	chain, err := Served(ctx, addr, nil, handshakeTimeout)
	if err != nil {
		return nil, fmt.Errorf("TLS handshake with %s: %w", addr, err)
	}
	return chain[0], nil
}

// Served returns the certificate chain addr serves in a TLS handshake
// within timeout, presenting client (nil: none). It verifies no chain:
// each caller checks what it needs (the file on disk, the local CA) and
// reports what is wrong, which a failed verification would hide. The
// chain is taken while the handshake runs, so that a server which then
// refuses a client without a certificate (etcd with --client-cert-auth)
// still shows it: that chain is returned, without error. It is the probe
// of the restarts here, of check-expiration --cluster and of CA
// rotation's finish (which must see no chain of the old CA).
func Served(ctx context.Context, addr string, client *tls.Certificate, timeout time.Duration) ([]*x509.Certificate, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var chain []*x509.Certificate
	cfg := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: true, //nolint:gosec // each caller checks the chain, see above
		VerifyConnection: func(cs tls.ConnectionState) error {
			chain = cs.PeerCertificates
			return nil
		},
	}
	if client != nil {
		cfg.Certificates = []tls.Certificate{*client}
	}
	conn, err := (&tls.Dialer{Config: cfg}).DialContext(ctx, "tcp", addr)
	if conn != nil {
		conn.Close()
	}
	if len(chain) > 0 {
		return chain, nil
	}
	if err == nil {
		err = errors.New("no certificate served")
	}
	return nil, err
}

// Serial formats a certificate's serial number as `openssl x509 -serial`
// prints it: upper-case hex, two digits a byte.
func Serial(c *x509.Certificate) string {
	if c == nil {
		return ""
	}
	return strings.ToUpper(hex.EncodeToString(c.SerialNumber.Bytes()))
}
