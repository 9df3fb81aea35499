package pki

import (
	"crypto/x509"
	"slices"
	"sort"
)

// Names of the CAs and the service-account key pair, as kubeadm names their
// phases.
const (
	CAName           = "ca"
	FrontProxyCAName = "front-proxy-ca"
	EtcdCAName       = "etcd-ca"
	SAName           = "sa"
	// KubeletKubeconfig is the kubelet's kubeconfig, whose client
	// certificate the kubelet rotates itself.
	KubeletKubeconfig = "kubelet.conf"
	// AdminKubeconfig and SuperAdminKubeconfig are the kubeconfigs of the
	// cluster administrators, which certctl's messages point users to.
	AdminKubeconfig      = "admin.conf"
	SuperAdminKubeconfig = "super-admin.conf"
)

// Group names kubeadm puts in certificate subjects.
const (
	MastersGroup        = "system:masters"
	ClusterAdminsGroup  = "kubeadm:cluster-admins"
	NodesGroup          = "system:nodes"
	NodesUserPrefix     = "system:node:"
	ControllerManagerCN = "system:kube-controller-manager"
	SchedulerCN         = "system:kube-scheduler"
)

// Component names, as the static pods are named.
const (
	KubeAPIServer         = "kube-apiserver"
	Etcd                  = "etcd"
	KubeControllerManager = "kube-controller-manager"
	KubeScheduler         = "kube-scheduler"
	Kubelet               = "kubelet" // not a static pod: restarted by systemd
)

// certctl's signer names, one per CA and purpose, so that RBAC can grant
// each one apart, and the built-in ones of kube-controller-manager that
// issue control-plane certificates. super-admin.conf carries
// O=system:masters, which the API server refuses for the built-in
// kubernetes.io/kube-apiserver-client.
const (
	SignerKubeAPIServerServing = "certctl.io/kube-apiserver-serving"
	SignerKubeAPIServerClient  = "certctl.io/kube-apiserver-client"
	SignerFrontProxyClient     = "certctl.io/front-proxy-client"
	SignerEtcdServer           = "certctl.io/etcd-server"
	SignerEtcdPeer             = "certctl.io/etcd-peer"
	SignerEtcdClient           = "certctl.io/etcd-client"
	builtinClient              = "kubernetes.io/kube-apiserver-client"
	builtinKubelet             = "kubernetes.io/kube-apiserver-client-kubelet"
)

// Kind says which files an Entry is and how it is made.
type Kind int

const (
	KindCA         Kind = iota + 1 // a self-signed CA: BASE.crt and BASE.key
	KindLeaf                       // a certificate signed by CAName: BASE.crt and BASE.key
	KindKeyPair                    // a key pair without certificate: BASE.key and BASE.pub
	KindKubeconfig                 // a kubeconfig file BASE with an embedded client certificate
)

// SANSet names the SANs a certificate carries, computed by Node.Profile.
type SANSet int

const (
	NoSANs SANSet = iota
	APIServerSANs
	EtcdServerSANs
	EtcdPeerSANs
)

// Entry is one row of an Inventory: everything certctl knows about one CA,
// certificate, key pair or kubeconfig without knowing the node. Node.Profile
// adds what depends on the node: SANs, a CN naming the node, a server URL.
type Entry struct {
	Name     string // kubeadm's phase name: "apiserver", "etcd-server", "admin", "sa"
	LongName string // kubeadm's text for the init phase
	// RenewLongName is kubeadm's text for `certs renew`, when it differs
	// from LongName (phases/certs/renewal/manager.go).
	RenewLongName string
	// BaseName is the file name without extension relative to the cert
	// folder ("etcd/server"), or a kubeconfig's file name ("admin.conf").
	BaseName     string
	Kind         Kind
	CAName       string // the signing CA's Name; "" for a CA and the sa key pair
	CommonName   string
	NodeCN       bool // the CN is CommonName followed by the node's name
	Organization []string
	// ExtKeyUsages are kubeadm's; the key usages are the same for every
	// certificate (digital signature and key encipherment, plus cert sign for
	// a CA), set by Sign.
	ExtKeyUsages []x509.ExtKeyUsage
	SANs         SANSet
	// ControlPlaneServer makes a kubeconfig point at the control-plane
	// endpoint; otherwise it points at the local API endpoint.
	ControlPlaneServer bool
	// Restart lists the static pods that read the file only when they start:
	// the flag that names it in kubeadm's manifests
	// (phases/controlplane/manifests.go, phases/etcd/local.go). For a CA or
	// the sa key pair: the components to restart after each stage of its
	// rotation (kube-apiserver reloads --client-ca-file and
	// --requestheader-client-ca-file, but not --etcd-cafile, its kubelet
	// and etcd clients, nor the service-account keys).
	Restart []string
	// Signer is certctl's signer name that issues it through the
	// certificates API; Builtin the kubernetes.io one that may, if any.
	Signer, Builtin string
	// NotRenewed says why `renew` does not renew it, after its CertName;
	// empty for what it renews.
	NotRenewed string
	// LocalEtcd is set for the files that exist only with a local etcd.
	LocalEtcd bool
}

