package clusterview

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"time"
)

// served returns the certificate chain addr serves in a TLS handshake,
// presenting client (nil: none). It does not verify the chain: the caller
// checks it against the local CA and reports what is wrong, which a
// failed verification would hide. A server that requires a client
// certificate the handshake does not satisfy has sent its own before it
// refuses: that chain is returned, without error.
func served(ctx context.Context, addr string, client *tls.Certificate, timeout time.Duration) ([]*x509.Certificate, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var chain []*x509.Certificate
	host, _, _ := net.SplitHostPort(addr)
	cfg := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: true, //nolint:gosec // verified against the local CA by the caller, see above
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			for _, r := range raw {
				c, err := x509.ParseCertificate(r)
				if err != nil {
					return err
				}
				chain = append(chain, c)
			}
			return nil
		},
	}
	if net.ParseIP(host) == nil {
		cfg.ServerName = host
	}
	if client != nil {
		cfg.Certificates = []tls.Certificate{*client}
	}
	d := tls.Dialer{NetDialer: &net.Dialer{}, Config: cfg}
	conn, err := d.DialContext(ctx, "tcp", addr)
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
