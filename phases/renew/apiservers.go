package renew

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/certctl/certctl/manifests/staticpods"
	"github.com/certctl/certctl/phases/clusterview"
	"github.com/certctl/certctl/pki"
)

// APIServers is staticpods.Options.APIServers for the restarts of node
// c.NodeName: before this node's kube-apiserver restarts, the other nodes'
// kube-apiservers are found from kubeadm's mirror pods in kube-system
// (label component=kube-apiserver, their advertise-address endpoint
// annotation, clusterview.MirrorPodEndpoints) with c.Client, the client
// RestartGates made for the Leases (it makes none of its own: one client a
// run), and their /readyz is asked, for up to wait (the Lease's wait). A
// mirror pod lingers while its node is down, so a node that is gone is
// seen as not ready, not forgotten. When the API server cannot be asked
// (no client, the list fails), the restart is not gated, as when the
// Lease cannot be had: a cluster whose certificates all expired is fixed
// by restarts that ask nothing.
func APIServers(c Coordination, wait time.Duration) *staticpods.APIServers {
	return &staticpods.APIServers{Wait: wait, Others: func(ctx context.Context) ([]staticpods.APIServerPeer, error) {
		if c.Client == nil {
			return nil, errors.New("no API client")
		}
		ctx, cancel := context.WithTimeout(ctx, callTimeout)
		defer cancel()
		pods, err := c.Client.CoreV1().Pods(metav1.NamespaceSystem).List(ctx, metav1.ListOptions{LabelSelector: "component=" + pki.KubeAPIServer + "," + clusterview.MirrorPodSelector})
		if err != nil {
			return nil, fmt.Errorf("list the kube-apiserver mirror pods in %s with %s: %w", metav1.NamespaceSystem, cmp.Or(c.source, "the API client"), err)
		}
		var peers []staticpods.APIServerPeer
		for i := range pods.Items {
			// The Nodes are not read: the pods' UIDs are not compared.
			e := clusterview.MirrorPodEndpoints(&pods.Items[i], nil)
			if e.APIServer == "" || c.NodeName != "" && e.Node == c.NodeName {
				continue
			}
			peers = append(peers, staticpods.APIServerPeer{Node: e.Node, Address: e.APIServer})
		}
		return peers, nil
	}}
}
