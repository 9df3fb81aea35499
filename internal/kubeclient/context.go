package kubeclient

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"k8s.io/client-go/tools/clientcmd"
)

// KubeconfigHelp is the help of every command's --kubeconfig: without it,
// the kubeconfig is found as New finds it (the package comment); nodeDir
// for a command with a node's kubeconfig folder (--kubeconfig-dir), whose
// admin.conf comes first.
func KubeconfigHelp(nodeDir bool) string {
	def := "$KUBECONFIG, then ~/.kube/config, then the pod's service account"
	if nodeDir {
		def = "admin.conf in --kubeconfig-dir, then " + def
	}
	return "kubeconfig of the API server (default: " + def + `; docs/renew.md, "Which kubeconfig")`
}

// ContextHelp is the help of every command's --context.
const ContextHelp = "context of the kubeconfig to use, as kubectl's --context (default: its current-context); it picks among the contexts of the kubeconfig found as --kubeconfig's default says, never another file (docs/renew.md)"

// ErrUnknownContext is the error of a --context the kubeconfig lacks: a
// mistake on the command line, never an API server down, so a command
// stops on it rather than going on without the cluster.
var ErrUnknownContext = errors.New("unknown context")

// unknownContextError is ErrUnknownContext with its message.
type unknownContextError struct{ msg string }

func (e *unknownContextError) Error() string        { return e.msg }
func (e *unknownContextError) Is(target error) bool { return target == ErrUnknownContext }

// FlagError says that the command line is wrong, to phases/config's
// resolver, which then stops rather than go on without the cluster's
// settings.
func (e *unknownContextError) FlagError() bool { return true }

// checkContext refuses a --context that the kubeconfig found (source)
// does not have, listing the ones it has, before client-go's "context was
// not found for specified context: NAME", which names neither. "" (the
// current-context) is left to the loading.
//
// --context picks among the contexts of the kubeconfig found as the
// package comment says, KUBECONFIG-DIR/admin.conf included: it never
// makes certctl look further (kubectl's --context never changes which
// file is read either), so a context that admin.conf lacks is an error
// saying to pass --kubeconfig, not a silent switch from the node's cluster
// to another one of $KUBECONFIG.
func checkContext(loader clientcmd.ClientConfig, source, context string) error {
	if context == "" {
		return nil
	}
	raw, err := loader.RawConfig()
	if err != nil {
		return fmt.Errorf("load %s: %w: pass --kubeconfig a readable kubeconfig of the cluster (on a control-plane node, %s)", source, err, nodeAdmin)
	}
	if _, ok := raw.Contexts[context]; ok {
		return nil
	}
	has := "it has none"
	if len(raw.Contexts) > 0 {
		has = "its contexts: " + strings.Join(slices.Sorted(maps.Keys(raw.Contexts)), ", ")
	}
	return &unknownContextError{fmt.Sprintf("%s has no context %q (%s): pass --context one of them, or --kubeconfig the kubeconfig that has it", source, context, has)}
}
