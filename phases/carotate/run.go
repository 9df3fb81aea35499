package carotate

import (
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/certctl/certctl/internal/txn"
	"github.com/certctl/certctl/phases"
	"github.com/certctl/certctl/phases/renew"
	"github.com/certctl/certctl/phases/renewal"
	"github.com/certctl/certctl/pki"
)

// run is one stage of one rotation.
type run struct {
	o    *Options
	k    kind
	p    paths
	rec  *Record
	step string
	now  time.Time

	hs       []held
	m        material
	given    bool             // the new CA came from NewCACert/NewCAKey
	refetch  bool             // the new CA's lost key came from the Secret (refetchNewKey)
	files    []txn.File       // every file of the stage but the re-issued ones
	targets  []renewal.Target // re-issued (reissue, abort-reissue)
	reissuer *pki.LoadedCA    // what re-issues them, as the renewal engine takes it
	to       *Record
	remove   []string // after the commit
}

func (r *run) phases() []phases.Phase {
	return []phases.Phase{{Name: "ca-rotate/" + r.k.name + "/" + r.step,
		OwnErrors: true,
		Run: func(ctx context.Context, env *phases.Env) error {
			if env.Checking() {
				return r.plan(ctx)
			}
			return r.apply(ctx)
		}}}
}

// plan reads and checks everything the stage needs and builds its files
// (check pass); nothing is written.
func (r *run) plan(ctx context.Context) error {
	var err error
	if r.hs, err = heldOf(r.k, r.o.ExternalEtcd, r.o.CertDir, r.o.KubeconfigDir); err != nil {
		return err
	}
	if r.step == stepTrust {
		if r.rec == nil {
			if err := r.p.lostRecord(r.k.name); err != nil {
				return err
			}
		}
		var loose string
		if r.m.old, loose, err = readCurrent(r.k, r.p); err != nil {
			return err
		}
		if loose != "" {
			fmt.Fprintln(r.o.Warn, "[warning] "+loose)
		}
		r.warnDropped()
		if err := r.checkSigned(); err != nil {
			return err
		}
		if r.o.NewCACert != "" || r.o.NewCAKey != "" {
			if r.m.new, err = r.readGiven(); err != nil {
				return err
			}
			r.given = true
		}
		joined, err := r.newFromCluster(ctx)
		if err != nil {
			return err
		}
		r.given = r.given || joined
		if !r.k.sa {
			file := r.p.NewCert
			if r.o.NewCACert != "" {
				file = r.o.NewCACert
			}
			r.warnShortLived(r.newCAEnd(), file)
		}
		if !r.given {
			// The targets are the same whatever the new CA: check them
			// with the old one in its place; apply makes the real one.
			r.m.new = r.m.old
		}
		if err := r.buildTrust(); err != nil {
			return err
		}
		return r.check(ctx)
	}
	step := r.step
	if r.refetch = r.refetchNewKey(); r.refetch {
		step = stepAbortReissue // the new CA's certificate alone: its key comes from the Secret
	}
	if r.m, err = readMaterial(r.k, r.p, r.rec, step); err != nil {
		return err
	}
	if r.refetch {
		if err := r.fetchNewKey(ctx); err != nil {
			return err
		}
	}
	if r.step == stepReissue {
		if err := r.checkTrusted(); err != nil {
			return err
		}
		if !r.k.sa {
			r.warnShortLived(r.m.new.cert.NotAfter, r.p.NewCert)
		}
	}
	switch r.step {
	case stepReissue:
		err = r.buildReissue(r.m.new, r.m.old, StageReissue)
	case stepAbortReissue:
		err = r.buildReissue(r.m.old, r.m.new, StageTrust)
	case stepFinish:
		err = r.buildEnd(r.m.new, StageFinished)
	case stepAbort:
		err = r.buildEnd(r.m.old, StageAborted)
	}
	if err != nil {
		return err
	}
	if err := r.gate(ctx); err != nil {
		return err
	}
	return r.check(ctx)
}

// check proves that the commit can replace every file: renewal's own
// check pass for a stage that re-issues, txn.Check otherwise.
func (r *run) check(ctx context.Context) error {
	if len(r.targets) > 0 {
		res, err := renewal.Renew(ctx, r.targets, r.renewalOptions(true))
		if err != nil {
			return err
		}
		if res.Unwritable != nil { // a plan alone is no use here
			return fmt.Errorf("%w; nothing was changed", res.Unwritable)
		}
		return nil
	}
	if err := txn.Check(mapped(r.files, func(f txn.File) string { return f.Target })); err != nil {
		return fmt.Errorf("%w; nothing was changed", err)
	}
	return nil
}