// CertName is the name commands take for e: its phase name, or a
// kubeconfig's file name ("admin.conf"), as `kubeadm certs renew` spells it.
func (e Entry) CertName() string {
	if e.Kind == KindKubeconfig {
		return e.BaseName
	}
	return e.Name
}

// Inventory is the list of everything certctl makes, renews and checks, in
// kubeadm's order: each CA before the certificates it signs.
type Inventory []Entry

var (
	serverAuth       = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	clientAuth       = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	serverClientAuth = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
)

const notRenewedCA = "is a CA: certctl does not renew CAs, because every certificate it signed, kubeconfig and trust bundle would have to be re-issued with it; check its expiry with `certctl check-expiration` and rotate it in stages with `certctl ca rotate` (docs/ca-rotation.md)"

// Kubeadm returns kubeadm v1.37's inventory of a control-plane node
// (cmd/kubeadm/app/phases/certs/certlist.go, phases/kubeconfig/kubeconfig.go).
//
// Since v1.29 kubeadm no longer puts O=system:masters in the client certs of
// the apiserver (to kubelets and etcd) and etcd's healthcheck client: the
// API server authorizes kube-apiserver-kubelet-client by RBAC, and etcd
// ignores O. test/compat checks these rows against the kubeadm binary.
//
// admin and super-admin point at the control-plane endpoint; kubelet,
// controller-manager and scheduler at the local API endpoint (kubeadm's init
// phase clears the endpoint for kubelet.conf, cmd/phases/init/kubeconfig.go).
func Kubeadm() Inventory {
	apiserver, etcd := []string{KubeAPIServer}, []string{Etcd}
	// Every kubeconfig holds a client certificate of the cluster CA.
	kubeconfig := func(e Entry) Entry {
		e.BaseName, e.Kind, e.CAName = e.Name+".conf", KindKubeconfig, CAName
		e.ExtKeyUsages, e.Signer = clientAuth, SignerKubeAPIServerClient
		return e
	}
	return Inventory{
		// kube-apiserver: --client-ca-file, apiserver.crt; KCM: --root-ca-file
		// (published to pods), its kubeconfig, signing; the scheduler: its
		// kubeconfig; the kubelet: kubelet.conf and its --client-ca-file.
		{Name: CAName, BaseName: "ca", Kind: KindCA, NotRenewed: notRenewedCA, CommonName: "kubernetes",
			Restart:  []string{KubeAPIServer, KubeControllerManager, KubeScheduler, Kubelet},
			LongName: "self-signed Kubernetes CA to provision identities for other Kubernetes components"},
		{Name: "apiserver", BaseName: "apiserver", Kind: KindLeaf, CAName: CAName, CommonName: "kube-apiserver",
			SANs: APIServerSANs, ExtKeyUsages: serverAuth, Restart: apiserver, // --tls-cert-file
			Signer:   SignerKubeAPIServerServing,
			LongName: "certificate for serving the Kubernetes API"},
		{Name: "apiserver-kubelet-client", BaseName: "apiserver-kubelet-client", Kind: KindLeaf, CAName: CAName,
			CommonName: "kube-apiserver-kubelet-client", ExtKeyUsages: clientAuth, Restart: apiserver, // --kubelet-client-certificate
			Signer: SignerKubeAPIServerClient, Builtin: builtinClient,
			LongName: "certificate for the API server to connect to kubelet"},
		// --requestheader-client-ca-file of kube-apiserver and KCM,
		// --proxy-client-cert-file.
		{Name: FrontProxyCAName, BaseName: "front-proxy-ca", Kind: KindCA, NotRenewed: notRenewedCA, CommonName: "front-proxy-ca",
			Restart:  []string{KubeAPIServer, KubeControllerManager},
			LongName: "self-signed CA to provision identities for front proxy"},
		{Name: "front-proxy-client", BaseName: "front-proxy-client", Kind: KindLeaf, CAName: FrontProxyCAName,
			CommonName: "front-proxy-client", ExtKeyUsages: clientAuth, Restart: apiserver, // --proxy-client-cert-file
			Signer:   SignerFrontProxyClient,
			LongName: "certificate for the front proxy client"},
		// etcd's --trusted-ca-file, --peer-trusted-ca-file and its
		// certificates; kube-apiserver's --etcd-cafile and client.
		{Name: EtcdCAName, BaseName: "etcd/ca", Kind: KindCA, NotRenewed: notRenewedCA, CommonName: "etcd-ca", LocalEtcd: true,
			Restart:  []string{Etcd, KubeAPIServer},
			LongName: "self-signed CA to provision identities for etcd"},
		{Name: "etcd-server", BaseName: "etcd/server", Kind: KindLeaf, CAName: EtcdCAName, NodeCN: true,
			SANs: EtcdServerSANs, ExtKeyUsages: serverClientAuth, Restart: etcd, // --cert-file
			Signer: SignerEtcdServer, LocalEtcd: true,
			LongName: "certificate for serving etcd"},
		{Name: "etcd-peer", BaseName: "etcd/peer", Kind: KindLeaf, CAName: EtcdCAName, NodeCN: true,
			SANs: EtcdPeerSANs, ExtKeyUsages: serverClientAuth, Restart: etcd, // --peer-cert-file
			Signer: SignerEtcdPeer, LocalEtcd: true,
			LongName: "certificate for etcd nodes to communicate with each other"},
		// Only the etcd liveness probe uses it; kubeadm restarts etcd for it
		// too, which also makes the probe's next run use the new file.
		{Name: "etcd-healthcheck-client", BaseName: "etcd/healthcheck-client", Kind: KindLeaf, CAName: EtcdCAName,
			CommonName: "kube-etcd-healthcheck-client", ExtKeyUsages: clientAuth, Restart: etcd,
			Signer: SignerEtcdClient, LocalEtcd: true,
			LongName: "certificate for liveness probes to healthcheck etcd"},
		{Name: "apiserver-etcd-client", BaseName: "apiserver-etcd-client", Kind: KindLeaf, CAName: EtcdCAName,
			CommonName: "kube-apiserver-etcd-client", ExtKeyUsages: clientAuth, Restart: apiserver, // --etcd-certfile
			Signer: SignerEtcdClient, LocalEtcd: true,
			LongName: "certificate the apiserver uses to access etcd"},
		// kube-apiserver's --service-account-key-file and
		// --service-account-signing-key-file, KCM's
		// --service-account-private-key-file.
		{Name: SAName, BaseName: "sa", Kind: KindKeyPair, Restart: []string{KubeAPIServer, KubeControllerManager},
			NotRenewed: "is the service-account signing key pair, not a certificate: it does not expire and is not renewed",
			LongName:   "private key for signing service account tokens along with its public key"},
		// admin.conf and super-admin.conf are read by clients at each use.
		kubeconfig(Entry{Name: "admin", CommonName: "kubernetes-admin", Organization: []string{ClusterAdminsGroup},
			ControlPlaneServer: true, Builtin: builtinClient,
			LongName:      "kubeconfig for the cluster administrator",
			RenewLongName: "certificate embedded in the kubeconfig file for the admin to use and for kubeadm itself"}),
		kubeconfig(Entry{Name: "super-admin", CommonName: "kubernetes-super-admin", Organization: []string{MastersGroup},
			ControlPlaneServer: true,
			LongName:           "kubeconfig for the super-admin (break-glass, system:masters)",
			RenewLongName:      "certificate embedded in the kubeconfig file for the super-admin"}),
		kubeconfig(Entry{Name: "kubelet", CommonName: NodesUserPrefix, NodeCN: true, Organization: []string{NodesGroup},
			Restart: []string{Kubelet}, Builtin: builtinKubelet,
			NotRenewed:    "is not renewed here: the kubelet rotates its own client certificate (as with kubeadm); `certctl check-expiration` shows its expiry",
			LongName:      "kubeconfig for the kubelet to use during TLS bootstrap",
			RenewLongName: "certificate embedded in the kubeconfig file for the kubelet"}),
		kubeconfig(Entry{Name: "controller-manager", CommonName: ControllerManagerCN,
			Restart: []string{KubeControllerManager}, Builtin: builtinClient,
			LongName:      "kubeconfig for the controller manager",
			RenewLongName: "certificate embedded in the kubeconfig file for the controller manager to use"}),
		kubeconfig(Entry{Name: "scheduler", CommonName: SchedulerCN,
			Restart: []string{KubeScheduler}, Builtin: builtinClient,
			LongName:      "kubeconfig for the scheduler",
			RenewLongName: "certificate embedded in the kubeconfig file for the scheduler manager to use"}),
	}
}

