package carotate

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/certctl/certctl/manifests/staticpods"
	"github.com/certctl/certctl/phases"
	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/phases/copycerts"
	"github.com/certctl/certctl/phases/node"
	"github.com/certctl/certctl/phases/renew"
	"github.com/certctl/certctl/pki"
)

var timeZero time.Time

// DefaultMaxTokenLifetime is how long finish waits, for sa, after the new
// key started signing: the kubelet asks for 1-hour tokens for the projected
// volumes of pods (expirationSeconds' default) and replaces each once 80%
// of that has passed, so after an hour every pod holds a token of the new
// key. kube-apiserver's --service-account-extend-token-expiration (on by
// default) makes those tokens valid for a year, for clients that never
// re-read the file: docs/ca-rotation.md says how to find them.
const DefaultMaxTokenLifetime = time.Hour

// Options configure Rotate. CertDir, KubeconfigDir and Rand are required.
type Options struct {
	CertDir, KubeconfigDir string
	// ManifestDir is the kubelet's static pod folder: kube-controller-
	// manager's signing flags are edited there (ca), and components are
	// restarted from there (Restart).
	ManifestDir  string
	ExternalEtcd bool

	// KeyAlgorithm of the new CA's key (sa: of the new key); the old
	// one's when empty. CAValidity of the new CA;
	// config.DefaultCACertificateValidity when zero.
	KeyAlgorithm pki.KeyAlgorithm
	CAValidity   time.Duration
	// Validity and KeepValidity of the re-issued certificates, as renew's
	// (renewal.Options).
	Validity     time.Duration
	KeepValidity bool

	// NewCACert and NewCAKey give the new CA instead of generating one
	// (an intermediate of an external root, say); for sa NewCAKey only.
	NewCACert, NewCAKey string

	// To is the last stage to run ("trust", "reissue", "finish"); only
	// the next one when empty.
	To string
	// AllStages is To "finish" (--all-stages); To must then be empty.
	AllStages bool
	// Abort goes back towards the old CA: from reissue to trust (the
	// leaves signed by the old CA again), from trust to the old CA alone.
	Abort bool
	// Force finishes although a certificate on disk is still from the old
	// CA, or (sa) tokens of the old key may still be valid.
	Force bool
	// Restarted says the user restarted what the last stage asked for.
	Restarted bool
	// MaxTokenLifetime is the longest a service-account token lives:
	// finish of sa waits that long after the restarts of reissue
	// (restartedAt). DefaultMaxTokenLifetime when zero.
	MaxTokenLifetime time.Duration
	// Restart restarts the components after each stage, through their
	// static pods in ManifestDir (manifests/staticpods).
	Restart        bool
	RestartTimeout time.Duration
	// Coordination, with Restart, takes a Lease per component in
	// kube-system before each restart (phases/renew's RestartGates, as renew
	// does), so that control-plane nodes rotating at once restart one at a
	// time, and asks the API server for the other kube-apiservers before
	// this node's goes down; nil: the node restarts alone, asking the API
	// server nothing (WithSettings: a node rotated alone, --node-only).
	Coordination *renew.Coordination

	// Cluster, when set, keeps the rotation's stage in the cluster beside
	// the other control-plane nodes', carries the new CA to them, and
	// refuses a stage that would break one of them (ClusterOptions); nil
	// rotates this node alone.
	Cluster *ClusterOptions
	cl      *clusterState // nil: the node alone

	// DryRun reads and checks, prints what the next stage would do, and
	// writes nothing.
	DryRun      bool
	LockTimeout time.Duration

	// Rerun is what a printed `certctl ca rotate NAME` needs to act on
	// this node again: the flags the user gave for its folders, its node
	// name and API server (" --cert-dir /srv/pki"), shell-quoted; "" for
	// the defaults.
	Rerun string

	Now func() time.Time
	// Sleep waits d, or until ctx ends (a timer when nil): with Now, the
	// clock of every wait of the rotation: the restarts (RestartTimeout),
	// their Leases, and with Cluster, the gates (WaitTimeout,
	// RootCASettle) and the retries of the cluster record. Give both or
	// neither: a Now that moves only when Sleep is called never reaches a
	// deadline with a timer.
	Sleep func(ctx context.Context, d time.Duration) error
	Rand  io.Reader
	Out   io.Writer // progress
	Warn  io.Writer // warnings; Out when nil
}