// checkSigned refuses a rotation that starts with a certificate of the CA
// on disk that the old CA did not sign: the rotation would not know which
// CA it belongs to.
func (r *run) checkSigned() error {
	ca := r.m.old
	if ca.cert == nil {
		return nil
	}
	for _, h := range r.hs {
		if h.cert != nil && (h.entry.Kind != pki.KindKubeconfig || h.embedded) && !h.signedBy(ca.cert, r.now) {
			return fmt.Errorf("%s is not signed by the old %s CA: renew it (`certctl renew %s`) or restore it from a backup before the rotation goes on", h.file, r.k.name, h.entry.CertName())
		}
	}
	return nil
}

// checkTrusted refuses reissue while a file is not what stage trust made
// it: reissue has the new CA sign what the components serve and present,
// which is safe only because every trust file (and each kubeconfig's CA
// data) holds the new CA since trust, and the components restarted to
// read them. One put back to the old CA alone since (a configuration
// management run, a file restored from a backup, a kubeconfig written
// again from the first certificate of the trust file) would make its
// readers reject the re-issued certificates.
func (r *run) checkTrusted() error {
	step := ""
	if r.refetch {
		step = stepAbortReissue // the new CA's key file is gone: the Secret gave it
	}
	st, err := inspectAfter(step, r.k, r.o.ExternalEtcd, r.o.CertDir, r.o.KubeconfigDir, r.now, r.o.Rerun)
	if err != nil {
		return err
	}
	// kube-controller-manager did not start on the files of trust: the
	// pods may not have been given the new CA.
	if prob := signingProblem(r.k, r.p, r.rec, r.o.ManifestDir); prob != "" {
		st.Problems = append(st.Problems, prob)
	}
	if len(st.Problems) == 0 {
		return nil
	}
	fix := r.p.Trust + " must hold " + r.p.OldCert + " then " + r.p.NewCert
	if r.k.sa {
		fix = r.p.Trust + " must hold the old then the new public key"
	}
	return fmt.Errorf("reissue of %s refused: the files are not those of stage %s: %s: put them back as the stage wrote them (%s; `certctl renew NAME.conf` writes a kubeconfig with the stage's CA data), restart the components that read them, then run this again; or go back with `%s --abort`; nothing was changed",
		r.k.name, r.rec.Stage, strings.Join(st.Problems, "; "), fix, r.o.command(r.k))
}

// apply makes the new CA (trust), writes the stage in one transaction,
// removes what the stage no longer needs, and verifies the result (real
// pass).
func (r *run) apply(ctx context.Context) error {
	if r.step == stepTrust && !r.given {
		if err := r.generate(); err != nil {
			return err
		}
		if err := r.buildTrust(); err != nil {
			return err
		}
	}
	if len(r.targets) > 0 {
		res, err := renewal.Renew(ctx, r.targets, r.renewalOptions(false))
		if err != nil {
			return err
		}
		for _, x := range res.Renewed {
			fmt.Fprintf(r.o.Out, "[ca-rotate] %s re-issued by the %s CA %s\n", x.Name, r.k.name, who(r.reissuer.Cert))
		}
	} else if _, err := renewal.Install(r.o.CertDir, r.o.KubeconfigDir, txn.KindRotation, r.now, r.o.Rand, r.backedUp(), r.files, r.backupNote()); err != nil {
		return err
	}
	if err := removeFiles(r.remove); err != nil {
		return err
	}
	return verifyAfter(r.step, r.o.CertDir, r.o.KubeconfigDir, r.k.name, r.o.ExternalEtcd, r.now)
}

// renewalOptions are the renewal engine's options for re-issuing the
// targets with r.reissuer, writing r.files in the same transaction.
func (r *run) renewalOptions(dryRun bool) renewal.Options {
	warn := r.o.Warn
	if dryRun && !r.o.DryRun {
		// The check pass of a real run: the real pass warns of the same.
		warn = io.Discard
	}
	return renewal.Options{CertDir: r.o.CertDir, KubeconfigDir: r.o.KubeconfigDir, TxnKind: txn.KindRotation,
		Validity: r.o.Validity, KeepValidity: r.o.KeepValidity, SkipMissing: true,
		CAs: map[string]*pki.LoadedCA{r.k.name: r.reissuer}, Extra: r.files, Note: r.backupNote(),
		DryRun: dryRun, Now: func() time.Time { return r.now }, Rand: r.o.Rand, Out: r.o.Out, Warn: warn}
}

