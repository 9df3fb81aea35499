package config

import "encoding/json"

// The types below mirror the parts of kubeadm's types that decide
// certificates (cmd/kubeadm/app/apis/kubeadm/v1beta4/types.go and
// v1beta3/types.go). Fields typed ignored are kubeadm fields certctl does not
// use: they are listed so that only the fields the version does not have
// warn, as kubeadm's strict decoding warns about them. A field tagged
// only:"v1beta4" or only:"v1beta3" is one version's alone; the other
// version's documents warn about it (collectFields). v1beta4's typed fields
// of its own are in clusterConfigurationV1beta4, so that a v1beta3 document
// never decodes them. Marshal writes the same types: omitempty leaves out
// what certctl does not set.
type ignored = json.RawMessage

type typeMeta struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
}

type apiEndpoint struct {
	AdvertiseAddress string `json:"advertiseAddress,omitempty"`
	BindPort         int32  `json:"bindPort"`
}

type networking struct {
	ServiceSubnet string `json:"serviceSubnet"`
	PodSubnet     string `json:"podSubnet,omitempty"`
	DNSDomain     string `json:"dnsDomain"`
}

type initConfiguration struct {
	typeMeta
	BootstrapTokens  ignored          `json:"bootstrapTokens,omitempty"`
	DryRun           ignored          `json:"dryRun,omitempty" only:"v1beta4"`
	NodeRegistration nodeRegistration `json:"nodeRegistration"`
	LocalAPIEndpoint apiEndpoint      `json:"localAPIEndpoint"`
	CertificateKey   string           `json:"certificateKey,omitempty"`
	SkipPhases       ignored          `json:"skipPhases,omitempty"`
	Patches          ignored          `json:"patches,omitempty"`
	Timeouts         ignored          `json:"timeouts,omitempty" only:"v1beta4"`
}

type nodeRegistration struct {
	Name                  string  `json:"name,omitempty"`
	CRISocket             ignored `json:"criSocket,omitempty"`
	Taints                ignored `json:"taints,omitempty"`
	KubeletExtraArgs      ignored `json:"kubeletExtraArgs,omitempty"`
	IgnorePreflightErrors ignored `json:"ignorePreflightErrors,omitempty"`
	ImagePullPolicy       ignored `json:"imagePullPolicy,omitempty"`
	ImagePullSerial       ignored `json:"imagePullSerial,omitempty" only:"v1beta4"`
}

// clusterConfiguration is a v1beta3 ClusterConfiguration, as kubeadm v1.36
// read it. It has no encryptionAlgorithm and no validity fields: the key
// algorithm came from the PublicKeysECDSA feature gate, the validities
// were kubeadm's defaults.
type clusterConfiguration struct {
	typeMeta
	Etcd                 etcd            `json:"etcd"`
	Networking           networking      `json:"networking"`
	KubernetesVersion    ignored         `json:"kubernetesVersion,omitempty"`
	ControlPlaneEndpoint string          `json:"controlPlaneEndpoint,omitempty"`
	APIServer            apiServer       `json:"apiServer"`
	ControllerManager    ignored         `json:"controllerManager,omitempty"`
	Scheduler            ignored         `json:"scheduler,omitempty"`
	DNS                  ignored         `json:"dns,omitempty"`
	Proxy                ignored         `json:"proxy,omitempty" only:"v1beta4"`
	CertificatesDir      string          `json:"certificatesDir"`
	ImageRepository      ignored         `json:"imageRepository,omitempty"`
	FeatureGates         map[string]bool `json:"featureGates,omitempty"`
	ClusterName          string          `json:"clusterName"`
}

// clusterConfigurationV1beta4 is a v1beta4 ClusterConfiguration, as kubeadm
// v1.37 has it. The validities are pointers, as kubeadm's *metav1.Duration:
// an empty value is not a missing one (kubeadm refuses "", takes null).
type clusterConfigurationV1beta4 struct {
	clusterConfiguration
	EncryptionAlgorithm         string  `json:"encryptionAlgorithm"`
	CertificateValidityPeriod   *string `json:"certificateValidityPeriod"`
	CACertificateValidityPeriod *string `json:"caCertificateValidityPeriod"`
}

type apiServer struct {
	ExtraArgs              ignored  `json:"extraArgs,omitempty"`
	ExtraVolumes           ignored  `json:"extraVolumes,omitempty"`
	ExtraEnvs              ignored  `json:"extraEnvs,omitempty" only:"v1beta4"`
	CertSANs               []string `json:"certSANs,omitempty"`
	TimeoutForControlPlane ignored  `json:"timeoutForControlPlane,omitempty" only:"v1beta3"`
}

type etcd struct {
	Local    *localEtcd `json:"local,omitempty"`
	External ignored    `json:"external,omitempty"`
}

type localEtcd struct {
	ImageRepository ignored  `json:"imageRepository,omitempty"`
	ImageTag        ignored  `json:"imageTag,omitempty"`
	DataDir         ignored  `json:"dataDir,omitempty"`
	ExtraArgs       ignored  `json:"extraArgs,omitempty"`
	ExtraEnvs       ignored  `json:"extraEnvs,omitempty" only:"v1beta4"`
	ServerCertSANs  []string `json:"serverCertSANs,omitempty"`
	PeerCertSANs    []string `json:"peerCertSANs,omitempty"`
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
