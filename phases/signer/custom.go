package signer

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// CustomSigner is a signer name of the user's that certctl signs for with
// a CA of the user's, as the Kubernetes documentation's example.com/serving
// ("Manage TLS Certificates in a Cluster"), where the reader plays the
// signer by hand with cfssl, jq and kubectl.
type CustomSigner struct {
	// Name is the signer name: a domain of the user's, never kubernetes.io/*
	// nor certctl's.
	Name string
	// CA signs.
	CA CAProvider
	// Profile gives the usages and maximum validity, as for certctl sign;
	// nil means the CSR's spec.usages and the controller's MaxDuration.
	Profile *SigningProfile
}

// ParseCustomSigner reads the value of `signer run --signer`:
// NAME=CA_CERT,CA_KEY[,SIGNING_CONFIG]. It loads the CA (a CASource, which
// it also returns for WatchCAs) and the signing configuration's default
// profile (the cfssl-style file `certctl sign --config` reads).
func ParseCustomSigner(spec string, o CASourceOptions) (CustomSigner, *CASource, error) {
	name, files, _ := strings.Cut(spec, "=")
	parts := strings.Split(files, ",")
	if name == "" || len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
		return CustomSigner{}, nil, fmt.Errorf("invalid --signer %q: want NAME=CA_CERT,CA_KEY[,SIGNING_CONFIG], for example example.com/serving=ca.pem,ca-key.pem,server-signing-config.json", spec)
	}
	if err := checkCustomName(name); err != nil {
		return CustomSigner{}, nil, err
	}
	src, err := LoadCASource(name, parts[0], parts[1], o)
	if err != nil {
		return CustomSigner{}, nil, fmt.Errorf("--signer %s: %w", name, err)
	}
	cs := CustomSigner{Name: name, CA: src}
	if len(parts) == 3 && parts[2] != "" {
		if cs.Profile, err = LoadSigningConfig(parts[2], ""); err != nil {
			return CustomSigner{}, nil, fmt.Errorf("--signer %s: %w", name, err)
		}
	}
	return cs, src, nil
}

// checkCustomName refuses a custom signer name that is not of a domain of
// the user's: no domain, kubernetes.io/* (kube-controller-manager's) or one
// of certctl's names.
func checkCustomName(name string) error {
	if err := apiSignerName(name); err != nil {
		return fmt.Errorf("signer: custom signer name %q: %w: the API server refuses it in a CSR, so no CSR could ask for it; use a name such as example.com/serving", name, err)
	}
	if !strings.Contains(name, "/") || strings.HasPrefix(name, "kubernetes.io/") || inCertctlDomain(name) {
		return fmt.Errorf("signer: custom signer name %q: use a name of your own domain such as example.com/serving (not kubernetes.io/*, not certctl's certctl.io/*)", name)
	}
	return nil
}

// apiSignerName checks name as the API server checks a CSR's
// spec.signerName: DOMAIN/NAME, both lowercase DNS subdomains, the domain
// with at least two labels.
func apiSignerName(name string) error {
	domain, path, ok := strings.Cut(name, "/")
	switch {
	case !ok:
		return fmt.Errorf("it is not of the form DOMAIN/NAME")
	case strings.Contains(path, "/"):
		return fmt.Errorf("it has more than one '/'")
	case len(validation.IsDNS1123Subdomain(domain)) > 0 || !strings.Contains(domain, "."):
		return fmt.Errorf("its domain %q is not a lowercase DNS name with a dot", domain)
	case len(validation.IsDNS1123Subdomain(path)) > 0:
		return fmt.Errorf("its name %q after the '/' is not lowercase letters, digits, '-' and '.'", path)
	}
	return nil
}
