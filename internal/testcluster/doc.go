// Package testcluster runs a real Kubernetes control plane — etcd, kube-apiserver,
// kube-controller-manager and, with several nodes, kube-scheduler — on a PKI and kubeconfigs
// written by certctl itself, for the end-to-end tests and for `make cluster-up`.
//
// In a test:
//
//	c := testcluster.Start(t, testcluster.Options{})
//	cs, err := c.AdminClient()
//
// Start writes the PKI with `certctl init-phase certs all` and the kubeconfigs with
// `certctl init-phase kubeconfig all` into t.TempDir(), starts the components on free 127.0.0.1
// ports, waits until each is healthy, binds the group kubeadm:cluster-admins to cluster-admin as
// `kubeadm init` does, and registers a cleanup that stops every process it started (SIGTERM, then
// SIGKILL after Options.StopGrace) and prints the last lines of each component's log if the test
// failed. Children are started with Pdeathsig=SIGKILL, so none outlives the test process.
//
// Several control-plane nodes: StartHA(t, Options{Nodes: 3}) (or NewHA) runs nodes cp-1..cp-N on
// 127.0.0.1..N, each a Cluster with its own folder DIR/cp-I and certctl PKI, one etcd cluster,
// and kube-controller-manager and kube-scheduler with leader election (see HA).
//
// Static pods: c.StartKubelet(ctx) (h.StartKubelets on every node) writes kubeadm-shaped
// manifests into DIR/etc/kubernetes/manifests (WriteManifests) and from then on runs the
// components as they say, like the kubelet: a manifest whose pod changes restarts that component
// with the manifest's flags; a malformed one is reported and changes nothing; a crashed component
// is started again (see Kubelet). c.SetStartFlags(name, flags...) adds flags to a component's
// later starts without touching its manifest, for a component that must fail to come back from
// a restart certctl makes.
//
// Counting failed requests: StartTraffic(ctx, nodes, TrafficOptions{}) sends, every 50 ms to
// every node, requests of four kinds of client that trust what certctl distributes (admin.conf,
// a service-account token with the published root CA, the front-proxy client certificate, etcd's
// apiserver-etcd-client), each reading its credentials anew; Stop returns a Report of ok, failed
// and unavailable requests per kind and node (see StartTraffic and TrafficOptions.ReadyOnly).
//
// Outside tests, New, (*Cluster).Start and (*Cluster).Stop do the same work without a *testing.T;
// with Options.Detached the components outlive the program and are stopped later by the PIDs that
// State records (see test/cmd/testcluster).
//
// The folder layout mirrors a kubeadm node, rooted at Options.Dir:
//
//	DIR/etc/kubernetes/{admin,super-admin,controller-manager,scheduler,kubelet}.conf
//	DIR/etc/kubernetes/pki/...            certctl's PKI (ca.crt, apiserver.crt, etcd/ca.crt, sa.key, ...)
//	DIR/etc/kubernetes/manifests/*.yaml   static pod manifests (WriteManifests, StartKubelet)
//	DIR/logs/COMPONENT.log                each component's stdout and stderr, appended across restarts
//	DIR/logs/certctl.log                  what certctl printed
//	DIR/var/lib/etcd                      etcd's data
//	DIR/var/run/COMPONENT                 --cert-dir of kube-apiserver and kube-controller-manager
//
// so that `kubeadm --rootfs DIR certs check-expiration` reads the tree where it expects it.
//
// The binaries come from Options.BinDir, else $KUBE_BIN_DIR, else REPO/_output/bin/v1.37.1
// (`make kube-binaries`); certctl from Options.Certctl, else $CERTCTL_BIN, else it is built once per
// process with `go build ./cmd/certctl`.
package testcluster
