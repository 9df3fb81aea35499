package config

import (
	"strings"
	"testing"
	"time"
)

// TestDerivedValidityTooShort: settings derived from the certificates keep
// each certificate's validity, and take apiserver.crt's as theirs. One
// below certctl's minimum was refused as "certificateValidityPeriod
// (--certificate-validity) 2m34s is shorter than 1h0m0s", a value the user
// never gave. The refusal now says where it comes from and how to choose
// one.
func TestDerivedValidityTooShort(t *testing.T) {
	c := Default()
	c.NodeName, c.AdvertiseAddress = "cp-1", "198.51.100.10"
	c.CertificateValidity, c.KeepValidity = 154*time.Second, true
	err := c.Validate()
	for _, want := range []string{"apiserver.crt", "2m34s", "--certificate-validity", "8760h"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate = %v, want it to say %q", err, want)
		}
	}
}