// backupNote marks the stage's backup as one `certctl restore` refuses:
// its files alone would not undo the stage, whose record and CA files
// stay. Before finish --abort goes back; after it, only a new rotation.
func (r *run) backupNote() renewal.BackupNote {
	cmd := r.o.command(r.k)
	// The rotation may have ended by the time the backup is restored,
	// and --abort then refuses: say what applies then too.
	undo := "go back with `" + cmd + " --abort` (docs/ca-rotation.md) while that rotation is in progress; once it has ended (`certctl ca status` says), --abort has nothing to undo: after an abort the node is back on the old CA, and after finish the old CA cannot come back: rotate again with `" + cmd + "`"
	switch r.step {
	case stepFinish:
		undo = "after finish the old CA cannot come back: rotate again with `" + cmd + "` (docs/ca-rotation.md)"
	case stepAbort, stepAbortReissue:
		undo = "go on with `" + cmd + "` (docs/ca-rotation.md)"
	}
	return renewal.BackupNote{MadeBy: "step " + r.step + " of the " + r.k.name + " rotation (certctl ca rotate)", Undo: undo}
}

// backedUp lists the files of the stage that exist in the node's folders:
// their old content goes to the backup.
func (r *run) backedUp() []string {
	var out []string
	for _, f := range r.files {
		inFolder := strings.HasPrefix(f.Target, r.o.CertDir+string(filepath.Separator)) || filepath.Dir(f.Target) == r.o.KubeconfigDir
		if ok, _ := pki.Exists(f.Target); ok && inFolder {
			out = append(out, f.Target)
		}
	}
	return out
}

// who names a CA certificate for people: its CN and the start of its
// fingerprint.
func who(c *x509.Certificate) string {
	return fmt.Sprintf("%q (sha256 %s)", c.Subject.CommonName, fingerprint(c)[:16])
}

// reissued lists the held certificates the renewal engine re-issues:
// leaves, and kubeconfigs with an embedded client certificate of the CA.
func (r *run) reissued() []renewal.Target {
	var out []renewal.Target
	for _, h := range r.hs {
		if h.entry.Kind != pki.KindKubeconfig || h.embedded {
			out = append(out, renewal.TargetOf(pki.Kubeadm(), h.entry.Name))
		}
	}
	return out
}

// printPlan says what the stage would write (DryRun).
func (r *run) printPlan() {
	next := "the next stage is " + r.step
	switch r.step {
	case stepAbort:
		next = "the next step is the abort from trust (the new CA dropped: the old one alone again)"
	case stepAbortReissue:
		next = "the next step is the abort from reissue (back to stage trust: every certificate re-issued by the old CA)"
	}
	fmt.Fprintf(r.o.Out, "[dry-run] %s: %s; nothing was written\n", r.k.name, next)
	for _, t := range r.targets {
		fmt.Fprintf(r.o.Out, "[dry-run]   re-issue %s with the %s CA %s\n", t.Name, r.k.name, who(r.reissuer.Cert))
	}
	for _, f := range r.files {
		fmt.Fprintf(r.o.Out, "[dry-run]   write %s\n", f.Target)
	}
	for _, f := range r.remove {
		// A kill after a commit leaves them, so each call removes them;
		// the real run lists nothing it does not find.
		if !missing(f) {
			fmt.Fprintf(r.o.Out, "[dry-run]   remove %s\n", f)
		}
	}
	switch {
	case r.o.Restart && r.o.Coordination != nil:
		// The cluster's rotation (WithSettings): the real run takes the
		// restart Leases (renew.RestartGates), and checks etcd's quorum
		// and the other kube-apiservers first (restart, whose
		// waits are renew.DefaultLeaseWait), which the dry run said
		// nothing of.
		fmt.Fprintf(r.o.Out, "[dry-run]   restart %s (--restart-control-plane). %s\n", strings.Join(r.restarts(), ", "), renew.DryRunLeases(r.restarts()))
		for _, check := range renew.DryRunChecks(r.restarts(), renew.DefaultLeaseWait) {
			fmt.Fprintf(r.o.Out, "[dry-run]   %s\n", check)
		}
	case r.o.Restart && r.o.Cluster == nil:
		fmt.Fprintf(r.o.Out, "[dry-run]   restart %s (--restart-control-plane). %s\n", strings.Join(r.restarts(), ", "), restartAloneNodeOnly)
	}
	// --to and --all-stages: the later stages, whose files depend on
	// what this one writes, are planned by a dry run after it.
	if i, j := slices.Index(Stages, r.step), slices.Index(Stages, r.o.To); i >= 0 && j > i {
		later, what := Stages[i+1:j+1], "they write"
		if len(later) == 1 {
			what = "it writes"
		}
		fmt.Fprintf(r.o.Out, "[dry-run] then, after the restarts of stage %s (--restart-control-plane), stage %s: run --dry-run again after stage %s to see what %s\n", r.step, strings.Join(later, ", then "), r.step, what)
	}
}
