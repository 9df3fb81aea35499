package config

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/certctl/certctl/pki"
)

// The kubeadm API groups certctl reads: v1beta4 as kubeadm v1.37 reads it,
// and v1beta3, which kubeadm v1.37 refuses, as kubeadm v1.36 read it, for
// files kept from an older cluster.
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

// publicKeysECDSA is the v1beta3 feature gate that selected ECDSA-P256 keys
// (kubeadm v1.36 converted it to encryptionAlgorithm: ECDSA-P256).
const publicKeysECDSA = "PublicKeysECDSA"

// kinds that may share a kubeadm config file and that certctl ignores
// without a warning, because kubeadm accepts them there.
var ignoredKinds = map[string]bool{
	"ResetConfiguration":     true,
	"UpgradeConfiguration":   true,
	"KubeletConfiguration":   true,
	"KubeProxyConfiguration": true,
}

// File is what a kubeadm configuration file set, on top of a base (usually
// the defaults), so that flags can be layered on it in kubeadm's order.
type File struct {
	Cluster Cluster
	// Warnings name unknown kinds, unknown fields and API versions that
	// certctl reads on a best-effort basis. They are not errors: kubeadm
	// only warns about them too.
	Warnings []string
	// CertificateKey is the InitConfiguration's certificateKey, else the
	// JoinConfiguration's controlPlane.certificateKey: the hex key of the
	// kubeadm-certs Secret that `kubeadm init phase upload-certs` and
	// `kubeadm join --control-plane` take when no --certificate-key is
	// given, and `certctl certs upload` and `certs download` too. Not
	// checked here: only those commands use it (copycerts.ParseKey).
	CertificateKey string
	// DiscoveryKubeconfig is the JoinConfiguration's
	// discovery.file.kubeConfigPath when it is a file, not a URL: the
	// kubeconfig with which `kubeadm join` reads the kubeadm-certs Secret,
	// and `certctl certs download` without --kubeconfig.
	DiscoveryKubeconfig string
}

// LoadFile reads a kubeadm configuration file (multi-document YAML holding an
// InitConfiguration and/or a ClusterConfiguration) on top of base, which is
// usually Default(). Empty fields in the file keep base's values. Every
// value the file gives is checked as kubeadm v1.37 checks it; the error
// names the file, the document, the field and what to use.
func LoadFile(path string, base Cluster) (*File, error) {
	data, err := readConfig(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("read config file %s: %w: give --config the path of kubeadm's configuration file (InitConfiguration or JoinConfiguration, and ClusterConfiguration)", path, err)
		}
		return nil, fmt.Errorf("read config file %s: %w", path, err)
	}
	f, err := Parse(data, base)
	if err != nil {
		return nil, fmt.Errorf("config file %s: %w", path, err)
	}
	return f, nil
}

