package clusterview

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"time"
)

// Served returns the certificate chain addr serves in a TLS handshake,
// not verified, presenting client (nil: none), within timeout: the probe
// of check-expiration --cluster, for the other workflows that check what a
// node serves (CA rotation's finish, which must see no chain of the old
// CA).
func Served(ctx context.Context, addr string, client *tls.Certificate, timeout time.Duration) ([]*x509.Certificate, error) {
	return served(ctx, addr, client, timeout)
}