// Find returns the entry named name: its phase name or CertName.
func (inv Inventory) Find(name string) (Entry, bool) {
	return first(inv, func(e Entry) bool { return e.Name == name || e.CertName() == name })
}

// Select returns the entries of the given kinds, without the local etcd's
// when externalEtcd is set, as kubeadm leaves them out.
func (inv Inventory) Select(externalEtcd bool, kinds ...Kind) Inventory {
	return slices.DeleteFunc(slices.Clone(inv), func(e Entry) bool {
		return !slices.Contains(kinds, e.Kind) || externalEtcd && e.LocalEtcd
	})
}

// Renewed returns what `renew` renews, in the order it prints them: the
// certificate folder's leaves, then the kubeconfig files.
func (inv Inventory) Renewed(externalEtcd bool) Inventory {
	return slices.DeleteFunc(inv.Select(externalEtcd, KindLeaf, KindKubeconfig), func(e Entry) bool { return e.NotRenewed != "" })
}

// WithSANs returns the leaf whose SANs are set (APIServerSANs, ...).
func (inv Inventory) WithSANs(set SANSet) Entry {
	e, _ := first(inv, func(e Entry) bool { return e.Kind == KindLeaf && e.SANs == set })
	return e
}

// BaseName is the BaseName of the entry called name ("etcd-ca" ->
// "etcd/ca"); "" for none.
func (inv Inventory) BaseName(name string) string {
	e, _ := inv.Find(name)
	return e.BaseName
}

