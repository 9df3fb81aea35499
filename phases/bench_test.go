package phases

import (
	"context"
	"crypto/rand"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/pki"
)

// BenchmarkInitCertsAll measures `init-phase certs all` in process: 11 keys
// generated on every core by the KeyPool, 10 certificates signed, 22 files
// written atomically. `make bench` also times the binary against kubeadm.
func BenchmarkInitCertsAll(b *testing.B) {
	for _, alg := range []string{"RSA-2048", "ECDSA-P256"} {
		b.Run(alg, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				dir := b.TempDir()
				c := config.Default()
				c.CertificatesDir = filepath.Join(dir, "pki")
				c.NodeName, c.AdvertiseAddress, c.EncryptionAlgorithm = "cp-1", "198.51.100.10", alg
				node, err := c.Node()
				if err != nil {
					b.Fatal(err)
				}
				env := &Env{Cluster: &c, Now: time.Now, Rand: rand.Reader, Out: io.Discard}
				if err := Run(context.Background(), env, CertPhases(pki.Kubeadm().Certificates(node))); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
