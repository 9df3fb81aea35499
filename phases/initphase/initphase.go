// Package initphase is `certctl init-phase certs|kubeconfig` (and `certs
// generate-csr`): which phases run, and how they touch the node's folders.
package initphase

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/certctl/certctl/phases"
	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/phases/external"
	"github.com/certctl/certctl/phases/node"
	"github.com/certctl/certctl/pki"
)

// Select selects the phases of `certctl init-phase GROUP NAME` (GROUP
// "certs" or "kubeconfig") for cluster's node settings: it refuses what
// useCSR cannot make and a certificate an external etcd does not use, and
// leaves out what a joining node does not make.
func Select(cluster *config.Cluster, settings pki.Node, group, name string, useCSR bool) ([]phases.Phase, error) {
	e, known := pki.Kubeadm().Find(name)
	if group != "kubeconfig" && known && cluster.ExternalEtcd && e.LocalEtcd {
		return nil, fmt.Errorf("the configuration uses an external etcd (etcd.external), for which kubeadm makes no %q: drop it, or use a configuration with a local etcd", name)
	}
	selected, err := phases.Select(allPhases(settings), group, name)
	switch {
	case err != nil:
		return nil, err
	case group == "kubeconfig" && cluster.Joining && name == "all":
		// As kubeadm join --control-plane: no super-admin.conf, no kubelet.conf.
		selected = slices.DeleteFunc(selected, func(p phases.Phase) bool { return !joinKubeconfigs[p.Name] })
	case group != "kubeconfig" && useCSR && name != "all" && (e.Kind == pki.KindCA || e.Kind == pki.KindKeyPair):
		return nil, fmt.Errorf("%q cannot be produced as a CSR: a CA (or the sa key pair) is made by you or your external CA; drop --use-csr to make it here", name)
	}
	return selected, nil
}

// allPhases are the certs and then the kubeconfig phases for settings.
func allPhases(settings pki.Node) []phases.Phase {
	inv := pki.Kubeadm()
	return append(phases.CertPhases(inv.Certificates(settings)), phases.KubeconfigPhases(inv.Kubeconfigs(settings))...)
}

// joinKubeconfigs are the kubeconfig files `kubeadm join --control-plane`
// writes (CreateJoinControlPlaneKubeConfigFiles in kubeadm v1.37):
// super-admin.conf is the first node's alone, and the kubelet makes its
// own kubelet.conf by TLS bootstrap.
var joinKubeconfigs = map[string]bool{"kubeconfig/admin": true, "kubeconfig/controller-manager": true, "kubeconfig/scheduler": true}

// Options configure Run.
type Options struct {
	Group         string // "certs" or "kubeconfig": the tag of the first line
	KubeconfigDir string // for kubeconfig phases, recovery, and the import command of UseCSR
	DryRun        bool
	// UseCSR writes keys and CSRs under CSRDir for an external CA instead
	// of certificates, then says how to import what the CA signs.
	UseCSR bool
	CSRDir string
	// ConfigFile is the --config the settings were read from ("" for
	// none), which the import command of UseCSR repeats.
	ConfigFile string
	// Rerun are the settings flags of the run, which the certctl
	// init-phase commands it prints repeat (phases.Env.Rerun).
	Rerun string
	// Download are the flags of the `certctl certs download` command it
	// prints on a joining node that lacks the CAs (phases.Env.Download).
	Download    string
	LockTimeout time.Duration
	Now         func() time.Time
	Rand        io.Reader
	Out, ErrOut io.Writer
}

// MakesNoCA reports whether the phases o selects make no CA: those of
// kubeconfig, or any with UseCSR (a CA's phase is then skipped).
func (o Options) MakesNoCA() bool { return o.Group == "kubeconfig" || o.UseCSR }

