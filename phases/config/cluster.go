package config

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/certctl/certctl/internal/bounded"
)

// The ConfigMap in which kubeadm keeps the cluster's ClusterConfiguration
// (cmd/kubeadm/app/constants: KubeadmConfigConfigMap, ClusterConfigurationKey).
// kubeadm's own commands on an existing node read it there
// (configutil.FetchInitConfigurationFromCluster); most nodes have no
// kubeadm.yaml.
const (
	ConfigMapNamespace = "kube-system"
	ConfigMapName      = "kubeadm-config"
	ConfigMapKey       = "ClusterConfiguration"
)

// ConfigMapGetter is what FromConfigMap needs of a client:
// client.CoreV1().ConfigMaps("kube-system").
type ConfigMapGetter interface {
	Get(ctx context.Context, name string, opts metav1.GetOptions) (*corev1.ConfigMap, error)
}

// FromConfigMap reads the ClusterConfiguration (kubeadm.k8s.io/v1beta4 or
// v1beta3) of the kube-system/kubeadm-config ConfigMap on top of base, as
// Parse reads a file. The ConfigMap holds no InitConfiguration: the node's
// name and advertise address are left as base has them (see
// NodeFromCertificates).
func FromConfigMap(ctx context.Context, cms ConfigMapGetter, base Cluster) (*File, error) {
	where := "ConfigMap " + ConfigMapNamespace + "/" + ConfigMapName
	// bounded.Call: client-go runs a kubeconfig's exec credential plugin
	// without the request's context, so a plugin that hangs would hold
	// the read, and the command, past ClusterTimeout.
	cm, err := bounded.Call(ctx, func(ctx context.Context) (*corev1.ConfigMap, error) {
		return cms.Get(ctx, ConfigMapName, metav1.GetOptions{})
	})
	if apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("%s does not exist (not a kubeadm cluster, or kubeadm's upload-config phase was skipped): pass --config", where)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", where, err)
	}
	data, ok := cm.Data[ConfigMapKey]
	if !ok {
		return nil, fmt.Errorf("%s has no %s key: pass --config", where, ConfigMapKey)
	}
	f, err := Parse([]byte(data), base)
	if err != nil {
		return nil, fmt.Errorf("%s, key %s: %w: fix it with `kubectl -n %s edit configmap %s`, or pass --config", where, ConfigMapKey, err, ConfigMapNamespace, ConfigMapName)
	}
	return f, nil
}
