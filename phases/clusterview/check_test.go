package clusterview

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/certctl/certctl/internal/exitcode"
	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/internal/refused"
	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/phases/copycerts"
	"github.com/certctl/certctl/phases/expiration"
)

// fixture is a node made by certctl at 127.0.0.1, whose certificates real
// TLS listeners serve: kube-apiserver, etcd's client URL (with etcd's
// member list) and etcd's peer URL.
type fixture struct {
	node                  *pkitest.Node
	apiserver, etcd, peer string // host:port
	members               []Member
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{node: pkitest.NewNode(t, func(c *config.Cluster) { c.AdvertiseAddress = "127.0.0.1" })}
	etcdCA, _ := f.node.CA(t, "etcd/ca")
	f.apiserver = serveTLS(t, "127.0.0.1:0", f.node.Path("pki/apiserver.crt"), f.node.Path("pki/apiserver.key"), nil)
	f.peer = serveTLS(t, "127.0.0.1:0", f.node.Path("pki/etcd/peer.crt"), f.node.Path("pki/etcd/peer.key"), etcdCA)
	// etcd's JSON gateway, which asks for a client certificate as etcd does.
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v3/cluster/member/list" || len(r.TLS.PeerCertificates) == 0 {
			http.Error(w, "no", http.StatusNotFound)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"members": f.members})
	}))
	srv.TLS = serverTLS(t, f.node.Path("pki/etcd/server.crt"), f.node.Path("pki/etcd/server.key"), etcdCA)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	f.etcd = srv.Listener.Addr().String()
	f.members = []Member{{Name: "cp-1", PeerURLs: []string{"https://" + f.peer}, ClientURLs: []string{"https://" + f.etcd}}}
	return f
}

func serverTLS(t *testing.T, certFile, keyFile string, clientCA *x509.Certificate) *tls.Config {
	t.Helper()
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{pair}}
	if clientCA != nil {
		pool := x509.NewCertPool()
		pool.AddCert(clientCA)
		cfg.ClientCAs, cfg.ClientAuth = pool, tls.RequireAndVerifyClientCert
	}
	return cfg
}

// serveTLS accepts TLS handshakes on addr until the test ends.
func serveTLS(t *testing.T, addr, certFile, keyFile string, clientCA *x509.Certificate) string {
	t.Helper()
	ln, err := tls.Listen("tcp", addr, serverTLS(t, certFile, keyFile, clientCA))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { _ = c.(*tls.Conn).Handshake(); c.Close() }()
		}
	}()
	return ln.Addr().String()
}

func cpNode(name, ip string) *corev1.Node {
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, UID: "uid-" + types.UID(name), Labels: map[string]string{ControlPlaneLabel: ""}},
		Status: corev1.NodeStatus{Addresses: []corev1.NodeAddress{{Type: corev1.NodeHostName, Address: name}, {Type: corev1.NodeInternalIP, Address: ip}}}}
}

// mirrorPod is the kubelet's mirror pod of component's static pod on
// nodeName (of cpNode's UID), with kubeadm's annotation key set to value.
func mirrorPod(component, nodeName, key, value string) *corev1.Pod {
	yes := true
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: component + "-" + nodeName, Namespace: "kube-system",
		Labels:          map[string]string{"component": component, "tier": "control-plane"},
		Annotations:     map[string]string{key: value, MirrorPodAnnotation: "0123abcd"},
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: nodeName, UID: "uid-" + types.UID(nodeName), Controller: &yes}}},
		Spec: corev1.PodSpec{NodeName: nodeName}}
}

func kubeadmConfig(body string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: config.ConfigMapName, Namespace: "kube-system"},
		Data: map[string]string{config.ConfigMapKey: "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\n" + body}}
}

var now = pkitest.Made.Add(24 * time.Hour)