// Run runs the selected phases of `certctl init-phase` for cluster: as a
// dry run, or under certctl's lock on the certificate folder after
// recovering an interrupted renewal or write there and in the kubeconfig
// folder (KubeconfigDir, when set). With UseCSR the phases write under the
// CSR folder only, so it neither locks nor recovers the node's folders,
// whose files it does not write, and whose parent it must not touch; it
// ends, as renew --use-csr does, with the exact command that installs what
// the CA signs.
func Run(ctx context.Context, cluster *config.Cluster, selected []phases.Phase, o Options) error {
	env := &phases.Env{Cluster: cluster, KubeconfigDir: o.KubeconfigDir, UseCSR: o.UseCSR, CSRDir: o.CSRDir, ConfigFile: o.ConfigFile, Rerun: o.Rerun, Download: o.Download, DryRun: o.DryRun, Now: o.Now, Rand: o.Rand}
	dir, kubeconfigDirs := cluster.CertificatesDir, []string(nil)
	// The kubeconfig folder is in the recovery's scope for the certs phases
	// too: a renew killed after its commit leaves a transaction naming
	// admin.conf, which only finishing it (not moving it away) repairs.
	if o.KubeconfigDir != "" {
		kubeconfigDirs = []string{o.KubeconfigDir}
	}
	header := fmt.Sprintf("[certs] Using certificateDir folder %q\n", dir)
	switch {
	case o.UseCSR:
		dir, kubeconfigDirs = o.CSRDir, nil
		header = fmt.Sprintf("[%s] Writing keys and CSRs to %q\n", o.Group, o.CSRDir)
	case o.Group == "kubeconfig":
		header = fmt.Sprintf("[kubeconfig] Using kubeconfig folder %q\n", o.KubeconfigDir)
	}
	run := func(out io.Writer) error {
		fmt.Fprint(out, header)
		env.Out = out
		return phases.Run(ctx, env, selected)
	}
	if o.DryRun {
		return node.DryRun(ctx, o.ErrOut, o.Out, dir, kubeconfigDirs, !o.UseCSR, run)
	}
	var release func()
	var err error
	if o.UseCSR {
		// Not for a folder the phases refuse: no lock file beside it.
		if err := phases.CheckCSRDir(o.CSRDir, cluster.CertificatesDir, o.KubeconfigDir); err != nil {
			return err
		}
		release, err = node.LockCSR(ctx, o.ErrOut, dir, o.LockTimeout, "")
	} else {
		release, err = node.Lock(ctx, o.ErrOut, dir, o.LockTimeout, kubeconfigDirs...)
	}
	if err != nil {
		return err
	}
	err = run(o.Out)
	release()
	if err != nil || !o.UseCSR {
		return err
	}
	if env.CSRs() == 0 {
		// kubelet.conf kept as it names its files: nothing to hand the CA operator.
		fmt.Fprintln(o.Out, "\nNo CSR was written.")
		return nil
	}
	external.WriteNextStep(o.Out, phases.ImportCommand(o.CSRDir, o.ConfigFile, cluster.CertificatesDir, cmp.Or(o.KubeconfigDir, config.DefaultKubeconfigDir)))
	return nil
}

// Main is `certctl init-phase GROUP NAME` (o.Group): it refuses --use-csr
// without --csr-dir and the reverse and an unknown name, then reads the
// node's settings with load, selects the phases (Select) and runs them (Run).
func Main(ctx context.Context, load func() (*config.Cluster, error), name string, o Options) error {
	if o.UseCSR && o.CSRDir == "" {
		return fmt.Errorf("--use-csr needs --csr-dir: the folder to write keys and CSRs to")
	}
	if !o.UseCSR && o.CSRDir != "" {
		return fmt.Errorf("--csr-dir is only used with --use-csr")
	}
	// A name no node has is refused before the settings are read, which
	// can wait for an API server.
	if _, err := phases.Select(allPhases(pki.Node{}), o.Group, name); err != nil {
		return err
	}
	return loadAndRun(ctx, load, o, func(cluster *config.Cluster, settings pki.Node) ([]phases.Phase, error) {
		return Select(cluster, settings, o.Group, name, o.UseCSR)
	})
}

// GenerateCSR is `certctl certs generate-csr`, kubeadm's spelling of
// `init-phase certs all --use-csr` and `init-phase kubeconfig all
// --use-csr` in one run: keys and CSRs for the phases the two select
// (Select), into o.CSRDir, which it requires.
func GenerateCSR(ctx context.Context, load func() (*config.Cluster, error), o Options) error {
	if o.CSRDir == "" {
		return fmt.Errorf("--csr-dir is required: the folder to write keys and CSRs to")
	}
	o.UseCSR = true
	return loadAndRun(ctx, load, o, func(cluster *config.Cluster, settings pki.Node) ([]phases.Phase, error) {
		var all []phases.Phase
		for _, group := range []string{"certs", "kubeconfig"} {
			ps, err := Select(cluster, settings, group, "all", true)
			if err != nil {
				return nil, err
			}
			all = append(all, ps...)
		}
		return all, nil
	})
}

// loadAndRun reads the node's settings with load and runs the phases pick
// chooses for them.
func loadAndRun(ctx context.Context, load func() (*config.Cluster, error), o Options, pick func(*config.Cluster, pki.Node) ([]phases.Phase, error)) error {
	cluster, err := load()
	if err != nil {
		return err
	}
	settings, err := cluster.Node()
	if err != nil {
		return err
	}
	selected, err := pick(cluster, settings)
	if err != nil {
		return err
	}
	return Run(ctx, cluster, selected, o)
}

// Names are the phase names of group ("certs" or "kubeconfig"), "all"
// first, without reading any configuration: they do not depend on it.
func Names(group string) []string {
	return phases.Names(allPhases(pki.Node{}), group)
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