// readConfig reads the configuration file path, following symlinks. A
// regular file is read as os.ReadFile does, and so is a FIFO or pipe, which
// `--config <(...)` gives; but the file is opened with O_NONBLOCK, so that a
// FIFO nothing writes to reads as empty (refused by Parse, naming the file)
// rather than blocking certctl, and a folder or device is refused.
func readConfig(path string) ([]byte, error) {
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	// Open did not wait for a writer of a FIFO; reads may, while there is
	// one (a FIFO nothing opened for writing reads as empty). A blocking
	// descriptor, for os.NewFile to read without the poller.
	if err := syscall.SetNonblock(fd, false); err != nil {
		syscall.Close(fd)
		return nil, &fs.PathError{Op: "fcntl", Path: path, Err: err}
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	if fi, err := f.Stat(); err != nil {
		return nil, err
	} else if m := fi.Mode(); !m.IsRegular() && m.Type() != fs.ModeNamedPipe {
		return nil, fmt.Errorf("%s is %w but a %s: pass --config a kubeadm configuration file", path, pki.ErrNotRegular, pki.FileKind(m))
	}
	return io.ReadAll(f)
}

// Parse is LoadFile on bytes.
func Parse(data []byte, base Cluster) (*File, error) {
	out := &File{Cluster: base}
	c := &out.Cluster
	kinds := map[string]int{} // kind → number of the document that has it
	var join *joinConfiguration
	seen := 0
	firstLine := 1 // of the document in data
	docs, err := splitYAML(data)
	if err != nil {
		return nil, err
	}
	for i, doc := range docs {
		docLine := firstLine
		firstLine += bytes.Count(doc, []byte("\n")) + 1 // and the "---" line
		jsonDoc, err := yaml.YAMLToJSON(doc)
		if err != nil {
			return nil, fmt.Errorf("document %d: malformed YAML: %w", i+1, tabIndented(err, doc, docLine))
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
		// kubeadm refuses a kind given twice, whatever its group
		// (kubeadm's SplitConfigDocuments).
		if first, twice := kinds[tm.Kind]; twice {
			return nil, fmt.Errorf("%s: kind %q is specified twice in YAML file (documents %d and %d): merge them into one", where, tm.Kind, first, i+1)
		}
		kinds[tm.Kind] = i + 1
		if ignoredKinds[tm.Kind] {
			continue
		}
		target, err := newDocument(tm)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		if target == nil {
			out.Warnings = append(out.Warnings, fmt.Sprintf("%s: unknown kind %q in %s, ignored", where, tm.Kind, tm.APIVersion))
			continue
		}
		if tm.APIVersion == kubeadmGroupV1beta3 {
			out.Warnings = append(out.Warnings, fmt.Sprintf("%s: %s is read as kubeadm v1.36 read it; kubeadm v1.37 refuses it: convert the file with `kubeadm config migrate` of kubeadm v1.36", where, tm.APIVersion))
		}
		// Only the fields spelt exactly as kubeadm's are decoded: Go's
		// decoding would match certSans or servicesubnet case-insensitively,
		// kubeadm's does not and ignores them, as the warning says.
		var raw map[string]any
		dec := json.NewDecoder(bytes.NewReader(jsonDoc))
		dec.UseNumber() // the numbers as written, for typeError
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("%s: not a YAML mapping: %w", where, err)
		}
		docType := reflect.TypeOf(target).Elem()
		unknown := unknownFields(raw, docType, tm.APIVersion, "")
		removeFields(raw, unknown)
		exact, err := json.Marshal(raw)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		if err := json.Unmarshal(exact, target); err != nil {
			return nil, fmt.Errorf("%s: %w", where, typeError(err))
		}
		for _, d := range duplicateKeys(doc, docLine) {
			out.Warnings = append(out.Warnings, fmt.Sprintf("%s: key %q given twice (line %d): the last value is used, as kubeadm does; keep one", where, d.key, d.line))
		}
		for _, u := range unknown {
			out.Warnings = append(out.Warnings, fmt.Sprintf("%s: unknown field %q (not a %s field), ignored%s", where, u, tm.APIVersion, unknownFieldHint(tm.APIVersion, u)))
		}
		if v1beta3, ok := target.(*clusterConfiguration); ok {
			target = &clusterConfigurationV1beta4{clusterConfiguration: *v1beta3} // v1beta4's fields empty
		}
		switch t := target.(type) {
		case *joinConfiguration:
			join = t // applied last, when no InitConfiguration overrides it
		case *initConfiguration:
			err = applyInit(c, t.NodeRegistration.Name, t.LocalAPIEndpoint)
			out.CertificateKey = t.CertificateKey
		case *clusterConfigurationV1beta4:
			var warnings []string
			warnings, err = applyCluster(c, t, tm.APIVersion)
			for _, w := range warnings {
				out.Warnings = append(out.Warnings, where+": "+w)
			}
		case *certctlConfiguration:
			if c.SignerNames == nil && len(t.Renewal.SignerNames) > 0 {
				c.SignerNames = map[string]string{}
			}
			maps.Copy(c.SignerNames, t.Renewal.SignerNames)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		seen++
	}
	if seen == 0 {
		return nil, fmt.Errorf("no InitConfiguration or ClusterConfiguration (%s) found: add them, as `kubeadm config print init-defaults` writes them", kubeadmGroupV1beta4)
	}
	if w, err := applyJoin(c, join, kinds); err != nil {
		return nil, err
	} else if w != "" {
		out.Warnings = append(out.Warnings, w)
	} else if join != nil {
		out.CertificateKey = join.ControlPlane.CertificateKey
		if f := join.Discovery.File; f != nil && !strings.HasPrefix(f.KubeConfigPath, "https://") && !strings.HasPrefix(f.KubeConfigPath, "http://") {
			out.DiscoveryKubeconfig = f.KubeConfigPath
		}
	}
	return out, nil
}

// duplicateKey is a key given again in a mapping, at line of the file.
type duplicateKey struct {
	key  string
	line int
}

// duplicateKeyError is how YAML's strict decoding names a key given twice.
var duplicateKeyError = regexp.MustCompile(`line (\d+): key "((?:[^"\\]|\\.)*)" already set in map`)

// duplicateKeys lists the keys that doc, which starts at line docLine of
// the file, gives twice in a mapping: kubeadm's strict decoding warns
// about them, and its (and certctl's) lenient decoding keeps the last.
func duplicateKeys(doc []byte, docLine int) []duplicateKey {
	_, err := yaml.YAMLToJSONStrict(doc)
	if err == nil {
		return nil
	}
	lines := strings.Split(string(doc), "\n")
	var out []duplicateKey
	for _, m := range duplicateKeyError.FindAllStringSubmatch(err.Error(), -1) {
		n, _ := strconv.Atoi(m[1])
		key, uerr := strconv.Unquote(`"` + m[2] + `"`)
		if uerr != nil {
			key = m[2]
		}
		// YAML names the line of the value: a mapping or list starts
		// below its key.
		for k := min(n, len(lines)); k >= 1; k-- {
			l := strings.TrimLeft(strings.TrimSpace(lines[k-1]), "- ")
			if strings.HasPrefix(l, key+":") || strings.HasPrefix(l, `"`+key+`":`) || strings.HasPrefix(l, "'"+key+"':") {
				n = k
				break
			}
		}
		out = append(out, duplicateKey{key, docLine + n - 1})
	}
	return out
}

// jsonValues are JSON's kinds of value in kubeadm's words, keyed as
// json.UnmarshalTypeError.Value spells them; goValues are the kinds of
// value each Go kind of the types above takes.
var (
	jsonValues = map[string]string{"array": "a list", "object": "a mapping", "number": "a number", "string": "a string", "bool": "true or false"}
	goValues   = map[reflect.Kind]string{reflect.Bool: "bool", reflect.String: "string", reflect.Int32: "number", reflect.Int: "number", reflect.Int64: "number",
		reflect.Map: "object", reflect.Struct: "object", reflect.Slice: "array"}
)

// typeError rewrites a JSON type error in the file's terms, without
// certctl's Go type names.
func typeError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		got := cmp.Or(jsonValues[te.Value], te.Value)
		want := cmp.Or(jsonValues[goValues[te.Type.Kind()]], te.Type.String())
		// "number 6443.5 where kubeadm wants a number" would not say
		// what is wrong: a fraction, or a number out of the type's range.
		if k := te.Type.Kind(); k >= reflect.Int && k <= reflect.Int64 {
			bits := te.Type.Bits()
			want = fmt.Sprintf("a whole number from %d to %d", -(int64(1) << (bits - 1)), int64(1)<<(bits-1)-1)
		}
		// encoding/json names the struct v1beta4 embeds in the path, which
		// the file does not have.
		field := strings.TrimPrefix(te.Field, "clusterConfiguration.")
		return fmt.Errorf("invalid %s: %s where kubeadm wants %s", field, got, want)
	}
	return err
}