func TestCheck(t *testing.T) {
	f := newFixture(t)
	// A second node whose apiserver serves cp-1's certificate: not valid for its address.
	wrongSANs := serveTLS(t, "127.0.0.2:0", f.node.Path("pki/apiserver.crt"), f.node.Path("pki/apiserver.key"), nil)
	down := refused.Addr(t)
	created := metav1.NewTime(now.Add(-30 * time.Minute))
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: copycerts.SecretName, Namespace: "kube-system", CreationTimestamp: created,
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "Secret", Name: "bootstrap-token-abcdef"}}},
		Data: map[string][]byte{"ca.crt": []byte("x"), "ca.key": []byte("x"), "etcd-ca.crt": []byte("x")}}
	token := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "bootstrap-token-abcdef", Namespace: "kube-system"},
		Data: map[string][]byte{"expiration": []byte(now.Add(90 * time.Minute).Format(time.RFC3339))}}

	tests := []struct {
		name       string
		objects    func() []runtime.Object
		noAPI      bool
		warnWithin time.Duration
		check      func(t *testing.T, info *Info)
		code       int
	}{{
		name: "healthy node, learned from the Node, its mirror pods and etcd",
		objects: func() []runtime.Object {
			return []runtime.Object{cpNode("cp-1", "127.0.0.1"), mirrorPod("kube-apiserver", "cp-1", APIServerEndpointAnnotation, f.apiserver),
				mirrorPod("etcd", "cp-1", EtcdClientURLsAnnotation, "https://"+f.etcd),
				kubeadmConfig("controlPlaneEndpoint: " + f.apiserver + "\n")}
		},
		check: func(t *testing.T, info *Info) {
			if len(info.Nodes) != 1 || info.Nodes[0].Name != "cp-1" {
				t.Fatalf("nodes %+v, want cp-1", info.Nodes)
			}
			n := info.Nodes[0]
			if got := strings.Join(n.Sources, ","); got != "node,kube-apiserver pod,etcd pod,etcd member" {
				t.Errorf("sources %q", got)
			}
			want := map[string]string{APIServer: f.apiserver, EtcdClient: f.etcd, EtcdPeer: f.peer}
			if len(n.Endpoints) != 3 {
				t.Fatalf("endpoints %+v, want 3", n.Endpoints)
			}
			for _, e := range n.Endpoints {
				if e.Address != want[e.Component] || !e.SignedByCA || !e.SANsMatch || len(e.Problems) != 0 || e.ExpiringSoon {
					t.Errorf("endpoint %+v, want %s at %s signed, SANs matching, no problem", e, e.Component, want[e.Component])
				}
				if e.ExpirationDate == nil || !e.ExpirationDate.Equal(pkitest.Made.Add(config.DefaultCertificateValidity)) {
					t.Errorf("%s expires %v", e.Component, e.ExpirationDate)
				}
			}
			if e := info.ControlPlaneEndpoint; e == nil || e.Address != f.apiserver || !e.SANsMatch {
				t.Errorf("controlPlaneEndpoint %+v", e)
			}
			if info.KubeadmCerts != nil || len(info.Warnings) != 0 {
				t.Errorf("kubeadm-certs %+v, warnings %q", info.KubeadmCerts, info.Warnings)
			}
		},
	}, {
		name: "SAN mismatch, certSAN missing, unreachable node, kubeadm-certs",
		objects: func() []runtime.Object {
			return []runtime.Object{cpNode("cp-1", "127.0.0.1"), cpNode("cp-2", "127.0.0.2"), cpNode("cp-3", "127.0.0.1"),
				mirrorPod("kube-apiserver", "cp-1", APIServerEndpointAnnotation, f.apiserver),
				mirrorPod("kube-apiserver", "cp-2", APIServerEndpointAnnotation, wrongSANs),
				mirrorPod("kube-apiserver", "cp-3", APIServerEndpointAnnotation, down),
				mirrorPod("etcd", "cp-1", EtcdClientURLsAnnotation, "https://"+f.etcd),
				kubeadmConfig("apiServer:\n  certSANs: [lb.example.com]\n"), secret, token}
		},
		code: exitcode.Problems,
		check: func(t *testing.T, info *Info) {
			if len(info.Nodes) != 3 {
				t.Fatalf("nodes %+v, want 3", info.Nodes)
			}
			types := map[string]string{}
			for _, n := range info.Nodes {
				for _, e := range n.Endpoints {
					var ts []string
					for _, p := range e.Problems {
						ts = append(ts, string(p.Type))
					}
					types[n.Name+" "+e.Component] = strings.Join(ts, ",")
				}
			}
			want := map[string]string{
				"cp-1 kube-apiserver": "san-mismatch", // lb.example.com
				"cp-1 etcd-client":    "", "cp-1 etcd-peer": "",
				"cp-2 kube-apiserver": "san-mismatch", // 127.0.0.2 and lb.example.com
				"cp-3 kube-apiserver": "unreachable",
			}
			if fmt.Sprint(types) != fmt.Sprint(want) {
				t.Errorf("problems %v, want %v", types, want)
			}
			p := info.Problems()
			if !strings.Contains(strings.Join(p, "\n"), "cp-2 kube-apiserver: kube-apiserver at "+wrongSANs+" serves a certificate without the SAN(s) 127.0.0.2, lb.example.com") {
				t.Errorf("problems do not name cp-2's missing SANs:\n%s", strings.Join(p, "\n"))
			}
			k := info.KubeadmCerts
			if k == nil || k.Owner != "Secret/bootstrap-token-abcdef" || k.AgeSeconds != 1800 || k.Expired ||
				k.ExpirationDate == nil || strings.Join(k.Files, ",") != "ca.crt,ca.key,etcd-ca.crt" {
				t.Errorf("kubeadm-certs %+v", k)
			}
		},
	}, {
		name: "expiring within --warn-within",
		objects: func() []runtime.Object {
			return []runtime.Object{cpNode("cp-1", "127.0.0.1"), mirrorPod("kube-apiserver", "cp-1", APIServerEndpointAnnotation, f.apiserver),
				mirrorPod("etcd", "cp-1", EtcdClientURLsAnnotation, "https://"+f.etcd)}
		},
		warnWithin: 400 * 24 * time.Hour,
		code:       exitcode.ExpiringSoon,
		check: func(t *testing.T, info *Info) {
			if soon := info.ExpiringSoon(); len(soon) != 3 {
				t.Errorf("expiring %q, want the 3 endpoints", soon)
			}
			if !strings.Contains(strings.Join(info.Warnings, "\n"), "kubeadm-config does not exist") {
				t.Errorf("warnings %q do not say kubeadm-config is missing", info.Warnings)
			}
		},
	}, {
		name:  "API server not reachable: the nodes come from etcd's member list",
		noAPI: true,
		code:  exitcode.Problems, // kube-apiserver, tried at 127.0.0.1:6443
		check: func(t *testing.T, info *Info) {
			if len(info.Nodes) != 1 || len(info.Nodes[0].Endpoints) != 3 || info.Nodes[0].Sources[0] != "etcd member" {
				t.Fatalf("nodes %+v, want cp-1 with its kube-apiserver and etcd endpoints, from etcd", info.Nodes)
			}
			if !strings.Contains(strings.Join(info.Warnings, "\n"), "the API server was not asked (connection refused)") {
				t.Errorf("warnings %q", info.Warnings)
			}
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := Options{CertDir: f.node.CertDir(), Now: now, WarnWithin: tt.warnWithin}
			if tt.noAPI {
				o.ClientError = errors.New("connection refused")
				o.EtcdEndpoints = []string{"https://" + f.etcd}
			} else {
				o.Client = fake.NewClientset(tt.objects()...)
				o.EtcdEndpoints = []string{"https://" + refused.Addr(t)} // only the learned URLs work
			}
			info, err := Check(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, info)
			for _, format := range []string{"text", "wide", "json", "yaml"} {
				var out bytes.Buffer
				err := Report(context.Background(), o, format, &out)
				if got := exitcode.Of(err); got != tt.code {
					t.Errorf("-o %s: exit %d (%v), want %d", format, got, err, tt.code)
				}
				// The problems are in the output's problems fields with
				// -o json and yaml, which list nothing "above".
				if err != nil && (format == "json" || format == "yaml") && strings.Contains(err.Error(), "listed above") {
					t.Errorf("-o %s: %v", format, err)
				}
				if format == "json" {
					var back Info
					if err := json.Unmarshal(out.Bytes(), &back); err != nil || back.Kind != Kind || back.APIVersion != expiration.APIVersion {
						t.Errorf("-o json: %v, kind %q", err, back.Kind)
					}
				}
			}
		})
	}
}

func TestCheckRefusesWithoutCA(t *testing.T) {
	_, err := Check(context.Background(), Options{CertDir: t.TempDir(), Now: now, Client: fake.NewClientset()})
	if err == nil || !strings.Contains(err.Error(), "point --cert-dir at the certificate folder") {
		t.Fatalf("error %v, want one naming --cert-dir", err)
	}
}
