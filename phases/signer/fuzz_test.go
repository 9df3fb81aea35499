package signer

import (
	"testing"

	"github.com/certctl/certctl/internal/fuzzseed"
)

// TestFuzzSeeds keeps testdata/fuzz/FuzzParseSigningConfig in step:
// go test ./signer -run TestFuzzSeeds -write-seeds rewrites it.
func TestFuzzSeeds(t *testing.T) {
	fuzzseed.Write(t, "FuzzParseSigningConfig", map[string]fuzzseed.Seed{
		"documentation": {[]byte(`{"signing": {"default": {"usages": ["digital signature", "key encipherment", "server auth"], "expiry": "876000h", "ca_constraint": {"is_ca": false}}}}`), nil},
		"profile":       {[]byte(`{"signing": {"profiles": {"p": {"usages": ["client auth"], "expiry": "1h"}}}}`), []byte("p")},
		"ca":            {[]byte(`{"signing": {"default": {"usages": ["cert sign"], "ca_constraint": {"is_ca": true}}}}`), nil},
	})
}

// FuzzParseSigningConfig: any input gives an error or a profile whose usages
// certctl can issue (never a CA) and whose expiry is not negative.
func FuzzParseSigningConfig(f *testing.F) {
	f.Fuzz(func(t *testing.T, data, profile []byte) {
		p, err := ParseSigningConfig(data, string(profile))
		if err != nil {
			return
		}
		if _, _, err := ParseUsages(p.Usages); err != nil {
			t.Fatalf("accepted usages %q: %v", p.Usages, err)
		}
		if p.Expiry < 0 {
			t.Fatalf("negative expiry %v", p.Expiry)
		}
	})
}