// Clients returns the leaves signed by the CA called caName that are
// client certificates only, in the inventory's order.
func (inv Inventory) Clients(caName string) []Entry {
	return slices.DeleteFunc(inv.Select(false, KindLeaf), func(e Entry) bool {
		return e.CAName != caName || !slices.Equal(e.ExtKeyUsages, clientAuth)
	})
}

// Restarting returns the CertName of the kubeconfig that component reads
// ("controller-manager.conf" for kube-controller-manager); "" for none.
func (inv Inventory) Restarting(component string) string {
	e, _ := first(inv.Select(false, KindKubeconfig), func(e Entry) bool { return slices.Contains(e.Restart, component) })
	return e.CertName()
}

// ReadAtEachUse returns the CertNames of the renewed kubeconfigs that no
// component reads only when it starts: their clients read them at each
// use, so renewing them needs no restart ("admin.conf", "super-admin.conf").
func (inv Inventory) ReadAtEachUse() []string {
	return slices.DeleteFunc(inv.Renewed(false), func(e Entry) bool { return e.Kind != KindKubeconfig || len(e.Restart) > 0 }).CertNames()
}

// KubeconfigCA is the Name of the CA of the kubeconfigs' client
// certificates, whose certificate every kubeconfig embeds.
func (inv Inventory) KubeconfigCA() string {
	e, _ := first(inv, func(e Entry) bool { return e.Kind == KindKubeconfig })
	return e.CAName
}

// ControllerManagerCA is the Name of the CA kube-controller-manager signs
// with (--cluster-signing-cert-file): that of the certificates a built-in
// kubernetes.io signer may issue.
func (inv Inventory) ControllerManagerCA() string {
	e, _ := first(inv, func(e Entry) bool { return e.Builtin != "" })
	return e.CAName
}

// first returns the first element of list that ok accepts, and whether
// there is one; the zero value when there is none.
func first[T any](list []T, ok func(T) bool) (T, bool) {
	if i := slices.IndexFunc(list, ok); i >= 0 {
		return list[i], true
	}
	var zero T
	return zero, false
}

// CertNames returns the CertName of each entry.
func (inv Inventory) CertNames() []string {
	var out []string
	for _, e := range inv {
		out = append(out, e.CertName())
	}
	return out
}

// Signers lists certctl's signer names, sorted.
func (inv Inventory) Signers() []string {
	var out []string
	for _, e := range inv {
		if e.Signer != "" && !slices.Contains(out, e.Signer) {
			out = append(out, e.Signer)
		}
	}
	sort.Strings(out)
	return out
}

// Certificates returns the profiles of the CAs and certificates kubeadm
// makes in the certificate folder of node n (no key pair, no kubeconfig).
func (inv Inventory) Certificates(n Node) []Profile {
	var out []Profile
	for _, e := range inv.Select(n.ExternalEtcd, KindCA, KindLeaf) {
		out = append(out, n.Profile(e))
	}
	return out
}

// KubeconfigProfile is a kubeconfig file with an embedded client certificate.
type KubeconfigProfile struct {
	Profile           // Name "admin", BaseName "admin.conf", CAName "ca"
	CABaseName string // the CA's BaseName
	Server     string // the API server URL the file points at
}

// Kubeconfigs returns the kubeconfig files of node n.
func (inv Inventory) Kubeconfigs(n Node) []KubeconfigProfile {
	var out []KubeconfigProfile
	for _, e := range inv.Select(n.ExternalEtcd, KindKubeconfig) {
		server := n.LocalAPIURL
		if e.ControlPlaneServer {
			server = n.ControlPlaneURL
		}
		out = append(out, KubeconfigProfile{Profile: n.Profile(e), CABaseName: inv.BaseName(e.CAName), Server: server})
	}
	return out
}

// Find returns the profile named name.
func Find(list []Profile, name string) (Profile, bool) {
	return first(list, func(p Profile) bool { return p.Name == name })
}
