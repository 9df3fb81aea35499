package signer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	certv1 "k8s.io/api/certificates/v1"

	"github.com/certctl/certctl/pki"
	"github.com/certctl/certctl/pki/policy"
)

// SigningProfile is what a cfssl-style signing configuration says about the
// certificates to issue: usages and maximum validity.
type SigningProfile struct {
	Usages []certv1.KeyUsage
	Expiry time.Duration // 0: not set
}

// apply returns the usages and maximum validity of a certificate issued
// for a request of usages by a signer whose own maximum is limit: p's
// where p sets them (p may be nil).
func (p *SigningProfile) apply(usages []certv1.KeyUsage, limit time.Duration) ([]certv1.KeyUsage, time.Duration) {
	if p == nil {
		return usages, limit
	}
	if len(p.Usages) > 0 {
		usages = slices.Clone(p.Usages)
	}
	if p.Expiry > 0 {
		limit = p.Expiry
	}
	return usages, limit
}

// cfsslConfig is the subset of cfssl's signing configuration
// (github.com/cloudflare/cfssl/config) that certctl sign understands:
//
//	{"signing": {"default": {"usages": [...], "expiry": "8760h",
//	                         "ca_constraint": {"is_ca": false}},
//	             "profiles": {"NAME": {...}}}}
//
// Any other field is an error rather than a constraint silently ignored.
type cfsslConfig struct {
	Signing *struct {
		Default  *cfsslProfile            `json:"default"`
		Profiles map[string]*cfsslProfile `json:"profiles"`
	} `json:"signing"`
}

type cfsslProfile struct {
	Usages       []string `json:"usages"`
	Expiry       string   `json:"expiry"`
	CAConstraint *struct {
		IsCA           bool `json:"is_ca"`
		MaxPathLen     int  `json:"max_path_len"`
		MaxPathLenZero bool `json:"max_path_len_zero"`
	} `json:"ca_constraint"`
}

// ParseSigningConfig reads a cfssl-style signing configuration and returns
// profile name ("" for "default"). The usages are the certificates API's
// spellings, which are cfssl's ("digital signature", "server auth", ...);
// expiry is a Go duration ("8760h"). CA certificates are refused.
func ParseSigningConfig(data []byte, profile string) (*SigningProfile, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var c cfsslConfig
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("decode signing configuration: %w (certctl understands signing.default and signing.profiles with usages, expiry and ca_constraint)", err)
	}
	if c.Signing == nil {
		return nil, fmt.Errorf("signing configuration has no \"signing\" object")
	}
	p := c.Signing.Default
	what := "signing.default"
	if profile != "" {
		p, what = c.Signing.Profiles[profile], "signing.profiles."+profile
		if p == nil {
			return nil, fmt.Errorf("signing configuration has no profile %q; it has %q", profile, slices.Sorted(maps.Keys(c.Signing.Profiles)))
		}
	}
	if p == nil {
		return nil, fmt.Errorf("signing configuration has no %s: name a profile with --profile", what)
	}
	if p.CAConstraint != nil && p.CAConstraint.IsCA {
		return nil, fmt.Errorf("%s asks for a CA (ca_constraint.is_ca): certctl sign never issues a CA certificate", what)
	}
	out := &SigningProfile{}
	for _, u := range p.Usages {
		out.Usages = append(out.Usages, certv1.KeyUsage(u))
	}
	if _, _, err := ParseUsages(out.Usages); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	// The issuance policy refuses it at every signing: say so once, here.
	if slices.Contains(out.Usages, certv1.UsageAny) {
		return nil, fmt.Errorf("%s: usage %q is refused: it lets a certificate serve and authenticate as anything; list the extended key usages it needs (\"server auth\", \"client auth\")", what, certv1.UsageAny)
	}
	if p.Expiry != "" {
		d, err := time.ParseDuration(strings.TrimSpace(p.Expiry))
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("%s: expiry %q is not a positive duration such as \"8760h\"", what, p.Expiry)
		}
		if err := policy.Validity(what+": expiry", d); err != nil {
			return nil, err
		}
		out.Expiry = d
	}
	return out, nil
}

// LoadSigningConfig reads ParseSigningConfig's input from a file.
func LoadSigningConfig(path, profile string) (*SigningProfile, error) {
	data, err := pki.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read signing configuration %s: %w", path, err)
	}
	p, err := ParseSigningConfig(data, profile)
	if err != nil {
		return nil, fmt.Errorf("signing configuration %s: %w", path, err)
	}
	return p, nil
}
