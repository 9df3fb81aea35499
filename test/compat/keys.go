package compat

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"testing"

	"k8s.io/client-go/util/keyutil"
)

func keyKind(t *testing.T, block *pem.Block) string {
	t.Helper()
	var pub any
	if block.Type == "PUBLIC KEY" {
		k, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		pub = k
	} else {
		k, err := keyutil.ParsePrivateKeyPEM(pem.EncodeToMemory(block))
		if err != nil {
			t.Fatal(err)
		}
		switch k := k.(type) {
		case *rsa.PrivateKey:
			pub = &k.PublicKey
		case *ecdsa.PrivateKey:
			pub = &k.PublicKey
		}
	}
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return fmt.Sprintf("key RSA %d e=%d", k.N.BitLen(), k.E)
	case *ecdsa.PublicKey:
		return "key ECDSA " + k.Curve.Params().Name
	}
	return fmt.Sprintf("key %T", pub)
}

func pubSize(c *x509.Certificate) string {
	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		return fmt.Sprint(k.N.BitLen())
	case *ecdsa.PublicKey:
		return k.Curve.Params().Name
	}
	return "?"
}
