package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"
	"time"

	"sigs.k8s.io/yaml"
)

// The kubeadm API groups certctl reads. v1beta3 has no encryptionAlgorithm
// or validity fields; the rest is the same for what certctl reads.
const (
	kubeadmGroupV1beta4 = "kubeadm.k8s.io/v1beta4"
	kubeadmGroupV1beta3 = "kubeadm.k8s.io/v1beta3"
)

// CertctlGroup and CertctlKind name certctl's own document, for settings
// kubeadm has no field for. It may share kubeadm's configuration file:
// kubeadm warns about a document of a kind it does not know and ignores it.
const (
	CertctlGroup = "certctl.io/v1alpha1"
	CertctlKind  = "CertctlConfiguration"
)

// kinds that may share a kubeadm config file and that certctl ignores
// without a warning, because kubeadm accepts them there.
var ignoredKinds = map[string]bool{
	"JoinConfiguration":      true,
	"ResetConfiguration":     true,
	"UpgradeConfiguration":   true,
	"KubeletConfiguration":   true,
	"KubeProxyConfiguration": true,
}

// The types below mirror the parts of kubeadm's v1beta4 types that decide
// certificates. Fields typed ignored are kubeadm fields certctl does not
// use: they are listed so that only truly unknown fields warn.
type ignored = json.RawMessage

type typeMeta struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
}

type initConfiguration struct {
	typeMeta
	BootstrapTokens  ignored          `json:"bootstrapTokens"`
	DryRun           ignored          `json:"dryRun"`
	NodeRegistration nodeRegistration `json:"nodeRegistration"`
	LocalAPIEndpoint apiEndpoint      `json:"localAPIEndpoint"`
	CertificateKey   ignored          `json:"certificateKey"`
	SkipPhases       ignored          `json:"skipPhases"`
	Patches          ignored          `json:"patches"`
	Timeouts         ignored          `json:"timeouts"`
}

type nodeRegistration struct {
	Name                  string  `json:"name"`
	CRISocket             ignored `json:"criSocket"`
	Taints                ignored `json:"taints"`
	KubeletExtraArgs      ignored `json:"kubeletExtraArgs"`
	IgnorePreflightErrors ignored `json:"ignorePreflightErrors"`
	ImagePullPolicy       ignored `json:"imagePullPolicy"`
	ImagePullSerial       ignored `json:"imagePullSerial"`
}

type apiEndpoint struct {
	AdvertiseAddress string `json:"advertiseAddress"`
	BindPort         int32  `json:"bindPort"`
}

type clusterConfiguration struct {
	typeMeta
	Etcd                        etcd       `json:"etcd"`
	Networking                  networking `json:"networking"`
	KubernetesVersion           ignored    `json:"kubernetesVersion"`
	ControlPlaneEndpoint        string     `json:"controlPlaneEndpoint"`
	APIServer                   apiServer  `json:"apiServer"`
	ControllerManager           ignored    `json:"controllerManager"`
	Scheduler                   ignored    `json:"scheduler"`
	DNS                         ignored    `json:"dns"`
	Proxy                       ignored    `json:"proxy"`
	CertificatesDir             string     `json:"certificatesDir"`
	ImageRepository             ignored    `json:"imageRepository"`
	FeatureGates                ignored    `json:"featureGates"`
	ClusterName                 string     `json:"clusterName"`
	EncryptionAlgorithm         string     `json:"encryptionAlgorithm"`
	CertificateValidityPeriod   string     `json:"certificateValidityPeriod"`
	CACertificateValidityPeriod string     `json:"caCertificateValidityPeriod"`
}

type etcd struct {
	Local    *localEtcd `json:"local"`
	External ignored    `json:"external"`
}

type localEtcd struct {
	ImageRepository ignored  `json:"imageRepository"`
	ImageTag        ignored  `json:"imageTag"`
	DataDir         ignored  `json:"dataDir"`
	ExtraArgs       ignored  `json:"extraArgs"`
	ExtraEnvs       ignored  `json:"extraEnvs"`
	ServerCertSANs  []string `json:"serverCertSANs"`
	PeerCertSANs    []string `json:"peerCertSANs"`
}

