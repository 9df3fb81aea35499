package carotate

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/certctl/certctl/internal/exitcode"
	"github.com/certctl/certctl/internal/txn"
	"github.com/certctl/certctl/manifests/staticpods"
	"github.com/certctl/certctl/phases/renew"
)

// restartsDone makes sure the components read the files of the last stage
// before the next one: a stage that drops trust in a CA, or signs with the
// new one, is safe only once every component trusts what the stage before
// put in place. With Restart it restarts them now (a restart a killed run
// owes included); with Restarted the user says they did (recorded, with
// its time, at reissue of sa: restartedAt); otherwise the
// next stage is refused, also in a dry run. --abort is not refused when it
// goes back to what the components still read: from reissue, or from a
// trust they may not have restarted for. After an --abort from reissue it
// is: the components that restarted after reissue present certificates of
// the new CA until they restart again, and the next --abort drops the new
// CA.
func (o *Options) restartsDone(ctx context.Context, k kind, p paths, rec *Record) error {
	if rec == nil || len(rec.Restart) == 0 || rec.Restarted || o.Abort && !rec.Aborting {
		return nil
	}
	switch {
	case o.Restart && o.DryRun:
		return nil
	case o.Restart:
		return o.restart(ctx, k, p, rec)
	case o.Restarted && k.sa && rec.Stage == StageReissue && !rec.Aborting && o.DryRun:
		*rec = restartedAt(*rec, o.Now())
		return nil
	case o.Restarted && k.sa && rec.Stage == StageReissue && !rec.Aborting:
		// Kept in the record: the time the new key signs from, which
		// finish counts from, must not move with each call.
		return o.markRestarted(p, rec, o.Now())
	case o.Restarted:
		return nil
	}
	before := "before the next stage"
	if !rec.Active() {
		// Finish and an abort from trust end the rotation: no stage
		// follows, but a new rotation waits for the restarts too.
		before = "before the rotation is done (and a new one can start)"
	}
	return fmt.Errorf("%s must restart to read the files of %s of the %s rotation %s: restart them and run again with --restarted, or run with --restart-control-plane", strings.Join(rec.Restart, ", "), stageName(rec), k.name, before)
}

// stageName names the stage rec is at for a sentence: "stage trust",
// "stage finish" (the record's "finished"), "the abort".
func stageName(rec *Record) string {
	switch rec.Stage {
	case StageFinished:
		return "stage finish"
	case StageAborted:
		return "the abort"
	}
	return "stage " + rec.Stage
}

// afterStage reports the stage r made and restarts what reads its files
// (Restart), or says what to restart.
func (o *Options) afterStage(ctx context.Context, k kind, p paths, r *run) (*Record, error) {
	rec := r.to
	fmt.Fprintf(o.Out, "[ca-rotate] %s: %s done and verified (record %s)\n", k.name, strings.TrimPrefix(stageName(rec), "the "), p.Record)
	if k.kubeconfigs {
		when := "before the next stage"
		if !rec.Active() {
			when = "now"
		}
		fmt.Fprintf(o.Warn, "[warning] the kubelet reads kubelet.conf and %s only when it starts: restart it (systemctl restart kubelet) %s\n", p.Trust, when)
	}
	if key := extensionAuthKey[k.name]; key != "" && o.cl == nil && rec.Stage == StageFinished {
		// The last node's finish prunes it through the cluster record;
		// a node alone does not touch the cluster.
		fmt.Fprintf(o.Out, "[ca-rotate] %s: ConfigMap kube-system/%s (%s) still holds the old CA, which extension API servers trust until it expires: once every kube-apiserver has finished and restarted, run `kubectl -n kube-system delete configmap %s` and they write it again with what they trust now (docs/ca-rotation.md)\n", k.name, ExtensionAuthConfigMap, key, ExtensionAuthConfigMap)
	}
	if len(rec.Restart) == 0 {
		return rec, nil
	}
	if !o.Restart {
		then := "`" + o.command(k) + " --restarted` for the next stage"
		switch {
		case !rec.Active():
			then = "`" + o.command(k) + " --restarted` to record it: the rotation is done"
		case rec.Stage == StageTrust && rec.Aborting:
			// Without --abort the next stage is reissue again, which
			// signs with the new CA the abort backs out of.
			then = "`" + o.command(k) + " --abort --restarted` to go on with the abort (drops the new CA), or `" + o.command(k) + " --restarted` for stage reissue again"
			if missing(p.NewKey) {
				// --abort went back from reissue without the new key:
				// reissue cannot sign again.
				then = "`" + o.command(k) + " --abort --restarted` to go on with the abort (drops the new CA, whose key " + p.NewKey + " is gone)"
			}
		}
		fmt.Fprintf(o.Out, "[ca-rotate] Restart %s now, so that they read the new files; then run %s (docs/ca-rotation.md)\n", strings.Join(rec.Restart, ", "), then)
		return rec, nil
	}
	if err := o.restart(ctx, k, p, rec); err != nil {
		if ctx.Err() != nil {
			// A signal: the stage is made, which "nothing was
			// changed" would deny.
			return rec, &exitcode.Changed{Done: fmt.Sprintf("%s of the %s rotation was made (record %s), but %s may not have restarted to read its files yet: run `%s --restart-control-plane` again, which restarts them before anything else", stageName(rec), k.name, p.Record, strings.Join(rec.Restart, ", "), o.command(k)), Err: err}
		}
		return rec, err
	}
	return rec, nil
}

