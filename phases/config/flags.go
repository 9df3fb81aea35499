package config

import "time"

// Flags are kubeadm's command-line flags that decide certificates. Each
// one given overrides its field of the configuration: kubeadm's
// precedence, defaults, then --config, then the flags given.
type Flags struct {
	CertDir              string        // --cert-dir: certificatesDir
	AdvertiseAddress     string        // --apiserver-advertise-address: localAPIEndpoint.advertiseAddress
	BindPort             int32         // --apiserver-bind-port: localAPIEndpoint.bindPort
	ExtraSANs            []string      // --apiserver-cert-extra-sans: apiServer.certSANs
	ControlPlaneEndpoint string        // --control-plane-endpoint: controlPlaneEndpoint
	ServiceCIDR          string        // --service-cidr: networking.serviceSubnet
	DNSDomain            string        // --service-dns-domain: networking.dnsDomain
	NodeName             string        // --node-name: nodeRegistration.name
	EncryptionAlgorithm  string        // --encryption-algorithm: encryptionAlgorithm
	CertValidity         time.Duration // --certificate-validity: certificateValidityPeriod
	CAValidity           time.Duration // --ca-certificate-validity: caCertificateValidityPeriod
}

// Override sets in c the field of each flag that given says was given
// (by its name, without the dashes). A validity given replaces the one
// renewal would keep from the certificates.
func (f *Flags) Override(c *Cluster, given func(flag string) bool) {
	for flag, apply := range map[string]func(){
		"cert-dir":                    func() { c.CertificatesDir = f.CertDir },
		"apiserver-advertise-address": func() { c.AdvertiseAddress = f.AdvertiseAddress },
		"apiserver-bind-port":         func() { c.BindPort = f.BindPort },
		"apiserver-cert-extra-sans":   func() { c.APIServerCertSANs = f.ExtraSANs },
		"control-plane-endpoint":      func() { c.ControlPlaneEndpoint = f.ControlPlaneEndpoint },
		"service-cidr":                func() { c.ServiceSubnet = f.ServiceCIDR },
		"service-dns-domain":          func() { c.DNSDomain = f.DNSDomain },
		"node-name":                   func() { c.NodeName = f.NodeName },
		"encryption-algorithm":        func() { c.EncryptionAlgorithm = f.EncryptionAlgorithm },
		"certificate-validity":        func() { c.CertificateValidity, c.KeepValidity = f.CertValidity, false },
		"ca-certificate-validity":     func() { c.CACertificateValidity = f.CAValidity },
	} {
		if given(flag) {
			apply()
		}
	}
}

// Check refuses a flag whose value no configuration can make valid, as
// Validate words it, before the settings are read (the kubeadm-config
// ConfigMap can take ClusterTimeout): the flags given are applied over
// kubeadm's defaults and a node name and address that are valid, which
// Load would detect when no flag gives them.
func (f *Flags) Check(given func(flag string) bool) error {
	c := Default()
	f.Override(&c, given)
	// A relative --cert-dir has its own refusal, the same for every
	// command, before anything is read (Resolver).
	c.CertificatesDir = DefaultCertificatesDir
	if c.NodeName == "" {
		c.NodeName = "node"
	}
	if _, detect := c.AdvertiseAddressToDetect(); detect {
		c.AdvertiseAddress = "192.0.2.1"
	}
	c.Normalize()
	return c.Validate()
}

// CheckForRenewal is Check for renewal and CA rotation
// (Resolver.ForRenewal): it refuses a flag given whose value they cannot
// use (--encryption-algorithm, --certificate-validity, and for ca rotate's
// new CA --ca-certificate-validity, which made it expired), before the
// settings are read, and nothing that they do not read.
func (f *Flags) CheckForRenewal(given func(flag string) bool) error {
	c := Default()
	f.Override(&c, given)
	if err := c.checkForRenewal(); err != nil {
		return err
	}
	return unless(c.CACertificateValidity > 0, "invalid caCertificateValidityPeriod (--ca-certificate-validity) %v: must be positive: use a duration in hours such as %s", c.CACertificateValidity, hours(DefaultCACertificateValidity))
}
