package config

import "encoding/json"

// The types below mirror the parts of kubeadm's types that decide
// certificates, one set per API version (cmd/kubeadm/app/apis/kubeadm/
// v1beta4/types.go and v1beta3/types.go). Fields typed ignored are kubeadm
// fields certctl does not use: they are listed so that only the fields the
// version does not have warn, as kubeadm's strict decoding warns about them.
type ignored = json.RawMessage

type typeMeta struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
}

type apiEndpoint struct {
	AdvertiseAddress string `json:"advertiseAddress"`
	BindPort         int32  `json:"bindPort"`
}

type networking struct {
	ServiceSubnet string `json:"serviceSubnet"`
	PodSubnet     string `json:"podSubnet"`
	DNSDomain     string `json:"dnsDomain"`
}

// initFields and clusterFields are what certctl reads from an
// InitConfiguration and a ClusterConfiguration of any version.
type initFields struct {
	nodeName string
	endpoint apiEndpoint
}

type clusterFields struct {
	certificatesDir, clusterName, controlPlaneEndpoint string
	networking                                         networking
	certSANs                                           []string
	localEtcd                                          *localEtcdSANs
	externalEtcd                                       ignored
	featureGates                                       map[string]bool
	encryptionAlgorithm                                string
	certificateValidity, caCertificateValidity         string
}

type localEtcdSANs struct{ server, peer []string }

// kubeadm.k8s.io/v1beta4, as kubeadm v1.37 has it.

type initConfigurationV1beta4 struct {
	typeMeta
	BootstrapTokens  ignored                 `json:"bootstrapTokens"`
	DryRun           ignored                 `json:"dryRun"`
	NodeRegistration nodeRegistrationV1beta4 `json:"nodeRegistration"`
	LocalAPIEndpoint apiEndpoint             `json:"localAPIEndpoint"`
	CertificateKey   ignored                 `json:"certificateKey"`
	SkipPhases       ignored                 `json:"skipPhases"`
	Patches          ignored                 `json:"patches"`
	Timeouts         ignored                 `json:"timeouts"`
}

type nodeRegistrationV1beta4 struct {
	Name                  string  `json:"name"`
	CRISocket             ignored `json:"criSocket"`
	Taints                ignored `json:"taints"`
	KubeletExtraArgs      ignored `json:"kubeletExtraArgs"`
	IgnorePreflightErrors ignored `json:"ignorePreflightErrors"`
	ImagePullPolicy       ignored `json:"imagePullPolicy"`
	ImagePullSerial       ignored `json:"imagePullSerial"`
}

type clusterConfigurationV1beta4 struct {
	typeMeta
	Etcd                        etcdV1beta4      `json:"etcd"`
	Networking                  networking       `json:"networking"`
	KubernetesVersion           ignored          `json:"kubernetesVersion"`
	ControlPlaneEndpoint        string           `json:"controlPlaneEndpoint"`
	APIServer                   apiServerV1beta4 `json:"apiServer"`
	ControllerManager           ignored          `json:"controllerManager"`
	Scheduler                   ignored          `json:"scheduler"`
	DNS                         ignored          `json:"dns"`
	Proxy                       ignored          `json:"proxy"`
	CertificatesDir             string           `json:"certificatesDir"`
	ImageRepository             ignored          `json:"imageRepository"`
	FeatureGates                map[string]bool  `json:"featureGates"`
	ClusterName                 string           `json:"clusterName"`
	EncryptionAlgorithm         string           `json:"encryptionAlgorithm"`
	CertificateValidityPeriod   string           `json:"certificateValidityPeriod"`
	CACertificateValidityPeriod string           `json:"caCertificateValidityPeriod"`
}

type apiServerV1beta4 struct {
	ExtraArgs    ignored  `json:"extraArgs"`
	ExtraVolumes ignored  `json:"extraVolumes"`
	ExtraEnvs    ignored  `json:"extraEnvs"`
	CertSANs     []string `json:"certSANs"`
}

type etcdV1beta4 struct {
	Local    *localEtcdV1beta4 `json:"local"`
	External ignored           `json:"external"`
}

type localEtcdV1beta4 struct {
	ImageRepository ignored  `json:"imageRepository"`
	ImageTag        ignored  `json:"imageTag"`
	DataDir         ignored  `json:"dataDir"`
	ExtraArgs       ignored  `json:"extraArgs"`
	ExtraEnvs       ignored  `json:"extraEnvs"`
	ServerCertSANs  []string `json:"serverCertSANs"`
	PeerCertSANs    []string `json:"peerCertSANs"`
}

func (t *initConfigurationV1beta4) fields() initFields {
	return initFields{nodeName: t.NodeRegistration.Name, endpoint: t.LocalAPIEndpoint}
}

