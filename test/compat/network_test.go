package compat

// The network set-ups of this file are rows of TestSameFilesAsKubeadm.

// ipv6OnlyConfig is an IPv6-only cluster: advertise address, service and pod
// subnets, an endpoint "[IPv6]:port", another bind port, and SANs that
// repeat what kubeadm adds anyway (the advertise address, the first service
// IP, the endpoint's address in other spellings, localhost, ::1).
const ipv6OnlyConfig = `apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
nodeRegistration:
  name: cp-v6
localAPIEndpoint:
  advertiseAddress: "2001:db8::10"
  bindPort: 9443
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
kubernetesVersion: v1.37.1
controlPlaneEndpoint: "[2001:db8::20]:6443"
certificatesDir: CERTDIR
encryptionAlgorithm: ALG
networking:
  serviceSubnet: "fd00:10:96::/112"
  podSubnet: "fd00:10:244::/56"
apiServer:
  certSANs: ["2001:db8::10", "fd00:10:96::1", "2001:DB8:0::20", api.v6.example.com, "::1"]
etcd:
  local:
    serverCertSANs: ["2001:db8::40", etcd-0.example.com, "::1", localhost, "2001:db8::10"]
    peerCertSANs: ["2001:db8::41", peer.example.com, cp-v6, "127.0.0.1"]
`

// dualStackConfig has both families: ADDR is the advertise address (IPv4
// or IPv6), SUBNETS the service subnets (the first gives the API server's
// service IP), the endpoint a DNS name with a port other than bindPort.
const dualStackConfig = `apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
nodeRegistration:
  name: cp-ds.prod.example.com
localAPIEndpoint:
  advertiseAddress: "ADDR"
  bindPort: 8443
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
kubernetesVersion: v1.37.1
controlPlaneEndpoint: "cp.example.com:443"
certificatesDir: CERTDIR
encryptionAlgorithm: ALG
networking:
  serviceSubnet: "SUBNETS"
  podSubnet: "10.244.0.0/16,fd00:10:244::/56"
apiServer:
  certSANs: ["*.prod.example.com", "*.Prod.Example.com", CP-DS.prod.example.com, Kubernetes.Default, "10.96.0.1", "fd00:10:96::1", "ADDR", cp.example.com, "2001:db8:0:0::30"]
etcd:
  local:
    serverCertSANs: ["192.0.2.40", "2001:db8::40", "*.etcd.example.com", cp-ds.prod.example.com]
    peerCertSANs: ["192.0.2.41", peer.example.com]
`

// endpointConfig: ENDPOINT is the controlPlaneEndpoint, NAME the node
// name, with the default bind port.
const endpointConfig = `apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
nodeRegistration:
  name: NAME
localAPIEndpoint:
  advertiseAddress: "2001:db8::10"
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
kubernetesVersion: v1.37.1
controlPlaneEndpoint: "ENDPOINT"
certificatesDir: CERTDIR
encryptionAlgorithm: ALG
`
