package config

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// TestFlagsCheck: Check refuses a flag value Validate refuses whatever the
// configuration, and accepts the values Load takes: an address or node
// name to detect, a loopback address, a node name used as given.
func TestFlagsCheck(t *testing.T) {
	for _, tc := range []struct {
		name  string
		flags Flags
		given []string
		err   string // "" for none
	}{
		{"none given", Flags{}, nil, ""},
		{"address to detect", Flags{AdvertiseAddress: "::"}, []string{"apiserver-advertise-address"}, ""},
		{"empty address", Flags{}, []string{"apiserver-advertise-address"}, ""},
		{"loopback address", Flags{AdvertiseAddress: "127.0.0.1"}, []string{"apiserver-advertise-address"}, ""},
		{"empty node name", Flags{}, []string{"node-name"}, ""},
		{"node name in capitals", Flags{NodeName: "CP-1"}, []string{"node-name"}, ""},
		{"bad node name", Flags{NodeName: "no_such"}, []string{"node-name"}, "invalid nodeRegistration.name (--node-name)"},
		// The Resolver refuses it, with one wording for every command.
		{"relative cert dir", Flags{CertDir: "pki"}, []string{"cert-dir"}, ""},
		{"bad port", Flags{BindPort: 70000}, []string{"apiserver-bind-port"}, "invalid localAPIEndpoint.bindPort"},
		{"bad validity", Flags{CertValidity: -time.Hour}, []string{"certificate-validity"}, "invalid certificateValidityPeriod"},
		{"bad SAN", Flags{ExtraSANs: []string{"a b"}}, []string{"apiserver-cert-extra-sans"}, "apiServer.certSANs (--apiserver-cert-extra-sans)"},
		// A value that is not given is not checked: the configuration sets it.
		{"bad value not given", Flags{ServiceCIDR: "bogus"}, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.flags.Check(func(f string) bool { return slices.Contains(tc.given, f) })
			if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
				t.Errorf("error %v, want %q", err, tc.err)
			}
		})
	}
}
