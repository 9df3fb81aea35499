// Package initphase is `certctl init-phase certs|kubeconfig` (and `certs
// generate-csr`): which phases run, and how they touch the node's folders.
package initphase

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/certctl/certctl/phases"
	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/phases/node"
	"github.com/certctl/certctl/pki"
)

// Select selects the phases of `certctl init-phase GROUP NAME` (GROUP
// "certs" or "kubeconfig") for cluster's node settings: it refuses what
// useCSR cannot make, warns on warn about a certificate an external etcd
// does not use, and leaves out what a joining node does not make.
func Select(cluster *config.Cluster, settings pki.Node, group, name string, useCSR bool, warn io.Writer) ([]phases.Phase, error) {
	inv := pki.Kubeadm()
	if group == "kubeconfig" {
		selected, err := phases.Select(phases.KubeconfigPhases(inv.Kubeconfigs(settings)), group, name)
		if err == nil && cluster.Joining && name == "all" {
			// As kubeadm join --control-plane: no super-admin.conf, no kubelet.conf.
			selected = phases.JoinKubeconfigs(selected)
		}
		return selected, err
	}
	selected, err := phases.Select(phases.CertPhases(inv.Certificates(settings)), group, name)
	if err != nil {
		return nil, err
	}
	e, _ := inv.Find(name)
	if useCSR && name != "all" && (e.Kind == pki.KindCA || e.Kind == pki.KindKeyPair) {
		return nil, fmt.Errorf("%q cannot be produced as a CSR: a CA (or the sa key pair) is made by you or your external CA; drop --use-csr to make it here", name)
	}
	if cluster.ExternalEtcd && name != "all" && e.LocalEtcd {
		fmt.Fprintf(warn, "[warning] the configuration uses an external etcd: kubeadm makes no %q certificate for it\n", name)
	}
	return selected, nil
}

// Options configure Run.
type Options struct {
	Group       string // "certs" or "kubeconfig": the tag of the first line
	LockTimeout time.Duration
	Out, ErrOut io.Writer
}

// Run runs the selected phases of `certctl init-phase` with env: as a dry
// run (env.DryRun), or under certctl's lock on the certificate folder after
// recovering an interrupted renewal or write there (and in the kubeconfig
// folder for kubeconfig phases). With env.UseCSR the phases write under
// the CSR folder only, so it neither locks nor recovers the node's
// folders, whose files it does not write, and whose parent it must not
// touch.
func Run(ctx context.Context, env *phases.Env, selected []phases.Phase, o Options) error {
	a := node.Access{Dir: env.Cluster.CertificatesDir, Recovers: true, DryRun: env.DryRun, LockTimeout: o.LockTimeout, Out: o.Out, ErrOut: o.ErrOut}
	header := fmt.Sprintf("[certs] Using certificateDir folder %q\n", a.Dir)
	switch {
	case env.UseCSR:
		a.Dir, a.Recovers = env.CSRDir, false
		header = fmt.Sprintf("[%s] Writing keys and CSRs to %q\n", o.Group, env.CSRDir)
	case o.Group == "kubeconfig":
		a.KubeconfigDirs = []string{env.KubeconfigDir}
		header = fmt.Sprintf("[kubeconfig] Using kubeconfig folder %q\n", env.KubeconfigDir)
	}
	return a.Run(ctx, func(out io.Writer) error {
		fmt.Fprint(out, header)
		env.Out = out
		return phases.Run(ctx, env, selected)
	})
}

// Names are the phase names of group ("certs" or "kubeconfig"), "all"
// first, without reading any configuration: they do not depend on it.
func Names(group string) []string {
	inv := pki.Kubeadm()
	if group == "kubeconfig" {
		return phases.Names(phases.KubeconfigPhases(inv.Kubeconfigs(pki.Node{})), group)
	}
	return phases.Names(phases.CertPhases(inv.Certificates(pki.Node{})), group)
}

// KubeconfigHelp lists each kubeconfig file with its subject and the
// server it points at, for the help of `init-phase kubeconfig`.
func KubeconfigHelp() string {
	var b strings.Builder
	for _, e := range pki.Kubeadm().Select(false, pki.KindKubeconfig) {
		subject := e.CommonName
		if e.NodeCN {
			subject += "NODE"
		}
		if len(e.Organization) > 0 {
			subject += ", O=" + strings.Join(e.Organization, ", O=")
		}
		server := "local API endpoint"
		if e.ControlPlaneServer {
			server = "control-plane endpoint"
		}
		fmt.Fprintf(&b, "  %-25s%-44s%s\n", e.BaseName, subject, server)
	}
	return b.String()
}