type networking struct {
	ServiceSubnet string `json:"serviceSubnet"`
	PodSubnet     string `json:"podSubnet"`
	DNSDomain     string `json:"dnsDomain"`
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

type apiServer struct {
	ExtraArgs              ignored  `json:"extraArgs"`
	ExtraVolumes           ignored  `json:"extraVolumes"`
	ExtraEnvs              ignored  `json:"extraEnvs"`
	CertSANs               []string `json:"certSANs"`
	TimeoutForControlPlane ignored  `json:"timeoutForControlPlane"`
}

// File is what a kubeadm configuration file set. Set tells which fields the
// file gave, so that defaults and flags can be layered in kubeadm's order.
type File struct {
	Cluster Cluster
	// Warnings name unknown kinds, unknown fields and API versions that
	// certctl reads on a best-effort basis. They are not errors: kubeadm's
	// schema grows, and a field certctl does not know cannot change a cert.
	Warnings []string
}

// LoadFile reads a kubeadm configuration file (multi-document YAML holding an
// InitConfiguration and/or a ClusterConfiguration) on top of base, which is
// usually Default(). Empty fields in the file keep base's values.
func LoadFile(path string, base Cluster) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config file %s: %w", path, err)
	}
	f, err := Parse(data, base)
	if err != nil {
		return nil, fmt.Errorf("config file %s: %w", path, err)
	}
	return f, nil
}

// Parse is LoadFile on bytes.
func Parse(data []byte, base Cluster) (*File, error) {
	out := &File{Cluster: base}
	c := &out.Cluster
	docs := splitYAML(data)
	seen := 0
	for i, doc := range docs {
		jsonDoc, err := yaml.YAMLToJSON(doc)
		if err != nil {
			return nil, fmt.Errorf("document %d: malformed YAML: %w", i+1, err)
		}
		if bytes.Equal(bytes.TrimSpace(jsonDoc), []byte("null")) {
			continue
		}
		var tm typeMeta
		if err := json.Unmarshal(jsonDoc, &tm); err != nil {
			return nil, fmt.Errorf("document %d: not a YAML mapping: %w", i+1, err)
		}
		where := fmt.Sprintf("document %d (%s)", i+1, tm.Kind)
		if tm.Kind == "" || tm.APIVersion == "" {
			return nil, fmt.Errorf("document %d: apiVersion and kind must be set", i+1)
		}
		if ignoredKinds[tm.Kind] {
			continue
		}
		var target any
		switch tm.Kind {
		case "InitConfiguration":
			target = &initConfiguration{}
		case "ClusterConfiguration":
			target = &clusterConfiguration{}
		case CertctlKind:
			target = &certctlConfiguration{}
		default:
			out.Warnings = append(out.Warnings, fmt.Sprintf("%s: unknown kind %q in %s, ignored", where, tm.Kind, tm.APIVersion))
			continue
		}
		switch tm.APIVersion {
		case CertctlGroup:
		case kubeadmGroupV1beta4:
		case kubeadmGroupV1beta3:
			out.Warnings = append(out.Warnings, fmt.Sprintf("%s: %s is deprecated; read as v1beta4", where, tm.APIVersion))
		default:
			return nil, fmt.Errorf("%s: unsupported apiVersion %q: use %s", where, tm.APIVersion, wantGroup(tm.Kind))
		}
		if (tm.Kind == CertctlKind) != (tm.APIVersion == CertctlGroup) {
			return nil, fmt.Errorf("%s: unsupported apiVersion %q: use %s", where, tm.APIVersion, wantGroup(tm.Kind))
		}
		if err := json.Unmarshal(jsonDoc, target); err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		var raw map[string]any
		if err := json.Unmarshal(jsonDoc, &raw); err == nil {
			for _, u := range unknownFields(raw, reflect.TypeOf(target).Elem(), "") {
				out.Warnings = append(out.Warnings, fmt.Sprintf("%s: unknown field %q, ignored", where, u))
			}
		}
		switch t := target.(type) {
		case *initConfiguration:
			setString(&c.NodeName, t.NodeRegistration.Name)
			setString(&c.AdvertiseAddress, t.LocalAPIEndpoint.AdvertiseAddress)
			if t.LocalAPIEndpoint.BindPort != 0 {
				c.BindPort = t.LocalAPIEndpoint.BindPort
			}
		case *clusterConfiguration:
			if err := applyClusterConfiguration(c, t); err != nil {
				return nil, fmt.Errorf("%s: %w", where, err)
			}
		case *certctlConfiguration:
			for name, s := range t.Renewal.SignerNames {
				if c.SignerNames == nil {
					c.SignerNames = map[string]string{}
				}
				c.SignerNames[name] = s
			}
		}
		seen++
	}
	if seen == 0 {
		return nil, fmt.Errorf("no InitConfiguration or ClusterConfiguration (%s) found", kubeadmGroupV1beta4)
	}
	return out, nil
}