func (t *clusterConfigurationV1beta4) fields() clusterFields {
	f := clusterFields{
		certificatesDir:       t.CertificatesDir,
		clusterName:           t.ClusterName,
		controlPlaneEndpoint:  t.ControlPlaneEndpoint,
		networking:            t.Networking,
		certSANs:              t.APIServer.CertSANs,
		externalEtcd:          t.Etcd.External,
		featureGates:          t.FeatureGates,
		encryptionAlgorithm:   t.EncryptionAlgorithm,
		certificateValidity:   t.CertificateValidityPeriod,
		caCertificateValidity: t.CACertificateValidityPeriod,
	}
	if t.Etcd.Local != nil {
		f.localEtcd = &localEtcdSANs{server: t.Etcd.Local.ServerCertSANs, peer: t.Etcd.Local.PeerCertSANs}
	}
	return f
}

// kubeadm.k8s.io/v1beta3, as kubeadm v1.36 read it. It has no
// encryptionAlgorithm and no validity fields: the key algorithm came from
// the PublicKeysECDSA feature gate, the validities were kubeadm's defaults.

type initConfigurationV1beta3 struct {
	typeMeta
	BootstrapTokens  ignored                 `json:"bootstrapTokens"`
	NodeRegistration nodeRegistrationV1beta3 `json:"nodeRegistration"`
	LocalAPIEndpoint apiEndpoint             `json:"localAPIEndpoint"`
	CertificateKey   ignored                 `json:"certificateKey"`
	SkipPhases       ignored                 `json:"skipPhases"`
	Patches          ignored                 `json:"patches"`
}

type nodeRegistrationV1beta3 struct {
	Name                  string  `json:"name"`
	CRISocket             ignored `json:"criSocket"`
	Taints                ignored `json:"taints"`
	KubeletExtraArgs      ignored `json:"kubeletExtraArgs"`
	IgnorePreflightErrors ignored `json:"ignorePreflightErrors"`
	ImagePullPolicy       ignored `json:"imagePullPolicy"`
}

type clusterConfigurationV1beta3 struct {
	typeMeta
	Etcd                 etcdV1beta3      `json:"etcd"`
	Networking           networking       `json:"networking"`
	KubernetesVersion    ignored          `json:"kubernetesVersion"`
	ControlPlaneEndpoint string           `json:"controlPlaneEndpoint"`
	APIServer            apiServerV1beta3 `json:"apiServer"`
	ControllerManager    ignored          `json:"controllerManager"`
	Scheduler            ignored          `json:"scheduler"`
	DNS                  ignored          `json:"dns"`
	CertificatesDir      string           `json:"certificatesDir"`
	ImageRepository      ignored          `json:"imageRepository"`
	FeatureGates         map[string]bool  `json:"featureGates"`
	ClusterName          string           `json:"clusterName"`
}

type apiServerV1beta3 struct {
	ExtraArgs              ignored  `json:"extraArgs"`
	ExtraVolumes           ignored  `json:"extraVolumes"`
	CertSANs               []string `json:"certSANs"`
	TimeoutForControlPlane ignored  `json:"timeoutForControlPlane"`
}

type etcdV1beta3 struct {
	Local    *localEtcdV1beta3 `json:"local"`
	External ignored           `json:"external"`
}

type localEtcdV1beta3 struct {
	ImageRepository ignored  `json:"imageRepository"`
	ImageTag        ignored  `json:"imageTag"`
	DataDir         ignored  `json:"dataDir"`
	ExtraArgs       ignored  `json:"extraArgs"`
	ServerCertSANs  []string `json:"serverCertSANs"`
	PeerCertSANs    []string `json:"peerCertSANs"`
}

func (t *initConfigurationV1beta3) fields() initFields {
	return initFields{nodeName: t.NodeRegistration.Name, endpoint: t.LocalAPIEndpoint}
}

func (t *clusterConfigurationV1beta3) fields() clusterFields {
	f := clusterFields{
		certificatesDir:      t.CertificatesDir,
		clusterName:          t.ClusterName,
		controlPlaneEndpoint: t.ControlPlaneEndpoint,
		networking:           t.Networking,
		certSANs:             t.APIServer.CertSANs,
		externalEtcd:         t.Etcd.External,
		featureGates:         t.FeatureGates,
	}
	if t.Etcd.Local != nil {
		f.localEtcd = &localEtcdSANs{server: t.Etcd.Local.ServerCertSANs, peer: t.Etcd.Local.PeerCertSANs}
	}
	return f
}

// certctlConfiguration is CertctlKind:
//
//	apiVersion: certctl.io/v1alpha1
//	kind: CertctlConfiguration
//	renewal:
//	  signerNames:
//	    apiserver: example.com/apiserver-serving
type certctlConfiguration struct {
	typeMeta
	Renewal struct {
		SignerNames map[string]string `json:"signerNames"`
	} `json:"renewal"`
}