// WithSettings is o for a node's settings c: its folders, validities and
// etcd; its key algorithm when algorithmSet (a --config file, or the flag);
// its name for the cluster record (Cluster) and, with Restart, for the
// Leases of the restarts, taken with kubeconfig and its context
// (renew.Coordination). A node rotated alone (no Cluster: --node-only)
// restarts alone too, without the Leases and the check of the other
// kube-apiservers: it is for one node, where they guard nothing, or for
// the API server down, where asking cost up to 5 s a stage (one that
// accepts and does not answer) and an API server that answered 401 or 403
// to the kubeconfig, as one of the old CA alone does to a client
// certificate of the new, left every restart owed. etcd's restart still
// waits for its other members' quorum, which it asks them
// (renew.EtcdQuorum).
func (o Options) WithSettings(c *config.Cluster, algorithmSet bool, kubeconfig, context string) Options {
	if algorithmSet {
		o.KeyAlgorithm = pki.KeyAlgorithm(c.EncryptionAlgorithm)
	}
	o.CertDir, o.ExternalEtcd = c.CertificatesDir, c.ExternalEtcd
	o.CAValidity, o.Validity, o.KeepValidity = c.CACertificateValidity, c.CertificateValidity, c.KeepValidity
	if o.Restart && o.Cluster != nil {
		o.Coordination = &renew.Coordination{Kubeconfig: kubeconfig, Context: context, KubeconfigDir: o.KubeconfigDir, NodeName: c.NodeName, Now: o.Now, Sleep: o.Sleep, Rand: o.Rand}
	}
	if o.Cluster != nil {
		cl := *o.Cluster
		cl.NodeName = c.NodeName
		o.Cluster = &cl
	}
	return o
}

// Check refuses a name that is not a CA or key pair certctl rotates, and
// options that contradict each other, as Rotate does, before anything is
// read: a caller checks the flags before the node's settings, whose
// ConfigMap read can wait for an API server.
func (o Options) Check(name string) error {
	k, err := kindOf(name)
	if err != nil {
		return err
	}
	to := o.To
	if o.AllStages {
		if to != "" {
			return fmt.Errorf("--all-stages is --to finish: give one of them")
		}
		to = "finish"
	}
	switch {
	case o.Force && o.Abort:
		return fmt.Errorf("--force applies to finish, not to --abort: drop one of them")
	case to != "" && !slices.Contains(Stages, to):
		return fmt.Errorf("unknown stage %q for --to: use one of %s", to, strings.Join(Stages, ", "))
	case to != "" && !o.Restart && !o.DryRun:
		return fmt.Errorf("--to and --all-stages run several stages, and the components must restart between them: add --restart-control-plane, or run one stage per call")
	case o.Abort && to != "":
		return fmt.Errorf("--abort goes back one stage at a time: drop --to")
	case k.sa && o.NewCACert != "":
		return fmt.Errorf("sa is a key pair: give its new private key with --new-ca-key alone")
	case !k.sa && (o.NewCACert == "") != (o.NewCAKey == ""):
		return fmt.Errorf("give the new CA's certificate and key together: --new-ca-cert and --new-ca-key")
	}
	return o.checkForget()
}