// restart restarts, one at a time through their static pods, the
// components that read the rotated files, then records that they did.
// etcd restarts only while the other members keep a quorum without it, as
// in renew (renew.EtcdQuorum): a rotation of etcd-ca restarts every
// node's member in turn.
func (o *Options) restart(ctx context.Context, k kind, p paths, rec *Record) error {
	// The old key signs until its kube-apiserver stops, which this
	// restart begins: from afterStage seconds after reissue, from a
	// restart a killed run owed maybe hours later.
	began := o.Now()
	set, affected, err := o.affected(k)
	if err != nil {
		return err
	}
	var coordinate func(context.Context, string) (func(bool), error)
	var apiServers *staticpods.APIServers
	if o.Coordination == nil && o.Cluster == nil && len(affected) > 0 {
		fmt.Fprintf(o.Out, "[restart] %s\n", restartAloneNodeOnly)
	}
	if o.Coordination != nil && len(affected) > 0 {
		c := *o.Coordination
		c.WithAPIServer = set.APIServerAddress() != ""
		// A Lease taken over by another node is a warning, where the
		// rotation's warnings go.
		warn := o.Warn
		if warn == nil {
			warn = o.Out
		}
		c.Warn = func(msg string) { fmt.Fprintf(warn, "[warning] %s\n", msg) }
		coordinate, apiServers = renew.RestartGates(ctx, c, o.Out)
	}
	if _, err := staticpods.Restart(ctx, affected, staticpods.Options{Timeout: o.RestartTimeout, Now: o.Now, Clock: o.Now, Sleep: o.Sleep, Out: o.Out,
		Coordinate: coordinate, APIServer: set.APIServerAddress(), EtcdQuorum: renew.EtcdQuorum(o.CertDir, renew.DefaultLeaseWait), APIServers: apiServers}); err != nil {
		return fmt.Errorf("%w; the next `%s --restart-control-plane` retries the restarts", err, o.command(k))
	}
	return o.markRestarted(p, rec, began)
}

// restartAloneNodeOnly says how a node rotated alone restarts (WithSettings).
const restartAloneNodeOnly = "This node restarts alone, without the restart Leases of kube-system and the check of the other kube-apiservers: a node rotated alone (--node-only) asks the API server nothing; etcd restarts only while its other members keep a quorum"

// markRestarted records that the components read the files of rec's
// stage, restarted at (or since) at, so that the cluster record can say so
// to the other nodes.
func (o *Options) markRestarted(p paths, rec *Record, at time.Time) error {
	done := restartedAt(*rec, at)
	f, err := recordFile(&done, p.Record)
	if err != nil {
		return err
	}
	if err := txn.WriteAllKind(o.CertDir, txn.KindRotation, o.Now(), o.Rand, []txn.File{f}); err != nil {
		return err
	}
	*rec = done
	return nil
}

// restartedAt is rec with its components restarted at now. At reissue
// that is when the new CA (sa: key) started signing: kube-apiserver signs
// service-account tokens with the old sa.key until it restarts, hours
// after the reissue's write maybe, and finish of sa waits for those
// tokens from then (readyToEnd), on every node (the cluster record's
// reissuedAt).
func restartedAt(rec Record, now time.Time) Record {
	rec.Restarted = true
	if rec.Stage == StageReissue && !rec.Aborting {
		at := now.UTC()
		rec.ReissuedAt = &at
	}
	return rec
}
