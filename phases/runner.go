// Package phases runs the steps of certctl's workflows ("certs/ca",
// "kubeconfig/admin", ...) over a concrete environment.
//
// Every selected phase runs twice: first in a check pass that reads and
// validates what is on disk and decides what it would do, writing nothing;
// then for real. So a bad input in the tenth phase is reported before the
// first one has written a file, and the number of keys to generate is known
// up front, which lets a KeyPool make them on every core while the phases
// sign in order.
package phases

import (
	"cmp"
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"maps"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/pki"
)

// Phase is one named step. Names are hierarchical by prefix: "certs/apiserver".
type Phase struct {
	Name string
	Run  func(ctx context.Context, env *Env) error
	// OwnErrors: the phase's errors say themselves what failed, and Run
	// returns them as they are instead of as "phase NAME: ...".
	OwnErrors bool
}

// Env is what phases work on. Tests build one with a fixed clock and a
// temporary directory.
type Env struct {
	Cluster       *config.Cluster
	KubeconfigDir string
	// UseCSR makes certificate phases write NAME.key and NAME.csr under CSRDir
	// for an external CA instead of certificates.
	UseCSR bool
	CSRDir string
	// ConfigFile is the run's --config ("" for none), which a printed
	// `certctl certs import` repeats (ImportCommand).
	ConfigFile string
	// Rerun are the flags a printed `certctl init-phase` command repeats so
	// that, run as printed, it makes what this run would: every settings
	// flag the run was given (--config, the folders, the SANs, ...). When
	// empty, the folders' flags (config.FolderFlags).
	Rerun string
	// Download are the flags a printed `certctl certs download` command
	// repeats, for a joining node that lacks the cluster's CAs: --config
	// and the folders the run was given. --config carries what download
	// needs besides the folders (etcd.external's files, the certificate
	// key, the discovery kubeconfig). When empty, the folders' flags.
	Download string
	// DryRun stops after the check pass: nothing is written.
	DryRun bool
	// OwnPlan is set by workflows whose phases report their plan
	// themselves (renewal's): Run then prints no list of planned files.
	OwnPlan bool
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Rand is the source of randomness for keys, serials and signatures.
	Rand io.Reader
	// Out receives progress lines.
	Out io.Writer

	checking bool
	start    time.Time
	planned  map[string]bool // files the check pass decided to create
	warned   map[string]bool // warnings already printed
	newKeys  int
	csrs     int // CSRs the real pass wrote or kept (writeCSR)
	keys     *pki.KeyPool
	// madeCAs holds the CA certificates made this run, by path: for an
	// existing CA key made in the check pass and written as they are in
	// the real pass.
	madeCAs map[string]*x509.Certificate
}

// CSRs is how many CSRs the real pass of a UseCSR run wrote or kept in
// CSRDir: none when the one phase it ran kept a kubeconfig that names its
// certificate files (kubelet.conf after the TLS bootstrap).
func (e *Env) CSRs() int { return e.csrs }

// Select returns the phases of group ("certs") named by name: "all" for
// every phase of the group, in order, or one phase's short name. An unknown
// name is an error that lists the valid ones.
func Select(all []Phase, group, name string) ([]Phase, error) {
	inGroup := slices.DeleteFunc(slices.Clone(all), func(p Phase) bool { return !strings.HasPrefix(p.Name, group+"/") })
	if name == "all" {
		return inGroup, nil
	}
	i := slices.IndexFunc(inGroup, func(p Phase) bool { return p.Name == group+"/"+name })
	if i < 0 {
		return nil, fmt.Errorf("unknown %s phase %q: valid phases are %s", group, name, strings.Join(Names(inGroup, group), ", "))
	}
	return []Phase{inGroup[i]}, nil
}

// Names lists "all" and the short names of the phases of group.
func Names(ps []Phase, group string) []string {
	names := []string{"all"}
	for _, p := range ps {
		if n, ok := strings.CutPrefix(p.Name, group+"/"); ok {
			names = append(names, n)
		}
	}
	return names
}

// Run runs the check pass over ps, then checks that the folders of the
// files it plans to write are writable (checkWritable), then (unless
// env.DryRun) runs the real pass. Errors of a phase are wrapped as
// "phase NAME: ...".
func Run(ctx context.Context, env *Env, ps []Phase) error {
	if env.Now == nil {
		env.Now = time.Now
	}
	env.Out = cmp.Or(env.Out, io.Discard)
	if env.UseCSR {
		if err := CheckCSRDir(env.CSRDir, env.Cluster.CertificatesDir, env.KubeconfigDir); err != nil {
			return err
		}
	}
	env.start = env.Now().UTC()
	env.planned = map[string]bool{}
	env.madeCAs = map[string]*x509.Certificate{}
	env.warned = map[string]bool{}
	env.newKeys = 0

	env.checking = true
	for _, p := range ps {
		if err := p.run(ctx, env); err != nil {
			return err
		}
	}
	env.checking = false
	paths := slices.Sorted(maps.Keys(env.planned))
	if env.DryRun && !env.OwnPlan {
		fmt.Fprintf(env.Out, "[dry-run] %d file(s) would be written:\n", len(paths))
		for _, p := range paths {
			fmt.Fprintf(env.Out, "[dry-run]   %s\n", p)
		}
	}
	if err := checkWritable(paths); err != nil {
		return err
	}
	if env.DryRun {
		return nil
	}

	alg, err := pki.ParseKeyAlgorithm(env.Cluster.EncryptionAlgorithm)
	if err != nil {
		return err
	}
	folders := missingFolders(paths)
	env.keys = pki.NewKeyPool(env.Rand, alg, env.newKeys, runtime.GOMAXPROCS(0))
	defer env.keys.Close()
	for _, p := range ps {
		if err := ctx.Err(); err != nil {
			return rollBack(paths, folders, err)
		}
		if err := p.run(ctx, env); err != nil {
			if ctx.Err() != nil {
				return rollBack(paths, folders, err)
			}
			return err
		}
	}
	return nil
}

func (p Phase) run(ctx context.Context, env *Env) error {
	err := p.Run(ctx, env)
	if err == nil || p.OwnErrors {
		return err
	}
	return fmt.Errorf("phase %s: %w", p.Name, err)
}

// Checking reports whether the phases run in the check pass, where they
// read, validate and plan, and write nothing.
func (env *Env) Checking() bool { return env.checking }

// planCreate records, in the check pass, that path will be created and that
// creating it takes a new key.
func (env *Env) planCreate(path string, needsKey bool) {
	env.planned[path] = true
	if needsKey {
		env.newKeys++
	}
}

// willExist reports whether path exists now or the check pass planned it.
func (env *Env) willExist(path string) (bool, error) {
	if env.planned[path] {
		return true, nil
	}
	return pki.Exists(path)
}

// logf prints a progress line in the real pass only.
func (env *Env) logf(format string, args ...any) {
	if !env.checking {
		fmt.Fprintf(env.Out, format+"\n", args...)
	}
}

// warnf prints a warning once, in whichever pass first sees it: the check
// pass for what is on disk, the real pass for what only it can know (for
// example the validity of a leaf signed by a CA made in the same run).
func (env *Env) warnf(format string, args ...any) {
	msg := fmt.Sprintf("[warning] "+format, args...)
	if env.warned[msg] {
		return
	}
	env.warned[msg] = true
	fmt.Fprintln(env.Out, msg)
}
