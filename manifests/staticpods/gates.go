package staticpods

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/certctl/certctl/pki"
)

// restartGated makes, holding the restart Lease of a (release hands it
// on), the checks on the cluster before a's manifest changes, and returns
// how to hand the Lease on once a has restarted (gated): for etcd, that
// the other members keep a quorum without this node's (EtcdQuorum), then,
// on a node with a kube-apiserver, which uses this member alone and is
// down while it restarts, that another kube-apiserver is ready
// (APIServers); for kube-apiserver, the latter. Other components, and
// without the checks' options, pass.
func restartGated(ctx context.Context, a Affected, o Options, release func(bool)) (func(bool), error) {
	var checks []func(wait bool, onWait func()) error
	down := a.Component
	if a.Component == pki.Etcd && o.EtcdQuorum != nil {
		local := ""
		if addr := etcdAddress(a.flag("listen-client-urls", defaultEtcdClientURLs)); addr != "" {
			local = "https://" + addr
		}
		down = "member"
		checks = append(checks, func(wait bool, onWait func()) error {
			q := *o.EtcdQuorum
			if !wait {
				q.Wait = 0
			}
			q.onWait = onWait
			return q.check(ctx, local, o)
		})
	}
	if o.APIServers != nil && (a.Component == pki.KubeAPIServer || a.Component == pki.Etcd && o.APIServer != "") {
		if a.Component == pki.Etcd {
			down = "etcd member or kube-apiserver"
		}
		client := apiServerClient(filepath.Dir(a.Path))
		checks = append(checks, func(wait bool, onWait func()) error {
			g := *o.APIServers
			if !wait {
				g.Wait = 0
			}
			return g.check(ctx, a.Component, o.APIServer, client, o, onWait)
		})
	}
	if len(checks) == 0 {
		return release, nil
	}
	return gated(ctx, a.Component, down, o, release, func(wait bool, onWait func()) error {
		for _, c := range checks {
			if err := c(wait, onWait); err != nil {
				return err
			}
		}
		return nil
	})
}

// gated runs check, holding the restart Lease of component (release hands
// it on), before component's manifest changes, and returns how to hand the
// Lease on once the component has restarted. While check waits, it hands
// the Lease on: the node whose etcd member or kube-apiserver is down may
// be the one that must take it, to restart that one (its restart was
// owed), and would otherwise wait for this one's wait to end. Once check
// has what it waited for, it takes the Lease again and checks once more
// without waiting, as another node may have restarted its own meanwhile.
// On an error the Lease is handed on.
// down names what is down on the node the Lease is handed on for.
func gated(ctx context.Context, component, down string, o Options, release func(bool), check func(wait bool, onWait func()) error) (func(bool), error) {
	handedOn := false
	var onWait func()
	if o.Coordinate != nil {
		onWait = func() {
			if handedOn {
				return
			}
			release(true) // nothing was restarted: the next node may go on
			handedOn = true
			fmt.Fprintf(o.Out, "[restart] %s: the restart Lease is handed on while this node waits, so that the node whose %s is down can restart it; it is taken again before %s restarts\n", component, down, component)
		}
	}
	if err := check(true, onWait); err != nil {
		if !handedOn {
			release(true)
		}
		return nil, err
	}
	if !handedOn {
		return release, nil
	}
	again, err := o.Coordinate(ctx, component)
	if err != nil {
		return nil, err
	}
	if err := check(false, nil); err != nil {
		again(true)
		return nil, err
	}
	return again, nil
}
