package config

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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
	cm, err := getWithin(ctx, cms)
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

// getWithin is cms.Get of the ConfigMap that returns once ctx is done,
// whether the Get has returned or not: client-go runs a kubeconfig's exec
// credential plugin without the request's context
// (plugin/pkg/client/auth/exec: exec.Command, in RoundTrip), so a plugin
// that hangs would hold the read, and the command, past ClusterTimeout.
// The Get left behind ends when the plugin does.
func getWithin(ctx context.Context, cms ConfigMapGetter) (*corev1.ConfigMap, error) {
	type result struct {
		cm  *corev1.ConfigMap
		err error
	}
	done := make(chan result, 1) // the Get left behind does not block
	go func() {
		cm, err := cms.Get(ctx, ConfigMapName, metav1.GetOptions{})
		done <- result{cm, err}
	}()
	select {
	case r := <-done:
		return r.cm, r.err
	case <-ctx.Done():
		return nil, fmt.Errorf("no answer (the API server, or the kubeconfig's exec credential plugin): %w", context.Cause(ctx))
	}
}
