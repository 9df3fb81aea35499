package staticpods

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
)

// handshakeTimeout bounds one TLS handshake with a local endpoint.
const handshakeTimeout = 3 * time.Second

// served returns the leaf certificate that the TLS server at addr presents.
// It verifies no chain: the caller compares the leaf with the file on disk
// byte for byte, which is stricter, and nothing secret is sent. The leaf is
// taken while the handshake runs, so that a server which then refuses a
// client without a certificate (etcd with --client-cert-auth) still shows it.
func served(ctx context.Context, addr string) (*x509.Certificate, error) {
	ctx, cancel := context.WithTimeout(ctx, handshakeTimeout)
	defer cancel()
	var leaf *x509.Certificate
	host, _, _ := net.SplitHostPort(addr)
	d := tls.Dialer{
		NetDialer: &net.Dialer{},
		Config: &tls.Config{
			ServerName:         host,
			MinVersion:         tls.VersionTLS12,
			InsecureSkipVerify: true, //nolint:gosec // compared with the file on disk instead, see above
			VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
				if len(raw) > 0 {
					leaf, _ = x509.ParseCertificate(raw[0])
				}
				return nil
			},
		},
	}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if conn != nil {
		conn.Close()
	}
	if leaf != nil {
		return leaf, nil
	}
	if err == nil {
		err = errors.New("no certificate presented")
	}
	return nil, fmt.Errorf("TLS handshake with %s: %w", addr, err)
}

// Serial formats a certificate's serial number as `openssl x509 -serial`
// prints it: upper-case hex, two digits a byte.
func Serial(c *x509.Certificate) string {
	if c == nil {
		return ""
	}
	return strings.ToUpper(hex.EncodeToString(c.SerialNumber.Bytes()))
}