// newDocument returns the type to decode a document of tm's kind and
// version into; nil for a kind certctl does not know.
func newDocument(tm typeMeta) (any, error) {
	known := map[typeMeta]func() any{
		{kubeadmGroupV1beta4, "InitConfiguration"}:    func() any { return &initConfiguration{} },
		{kubeadmGroupV1beta4, "ClusterConfiguration"}: func() any { return &clusterConfigurationV1beta4{} },
		{kubeadmGroupV1beta3, "InitConfiguration"}:    func() any { return &initConfiguration{} },
		{kubeadmGroupV1beta3, "ClusterConfiguration"}: func() any { return &clusterConfiguration{} },
		{kubeadmGroupV1beta4, "JoinConfiguration"}:    func() any { return &joinConfiguration{} },
		{kubeadmGroupV1beta3, "JoinConfiguration"}:    func() any { return &joinConfiguration{} },
		{CertctlGroup, CertctlKind}:                   func() any { return &certctlConfiguration{} },
	}
	if mk, ok := known[tm]; ok {
		return mk(), nil
	}
	switch tm.Kind {
	case CertctlKind:
		return nil, fmt.Errorf("unsupported apiVersion %q: use %s", tm.APIVersion, CertctlGroup)
	case "InitConfiguration", "ClusterConfiguration", "JoinConfiguration":
		return nil, fmt.Errorf("unsupported apiVersion %q: use %s", tm.APIVersion, kubeadmGroupV1beta4)
	}
	return nil, nil
}