func applyClusterConfiguration(c *Cluster, t *clusterConfiguration) error {
	setString(&c.CertificatesDir, t.CertificatesDir)
	setString(&c.ClusterName, t.ClusterName)
	setString(&c.ControlPlaneEndpoint, t.ControlPlaneEndpoint)
	setString(&c.ServiceSubnet, t.Networking.ServiceSubnet)
	setString(&c.DNSDomain, t.Networking.DNSDomain)
	setString(&c.EncryptionAlgorithm, t.EncryptionAlgorithm)
	c.APIServerCertSANs = append(c.APIServerCertSANs, t.APIServer.CertSANs...)
	if t.Etcd.Local != nil {
		c.EtcdServerCertSANs = append(c.EtcdServerCertSANs, t.Etcd.Local.ServerCertSANs...)
		c.EtcdPeerCertSANs = append(c.EtcdPeerCertSANs, t.Etcd.Local.PeerCertSANs...)
	}
	if len(t.Etcd.External) > 0 && !bytes.Equal(t.Etcd.External, []byte("null")) {
		c.ExternalEtcd = true
	}
	for _, d := range []struct {
		field string
		value string
		into  *time.Duration
	}{
		{"certificateValidityPeriod", t.CertificateValidityPeriod, &c.CertificateValidity},
		{"caCertificateValidityPeriod", t.CACertificateValidityPeriod, &c.CACertificateValidity},
	} {
		if d.value == "" {
			continue
		}
		v, err := time.ParseDuration(d.value)
		if err != nil {
			return fmt.Errorf("invalid %s %q: %w", d.field, d.value, err)
		}
		*d.into = v
	}
	return nil
}

// wantGroup is the API group and version certctl reads kind in.
func wantGroup(kind string) string {
	if kind == CertctlKind {
		return CertctlGroup
	}
	return kubeadmGroupV1beta4
}

func setString(dst *string, v string) {
	if v != "" {
		*dst = v
	}
}

// splitYAML splits a multi-document YAML stream on "---" lines.
func splitYAML(data []byte) [][]byte {
	var docs [][]byte
	var cur bytes.Buffer
	for _, line := range bytes.SplitAfter(data, []byte("\n")) {
		trimmed := bytes.TrimRight(line, " \t\r\n")
		if bytes.Equal(trimmed, []byte("---")) || bytes.HasPrefix(trimmed, []byte("--- ")) {
			docs = append(docs, bytes.Clone(cur.Bytes()))
			cur.Reset()
			continue
		}
		cur.Write(line)
	}
	return append(docs, cur.Bytes())
}

// unknownFields lists the keys of m (recursively, as dotted paths) that
// struct type t does not declare in its json tags.
func unknownFields(m map[string]any, t reflect.Type, prefix string) []string {
	known := map[string]reflect.Type{}
	collectFields(t, known)
	var out []string
	for k, v := range m {
		ft, ok := known[k]
		if !ok {
			out = append(out, prefix+k)
			continue
		}
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if sub, isMap := v.(map[string]any); isMap && ft.Kind() == reflect.Struct {
			out = append(out, unknownFields(sub, ft, prefix+k+".")...)
		}
	}
	sort.Strings(out)
	return out
}

func collectFields(t reflect.Type, into map[string]reflect.Type) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous {
			collectFields(f.Type, into)
			continue
		}
		name := strings.Split(f.Tag.Get("json"), ",")[0]
		if name != "" && name != "-" {
			into[name] = f.Type
		}
	}
}
