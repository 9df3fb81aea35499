package cmd

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/certctl/certctl/internal/lock"
	"github.com/certctl/certctl/renewal"
	"github.com/certctl/certctl/staticpods"
)

// restartOptions are --restart-control-plane and its flags, for the
// commands that replace certificates (renew, restore).
type restartOptions struct {
	enabled     bool
	manifestDir string
	timeout     time.Duration

	set *staticpods.Set // loaded by load, before anything is written
}

func (r *restartOptions) addTo(fs *pflag.FlagSet) {
	fs.BoolVar(&r.enabled, "restart-control-plane", false, "make the kubelet restart the static pods that read the replaced files (an annotation in their manifests), then check that each serves its new certificate")
	fs.StringVar(&r.manifestDir, "manifest-dir", staticpods.DefaultManifestDir, "folder of the static pod manifests (the kubelet's staticPodPath), with --restart-control-plane")
	fs.DurationVar(&r.timeout, "restart-timeout", staticpods.DefaultTimeout, "how long to wait for each restarted component to serve its new certificate, with --restart-control-plane")
}

// validate rejects the restart flags without --restart-control-plane,
// where they would do nothing.
func (r *restartOptions) validate(cmd *cobra.Command) error {
	for _, f := range []string{"manifest-dir", "restart-timeout"} {
		if cmd.Flags().Changed(f) && !r.enabled {
			return fmt.Errorf("--%s does nothing without --restart-control-plane: add it, or drop --%s", f, f)
		}
	}
	if r.timeout <= 0 {
		return fmt.Errorf("--restart-timeout %v must be positive", r.timeout)
	}
	return nil
}

// load reads the manifests, so that a wrong --manifest-dir or a manifest
// certctl cannot read fails the run before anything is written.
func (r *restartOptions) load(warn io.Writer) error {
	if !r.enabled {
		return nil
	}
	set, err := staticpods.Load(r.manifestDir)
	if err != nil {
		return err
	}
	for _, w := range set.Warnings {
		fmt.Fprintf(warn, "[warning] %s\n", w)
	}
	r.set = set
	return nil
}

// restart restarts the components that read the changed files. want lists
// the components that renewal says read them (renewal.Result.Restarts):
// one of those without a manifest in the folder (run another way) is
// reported, for the user to restart. One whose manifest does not name the
// files does not read them (etcd and etcd-healthcheck-client, which only
// old kubeadm's exec probe used) and needs no restart.
func (r *restartOptions) restart(ctx context.Context, out io.Writer, changed []string, want []renewal.Restart) ([]staticpods.Result, []string, error) {
	affected := r.set.Affected(changed)
	var warnings []string
	for _, w := range want {
		if !slices.ContainsFunc(r.set.Manifests, func(m *staticpods.Manifest) bool { return m.Component == w.Component }) {
			msg := fmt.Sprintf("%s uses %s, but %s has no manifest of it: restart it yourself", w.Component, strings.Join(w.Names, ", "), r.manifestDir)
			warnings = append(warnings, msg)
			fmt.Fprintf(out, "[warning] %s\n", msg)
		}
	}
	if len(affected) == 0 {
		fmt.Fprintf(out, "[restart] Nothing to restart: no static pod manifest in %s names the replaced files\n", r.manifestDir)
		return []staticpods.Result{}, warnings, nil
	}
	results, err := staticpods.Restart(ctx, affected, staticpods.Options{Timeout: r.timeout, Now: time.Now, Out: out})
	return results, warnings, err
}

// lock takes certctl's lock beside the manifest folder, which signer
// enable and disable take to edit kube-controller-manager's manifest, when
// it is not the one beside certDir that the caller holds already (a second
// flock of the same file by this process would wait for the first). In
// kubeadm's layout both are /etc/kubernetes/.certctl.lock.
func (r *restartOptions) lock(ctx context.Context, certDir string, wait time.Duration) (release func(), err error) {
	if !r.enabled {
		return func() {}, nil
	}
	a, err := lock.Beside(certDir)
	if err != nil {
		return nil, err
	}
	b, err := lock.Beside(r.manifestDir)
	if err != nil {
		return nil, err
	}
	if a == b {
		return func() {}, nil
	}
	l, err := acquire(ctx, r.manifestDir, wait)
	if err != nil {
		return nil, err
	}
	return func() { l.Release() }, nil
}