// applyInit sets what an InitConfiguration gives. kubeadm trims and
// lower-cases nodeRegistration.name (kubeadmutil.GetHostname) and accepts
// an unspecified advertise address, which it replaces with the detected one.
func applyInit(c *Cluster, nodeName string, endpoint apiEndpoint) error {
	if nodeName != "" {
		name := strings.ToLower(strings.TrimSpace(nodeName))
		if name == "" {
			return fmt.Errorf("nodeRegistration.name %q is blank: use the node's host name, or leave it out to use this host's name", nodeName)
		}
		if err := checkNodeName(name); err != nil {
			return fmt.Errorf("invalid nodeRegistration.name %q: %w", nodeName, err)
		}
		c.NodeName = name
	}
	if a := endpoint.AdvertiseAddress; a != "" {
		if err := checkAdvertiseAddress(a, false); err != nil {
			return fmt.Errorf("invalid localAPIEndpoint.advertiseAddress %q: %w", a, err)
		}
		c.AdvertiseAddress = canonicalIP(a)
	}
	if endpoint.BindPort != 0 {
		c.BindPort = endpoint.BindPort
	}
	return nil
}

// applyCluster checks and sets what a ClusterConfiguration of apiVersion
// gives (a v1beta3 one with v1beta4's fields empty), and returns its
// warnings.
func applyCluster(c *Cluster, f *clusterConfigurationV1beta4, apiVersion string) ([]string, error) {
	if f.CertificatesDir != "" {
		if err := checkAbsolute(f.CertificatesDir); err != nil {
			return nil, fmt.Errorf("invalid certificatesDir %q: %w", f.CertificatesDir, err)
		}
		c.CertificatesDir = f.CertificatesDir
	}
	if f.ControlPlaneEndpoint != "" {
		if _, _, err := SplitHostPort(f.ControlPlaneEndpoint); err != nil {
			return nil, fmt.Errorf("invalid controlPlaneEndpoint %q: %w", f.ControlPlaneEndpoint, err)
		}
		c.ControlPlaneEndpoint = f.ControlPlaneEndpoint
	}
	if s := f.Networking.ServiceSubnet; s != "" {
		if err := checkServiceSubnet(s); err != nil {
			return nil, fmt.Errorf("invalid networking.serviceSubnet %q: %w", s, err)
		}
		c.ServiceSubnet = s
	}
	if s := f.Networking.PodSubnet; s != "" {
		if err := checkPodSubnet(s); err != nil {
			return nil, fmt.Errorf("invalid networking.podSubnet %q: %w", s, err)
		}
	}
	c.ClusterName = cmp.Or(f.ClusterName, c.ClusterName)
	c.DNSDomain = cmp.Or(f.Networking.DNSDomain, c.DNSDomain)
	external := len(f.Etcd.External) > 0 && !bytes.Equal(f.Etcd.External, []byte("null"))
	local := f.Etcd.Local
	if local != nil && external {
		return nil, fmt.Errorf("etcd.local and etcd.external are mutually exclusive: keep one")
	}
	if local == nil {
		local = &localEtcd{}
	}
	// kubeadm lower-cases apiServer.certSANs (LowercaseSANs), not etcd's.
	apiSANs := lowercaseSANs(f.APIServer.CertSANs)
	if err := cmp.Or(checkSANs("apiServer.certSANs", apiSANs),
		checkSANs("etcd.local.serverCertSANs", local.ServerCertSANs),
		checkSANs("etcd.local.peerCertSANs", local.PeerCertSANs)); err != nil {
		return nil, err
	}
	c.APIServerCertSANs = append(c.APIServerCertSANs, canonicalSANs(apiSANs)...)
	c.EtcdServerCertSANs = append(c.EtcdServerCertSANs, canonicalSANs(local.ServerCertSANs)...)
	c.EtcdPeerCertSANs = append(c.EtcdPeerCertSANs, canonicalSANs(local.PeerCertSANs)...)
	if external {
		ext, err := parseExternalEtcd(f.Etcd.External)
		if err != nil {
			return nil, err
		}
		c.ExternalEtcd, c.EtcdExternal = true, ext
	}
	warnings, err := applyFeatureGates(c, f.FeatureGates, apiVersion)
	if err != nil {
		return nil, err
	}
	c.EncryptionAlgorithm = cmp.Or(f.EncryptionAlgorithm, c.EncryptionAlgorithm)
	for _, d := range []struct {
		field, example string
		value          *string // nil: not in the file, or null
		into           *time.Duration
	}{
		{"certificateValidityPeriod", "8760h", f.CertificateValidityPeriod, &c.CertificateValidity},
		{"caCertificateValidityPeriod", "87600h", f.CACertificateValidityPeriod, &c.CACertificateValidity},
	} {
		if d.value == nil {
			continue
		}
		// kubeadm's metav1.Duration is time.ParseDuration: "" is refused
		// ("time: invalid duration"), not the default.
		v, err := time.ParseDuration(*d.value)
		if err != nil {
			return nil, fmt.Errorf("invalid %s %q: %w: use a duration in hours such as %s, or leave the field out for that default", d.field, *d.value, err, d.example)
		}
		*d.into = v
	}
	return warnings, nil
}