func (o *Options) setDefaults() error {
	if o.AllStages {
		o.To = "finish"
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = staticpods.Sleep
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Warn == nil {
		o.Warn = o.Out
	}
	if o.CAValidity == 0 {
		o.CAValidity = config.DefaultCACertificateValidity
	}
	if o.MaxTokenLifetime == 0 {
		o.MaxTokenLifetime = DefaultMaxTokenLifetime
	}
	for _, d := range []*string{&o.CertDir, &o.KubeconfigDir, &o.ManifestDir} {
		if *d == "" {
			continue
		}
		abs, err := filepath.Abs(*d)
		if err != nil {
			return fmt.Errorf("resolve %s: %w", *d, err)
		}
		*d = abs
	}
	return nil
}

// Rotate runs the next stage of the rotation of the CA called name (or
// every stage up to o.To), each as phases of the phase runner, under
// certctl's lock, after recovering an interrupted stage. It returns the
// record as the last stage left it.
func Rotate(ctx context.Context, name string, o Options) (*Record, error) {
	if err := o.Check(name); err != nil {
		return nil, err
	}
	k, err := kindOf(name)
	if err != nil {
		return nil, err
	}
	if err := o.setDefaults(); err != nil {
		return nil, err
	}
	if k.name == pki.EtcdCAName && o.ExternalEtcd {
		return nil, fmt.Errorf("the configuration uses an external etcd, whose CA certctl does not manage: rotate it where it is made")
	}
	p := k.paths(o.CertDir)
	if o.Cluster != nil && o.Cluster.ForgetNode != "" {
		if o.cl, err = o.connect(ctx, k); err != nil {
			return nil, err
		}
		return nil, o.forget(ctx, k)
	}
	if o.Cluster != nil {
		if o.Cluster.CertificateKey, err = copycerts.KeyArg(ctx, o.Cluster.CertificateKey, o.Cluster.In, o.Warn); err != nil {
			return nil, err
		}
		if o.cl, err = o.connect(ctx, k); err != nil {
			return nil, err
		}
	}
	// The manifest folder too: a stage of ca writes
	// kube-controller-manager's manifest in its transaction, which
	// recovery may have to finish.
	dirs := []string{o.KubeconfigDir}
	if o.ManifestDir != "" {
		dirs = append(dirs, o.ManifestDir)
	}
	if o.DryRun {
		// Without the lock, and after finishing an interrupted stage when
		// no certctl works on the files, as every read-only command.
		var rec *Record
		err := node.Read(ctx, o.Warn, o.CertDir, dirs, func() error {
			var err error
			rec, err = o.stages(ctx, k, p)
			return err
		})
		return rec, err
	}
	release, err := node.Lock(ctx, o.Warn, o.CertDir, o.LockTimeout, dirs...)
	if err != nil {
		return nil, err
	}
	defer release()
	return o.stages(ctx, k, p)
}

// recorded is the tag and the words of a call that only records the
// restarts its last stage asked for: "are recorded", or, in a dry run,
// that they would be and nothing was written.
func recorded(dryRun bool) (tag, done string) {
	if dryRun {
		return "[dry-run]", "would be recorded, and nothing else done; nothing was written"
	}
	return "[ca-rotate]", "are recorded"
}

// stages runs the stages the options ask for, one phases.Run each.
func (o *Options) stages(ctx context.Context, k kind, p paths) (*Record, error) {
	for started := false; ; started = true {
		rec, err := ReadRecord(p.Record)
		if err != nil {
			return nil, err
		}
		if !o.DryRun && rec != nil {
			// A kill after a stage's commit leaves the files it no longer needs.
			if err := removeFiles(p.stray(rec.Stage)); err != nil {
				return rec, err
			}
		}
		// A rotation that ended (finished, aborted) with restarts owed:
		// settling them is all this call does, not a new rotation.
		settle := !started && rec != nil && !rec.Active() && len(rec.Restart) > 0 && !rec.Restarted &&
			o.To == "" && !o.Abort && (o.Restarted || o.Restart)
		// --restarted records the restarts of sa's reissue now: finish
		// waits for the tokens the old key signed until then.
		tokenWait := !started && k.sa && o.Restarted && !o.Restart && !o.Abort && !o.Force && o.MaxTokenLifetime > 0 &&
			rec != nil && rec.Stage == StageReissue && !rec.Aborting && len(rec.Restart) > 0 && !rec.Restarted
		if err := o.restartsDone(ctx, k, p, rec); err != nil {
			return rec, err
		}
		if settle && o.Restarted && !o.DryRun {
			if err := o.markRestarted(p, rec, o.Now()); err != nil {
				return rec, err
			}
		}
		if o.cl != nil {
			if err := o.cl.refresh(ctx, o, k, p, rec); err != nil || o.cl.settled {
				return rec, err
			}
		}
		if settle {
			tag, done := recorded(o.DryRun)
			fmt.Fprintf(o.Out, "%s %s: the restarts after stage %s %s; the rotation is done (a new one starts with `%s`)\n", tag, k.name, rec.Stage, done, o.command(k))
			return rec, nil
		}
		if tokenWait {
			tag, done := recorded(o.DryRun)
			fmt.Fprintf(o.Out, "%s %s: the restarts after stage reissue %s: the new key signs since %s, and tokens the old key signed until then may be valid until %s (--max-token-lifetime %s): run `%s` after that (stage finish)\n",
				tag, k.name, done, rec.ReissuedAt.Format(time.RFC3339), rec.ReissuedAt.Add(o.MaxTokenLifetime).Format(time.RFC3339), o.MaxTokenLifetime, o.command(k))
			return rec, nil
		}
		if !started && o.Restarted && !o.Abort && o.To == "" && !rec.Active() {
			// --restarted records restarts; run again after the rotation
			// ended, or with none, it must not start one.
			fmt.Fprintf(o.Out, "[ca-rotate] %s: no rotation is in progress and no restart is owed: nothing to record (a new rotation starts with `%s`, without --restarted)\n", k.name, o.command(k))
			return rec, nil
		}
		step, err := o.nextStep(k, rec, started)
		if err != nil || step == "" {
			return rec, err
		}
		r := &run{o: o, k: k, p: p, rec: rec, step: step, now: o.Now().UTC()}
		env := &phases.Env{Cluster: &config.Cluster{CertificatesDir: o.CertDir}, KubeconfigDir: o.KubeconfigDir,
			DryRun: o.DryRun, OwnPlan: true, Now: o.Now, Rand: o.Rand, Out: o.Out}
		if err := phases.Run(ctx, env, r.phases()); err != nil {
			return rec, err
		}
		if o.DryRun {
			r.printPlan()
			return rec, nil
		}
		if rec, err = o.afterStage(ctx, k, p, r); err != nil {
			return rec, err
		}
		if o.cl != nil {
			if err := o.cl.after(ctx, o, k, p); err != nil {
				return rec, err
			}
		}
		if o.To == "" || o.Abort || reached(rec, o.To) {
			return rec, err
		}
	}
}

// reached reports whether rec is at stage to (a --to name) or past it.
func reached(rec *Record, to string) bool {
	order := map[string]int{StageTrust: 1, StageReissue: 2, StageFinished: 3, "finish": 3}
	return rec != nil && order[rec.Stage] >= order[to] && !rec.Aborting
}

// nextStep is what the next call does from rec: "" when o.To is reached.
// A rotation that ended before this call (finished, aborted) reached
// nothing of this call's: a new one starts.
func (o *Options) nextStep(k kind, rec *Record, started bool) (string, error) {
	if o.Abort {
		switch {
		case !rec.Active():
			return "", fmt.Errorf("no rotation of %s is in progress: nothing to abort%s", k.name, o.ended(k, rec))
		case rec.Stage == StageReissue:
			return stepAbortReissue, nil
		}
		return stepAbort, nil
	}
	if o.To != "" && (started || rec.Active()) && reached(rec, o.To) {
		if rec.Stage == StageFinished && o.To != "finish" || rec.Stage == StageReissue && o.To == StageTrust {
			return "", fmt.Errorf("the rotation of %s is at stage %s, past %s: abort with --abort, or go on", k.name, rec.Stage, o.To)
		}
		return "", nil
	}
	if rec.Active() {
		if o.NewCACert != "" || o.NewCAKey != "" {
			return "", fmt.Errorf("the rotation of %s is at stage %s: its new CA is chosen already; drop --new-ca-cert and --new-ca-key", k.name, rec.Stage)
		}
		if rec.Stage == StageTrust {
			return stepReissue, nil
		}
		return stepFinish, nil
	}
	return stepTrust, nil
}

// ended says how the last rotation of k ended, for an --abort that finds
// none in progress, and what it still asks for: the restarts after its
// last step, which --restarted records (not --abort).
func (o *Options) ended(k kind, rec *Record) string {
	if rec == nil {
		return ""
	}
	msg := "; the last one was aborted: the node is back on the old CA"
	if rec.Stage == StageFinished {
		msg = "; the last one finished: the old CA cannot come back, rotate again with `" + o.command(k) + "`"
	}
	if len(rec.Restart) > 0 && !rec.Restarted {
		msg += fmt.Sprintf("; restart %s, then `%s --restarted` records the restarts %s asked for", strings.Join(rec.Restart, ", "), o.command(k), stageName(rec))
	}
	return msg
}

// The steps a call can make.
const (
	stepTrust        = "trust"
	stepReissue      = "reissue"
	stepFinish       = "finish"
	stepAbort        = "abort"         // trust -> aborted
	stepAbortReissue = "abort-reissue" // reissue -> trust, re-issued by the old CA
)
