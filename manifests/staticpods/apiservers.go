package staticpods

import (
	"cmp"
	"context"
	"crypto/tls"
	"fmt"
	"strings"
	"sync"
	"time"
)

// APIServerPeer is another control-plane node's kube-apiserver.
type APIServerPeer struct {
	Node    string // its node's name
	Address string // where it serves, host:port
}

// APIServers is how Restart makes sure, before it restarts this node's
// kube-apiserver, that another kube-apiserver stays ready: the Lease that
// serialises the restarts (phases/renew) keeps two nodes from restarting
// at once, not a node from restarting the last ready one. A renewal that
// leaves kube-apiserver unable to be ready (its etcd client certificate
// refused, a flag it no longer accepts) fails the restart on the first
// node, whose Lease then expires; without this check the next node took
// its own down too, and the last one locked the cluster out.
//
// Restart asks Others for the other nodes' kube-apiservers and GETs their
// /readyz (as readyz does: anonymously, then with this node's
// kube-apiserver client certificate). When none is ready, it checks again
// every Poll, for up to Wait by Options.Clock and Sleep, handing the Lease
// on while it waits (the node whose kube-apiserver is down may need it to
// restart that one); still none, it does not restart kube-apiserver and
// fails with one line naming the unready ones. One ready other is enough:
// asking for all of them would turn one node that is down for good (its
// mirror pod still listed) into every other node's restart owed until its
// certificates expire, and the Lease already keeps the restarts apart.
//
// Not gated, each said in one line on Options.Out:
//   - this node's kube-apiserver not ready now: restarting it takes no
//     ready kube-apiserver away, and may be what brings it back (a node
//     whose certificates expired);
//   - Others fails (the API server cannot be asked: not reachable, its
//     certificate expired) or lists none: the others cannot be asked, and
//     refusing would leave a cluster whose certificates all expired
//     without its fix.
type APIServers struct {
	// Others lists the other nodes' kube-apiservers.
	Others func(ctx context.Context) ([]APIServerPeer, error)
	// Wait bounds the wait for another kube-apiserver to be ready (the
	// Lease's wait in phases/renew); 0: checked once.
	Wait time.Duration
	// Poll is the time between two checks; 5 s when 0.
	Poll time.Duration
}

// check returns nil when this node's kube-apiserver, which serves at self
// (host:port; "" when unknown), may go down for the restart of component
// (kube-apiserver itself, or etcd, which it uses alone); else why not, as
// one line. client is presented to a kube-apiserver that refuses anonymous
// requests. onWait, when not nil, is called before each wait.
func (g *APIServers) check(ctx context.Context, component, self string, client *tls.Certificate, o Options, onWait func()) error {
	say := func(format string, args ...any) {
		fmt.Fprintf(o.Out, "[restart] "+component+": "+format+"\n", args...)
	}
	if self != "" {
		if why := readyz(ctx, self, client); why != "" && ctx.Err() == nil {
			say("this node's kube-apiserver %s is not ready (%s): not gated on the other kube-apiservers, as restarting it takes no ready one away, and may be what brings it back", self, why)
			return nil
		}
	}
	peers, err := g.Others(ctx)
	if ctx.Err() != nil {
		return fmt.Errorf("list the other kube-apiservers: %w", ctx.Err())
	}
	if err != nil {
		say("cannot list the other kube-apiservers (%v): not gated on them", err)
		return nil
	}
	var others []APIServerPeer
	for _, p := range peers {
		if p.Address != self {
			others = append(others, p)
		}
	}
	if len(others) == 0 {
		say("no other kube-apiserver is known: not gated on them")
		return nil
	}
	poll := cmp.Or(g.Poll, 5*time.Second)
	start := o.Clock()
	next := start
	for {
		whys := readyzAll(ctx, others, client)
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("check the other kube-apiservers: %w", err)
		}
		var ready, bad []string
		for i, p := range others {
			if whys[i] == "" {
				ready = append(ready, fmt.Sprintf("%s (%s)", p.Node, p.Address))
			} else {
				bad = append(bad, fmt.Sprintf("%s (%s: %s)", p.Node, p.Address, whys[i]))
			}
		}
		switch {
		case len(others) == 1 && len(ready) == 1:
			say("the other kube-apiserver, %s, is ready: it stays ready while this node's is down", ready[0])
			return nil
		case len(ready) > 0:
			say("%d of the other %d kube-apiservers %s ready (%s): one stays ready while this node's is down", len(ready), len(others), isAre(len(ready)), strings.Join(ready, ", "))
			return nil
		}
		waited := o.Clock().Sub(start)
		if waited >= g.Wait {
			return fmt.Errorf("not restarted, as no kube-apiserver would be ready: the other ones are not: %s (waited %s): bring one back, then run certctl again",
				strings.Join(bad, ", "), waited.Round(time.Second))
		}
		if now := o.Clock(); !now.Before(next) {
			say("waiting up to %s for another kube-apiserver to be ready: with this node's down none would be: %s", g.Wait, strings.Join(bad, ", "))
			next = now.Add(o.ProgressEvery)
		}
		if onWait != nil {
			onWait()
		}
		if err := o.Sleep(ctx, min(poll, g.Wait-waited)); err != nil {
			return fmt.Errorf("wait for another kube-apiserver to be ready: %w", err)
		}
	}
}

// readyzAll asks every peer's /readyz at once: peers that hang cost one
// timeout. It returns readyz's answer for each, "" when ready.
func readyzAll(ctx context.Context, peers []APIServerPeer, client *tls.Certificate) []string {
	out := make([]string, len(peers))
	var wg sync.WaitGroup
	for i, p := range peers {
		wg.Go(func() { out[i] = readyz(ctx, p.Address, client) })
	}
	wg.Wait()
	return out
}

func isAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}