// applyFeatureGates checks featureGates. In v1beta4 a name kubeadm v1.37
// does not know is an error, as in kubeadm; the known ones change no
// certificate and are ignored. In v1beta3, PublicKeysECDSA: true means
// ECDSA-P256 keys, as kubeadm v1.36 read it; another name kubeadm v1.37 does
// not know is a warning (kubeadm v1.36 knew gates v1.37 dropped).
func applyFeatureGates(c *Cluster, gates map[string]bool, apiVersion string) ([]string, error) {
	var warnings []string
	for _, name := range slices.Sorted(maps.Keys(gates)) {
		switch {
		case kubeadmFeatureGates[name]:
		case apiVersion == kubeadmGroupV1beta3 && name == publicKeysECDSA:
			if gates[name] {
				c.EncryptionAlgorithm = "ECDSA-P256"
			}
		case apiVersion == kubeadmGroupV1beta3:
			warnings = append(warnings, fmt.Sprintf("featureGates.%s is not a feature gate of kubeadm v1.37, ignored", name))
		case name == publicKeysECDSA:
			return nil, fmt.Errorf("invalid featureGates: %s is not a valid feature name in %s: remove it and set encryptionAlgorithm: ECDSA-P256 for ECDSA keys", name, apiVersion)
		default:
			return nil, fmt.Errorf("invalid featureGates: %s is not a valid feature name: remove it (kubeadm v1.37 knows %s)", name, strings.Join(slices.Sorted(maps.Keys(kubeadmFeatureGates)), ", "))
		}
	}
	return warnings, nil
}

// unknownFieldHint says how v1beta3 spells what a v1beta4 field of a
// v1beta3 document meant to set.
func unknownFieldHint(apiVersion, field string) string {
	if apiVersion != kubeadmGroupV1beta3 {
		return ""
	}
	switch field {
	case "encryptionAlgorithm":
		return ": v1beta3 selects ECDSA-P256 keys with featureGates: {PublicKeysECDSA: true}, other algorithms need kubeadm.k8s.io/v1beta4"
	case "certificateValidityPeriod", "caCertificateValidityPeriod":
		return ": v1beta3 has kubeadm's default validities, other ones need kubeadm.k8s.io/v1beta4"
	}
	return ""
}
