package carotate

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/certctl/certctl/phases/node"
	"github.com/certctl/certctl/pki"
)

// StatusOptions say where a node's files are.
type StatusOptions struct {
	CertDir, KubeconfigDir string
	// ManifestDir is the kubelet's static pod folder, where a stage of ca
	// writes kube-controller-manager's manifest: recovering an interrupted
	// stage may finish that write. "" for the folder beside CertDir only.
	ManifestDir      string
	ExternalEtcd     bool
	MaxTokenLifetime time.Duration // DefaultMaxTokenLifetime when zero
	Now              time.Time
	// ErrOut receives what the recovery of an interrupted stage did.
	ErrOut io.Writer
	// Connect, when set, reads each rotation's cluster record (per node,
	// its stage and next command); nil: this node's files only.
	Connect func() (kubernetes.Interface, string, error)
	// Rerun is what this node's next commands need: Options.Rerun.
	Rerun string
}

// Status returns the state of the rotation of every CA the node has (no
// etcd-ca with an external etcd, none whose trust file is missing). It
// reads without waiting for certctl's lock, and finishes an interrupted
// stage first when no certctl is working (node.Read), so that it never
// reports the half of a stage.
func Status(ctx context.Context, o StatusOptions) (StatusReport, error) {
	if o.ErrOut == nil {
		o.ErrOut = io.Discard
	}
	var out []State
	dirs := []string{o.KubeconfigDir}
	if o.ManifestDir != "" {
		// Absolute, as the transactions name their files.
		abs, err := filepath.Abs(o.ManifestDir)
		if err != nil {
			return StatusReport{}, fmt.Errorf("resolve %s: %w", o.ManifestDir, err)
		}
		dirs = append(dirs, abs)
	}
	err := node.Read(ctx, o.ErrOut, o.CertDir, dirs, func() error {
		var err error
		out, err = status(o)
		return err
	})
	r := StatusReport{APIVersion: "output.certctl.io/v1", Kind: "CARotationStatus", CAs: out}
	if err == nil && o.Connect != nil {
		if o.MaxTokenLifetime == 0 {
			o.MaxTokenLifetime = DefaultMaxTokenLifetime
		}
		r.ClusterNotRead = clusterStatus(ctx, o, r.CAs)
	}
	return r, err
}

func status(o StatusOptions) ([]State, error) {
	if o.MaxTokenLifetime == 0 {
		o.MaxTokenLifetime = DefaultMaxTokenLifetime
	}
	out := []State{}
	for _, name := range Names() {
		k, _ := kindOf(name)
		if name == pki.EtcdCAName && o.ExternalEtcd {
			continue
		}
		p := k.paths(o.CertDir)
		if missing(p.Trust) {
			continue
		}
		st, err := inspect(k, o.ExternalEtcd, o.CertDir, o.KubeconfigDir, o.Now, o.Rerun)
		if err != nil {
			return nil, err
		}
		rec, _ := ReadRecord(p.Record)
		if prob, fix := signingCheck(k, p, rec, o.ManifestDir); prob != "" {
			st.Problems = append(st.Problems, prob)
			if len(st.Problems) == 1 {
				// The stage's files are as it wrote them: the step after
				// is the one inspect found, once signer enable wrote the
				// stage's flags back.
				st.Next = fix + " (writes kube-controller-manager's signing flags of stage " + rec.Stage + "), then " + st.Next
			} else {
				st.Next = nextOf(rotateCommand(k.name, o.Rerun), rec, st, k.kubeconfigs)
			}
		}
		if k.sa && rec != nil && rec.Stage == StageReissue && rec.ReissuedAt != nil {
			o.waitForTokens(st, *rec.ReissuedAt)
		}
		out = append(out, *st)
	}
	return out, nil
}

// waitForTokens makes st's Next, of sa at reissue, wait until tokens of
// the old key expire: reissued (the last reissue of a node of the
// rotation) plus MaxTokenLifetime, as finish does (readyToEnd).
func (o StatusOptions) waitForTokens(st *State, reissued time.Time) {
	cmd := rotateCommand(st.CA, o.Rerun)
	if len(st.Problems) == 0 && len(st.Restart) > 0 && !st.Restarted {
		// kube-apiserver signs with the old key until it restarts:
		// the wait starts when the restart is recorded (restartedAt).
		st.Next = fmt.Sprintf("restart %s, then %s --restarted to record it; stage finish follows --max-token-lifetime %s later, once tokens of the old key expire (or %s --restart-control-plane, then the same wait)", strings.Join(st.Restart, ", "), cmd, o.MaxTokenLifetime, cmd)
		return
	}
	until := reissued.Add(o.MaxTokenLifetime)
	if !o.Now.Before(until) {
		return
	}
	wait := "after " + until.Format(time.RFC3339) + " (tokens of the old key expire)"
	switch {
	case len(st.Problems) > 0:
		// next's: the files first.
	default:
		st.Next = wait + ": " + cmd
	}
}

// rotateCommand is the command that acts on the rotation of name on this
// node; rerun holds the flags of the node's folders and API server that
// are not the defaults (Options.Rerun).
func rotateCommand(name, rerun string) string {
	return "certctl ca rotate " + name + rerun
}

func (o *Options) command(k kind) string { return rotateCommand(k.name, o.Rerun) }

// startsRotation ends the Next of a node where no rotation is in progress.
const startsRotation = " (starts a rotation: stage trust)"

// restartKubelet starts the NEXT of a CA whose files the kubelet reads
// (kubelet.conf's CA data, ca.crt): it reads them only when it starts, and
// is no static pod, so neither the record's restarts nor
// --restart-control-plane cover it (ca rotate warns after each stage).
const restartKubelet = "restart the kubelet (systemctl restart kubelet); "

// nextOf is next, led by the kubelet's restart when kubelet says it
// reads the CA's files.
func nextOf(cmd string, rec *Record, st *State, kubelet bool) string {
	n := next(cmd, rec, st)
	switch {
	case !kubelet || len(st.Problems) > 0 || rec == nil:
	case len(rec.Restart) > 0 && !rec.Restarted:
		return restartKubelet + n
	case rec.Active():
		// The static pods restarted (--restart-control-plane, or the
		// user said so): certctl cannot tell whether the kubelet did.
		return "restart the kubelet (systemctl restart kubelet) unless it restarted since " + stageName(rec) + ", then " + n
	}
	return n
}

// next is the command that makes the next step from rec; cmd is
// rotateCommand's.
func next(cmd string, rec *Record, st *State) string {
	switch {
	case len(st.Problems) > 0 && rec.Active():
		// The backups hold the files from before each stage, not those
		// the stage wrote: ca rotate's refusal says what each must hold.
		run := cmd
		if len(rec.Restart) > 0 && !rec.Restarted {
			run += " --restarted"
		}
		return fmt.Sprintf("put the files back as stage %s wrote them (`%s --dry-run` says what each must hold; the backups in certctl-backups hold those from before the stage), or go back with %s --abort; then %s", rec.Stage, run, run, run)
	case len(st.Problems) > 0:
		return putBack(rec, st) + "; then " + next(cmd, rec, &State{CA: st.CA, FromOldCA: st.FromOldCA})
	case rec != nil && len(rec.Restart) > 0 && !rec.Restarted:
		then := cmd + " --restarted"
		switch {
		case !rec.Active():
			then += " to record it (the rotation is done)"
		case rec.Stage == StageTrust && rec.Aborting:
			// Plain --restart-control-plane would go on to reissue.
			return fmt.Sprintf("restart %s, then %s --abort --restarted (goes on with the abort: drops the new CA), or %s --restarted (stage reissue again); --restart-control-plane in place of --restarted restarts them for you", strings.Join(rec.Restart, ", "), cmd, cmd)
		}
		return fmt.Sprintf("restart %s, then %s (or %s --restart-control-plane)", strings.Join(rec.Restart, ", "), then, cmd)
	case !rec.Active():
		return cmd + startsRotation
	case rec.Stage == StageTrust && rec.Aborting:
		return cmd + " --abort (drops the new CA), or " + cmd + " (stage reissue)"
	case rec.Stage == StageTrust:
		return cmd + " (stage reissue)"
	case len(st.FromOldCA) > 0:
		return fmt.Sprintf("re-issue %s, then %s (stage finish)", listFiles(st.FromOldCA), cmd)
	}
	return cmd + " (stage finish)"
}

// putBack says how to put back the files of a rotation that has ended
// (finished, aborted), or of a node with no record, as its problems say.
// The backup finish or the abort made holds the files from before it, the
// bundle of both CAs: put back as it is, it is the same problem.
func putBack(rec *Record, st *State) string {
	k, err := kindOf(st.CA)
	if rec == nil || err != nil {
		return "fix the problems as each says (a lost record: write it again as docs/ca-rotation.md says, \"A damaged record\")"
	}
	p := k.paths("")
	which, step := "new", "finish"
	if rec.Stage == StageAborted {
		which, step = "old", "the abort"
	}
	if k.sa {
		return fmt.Sprintf("put back the files as stage %s left them: %s must hold the public key of %s alone (`openssl pkey -in %s -pubout -out %s`; the backup %s made in certctl-backups holds the files from before it, with both keys)",
			rec.Stage, p.Trust, p.Key, p.Key, p.Trust, step)
	}
	return fmt.Sprintf("put back the files as stage %s left them: %s must hold the %s CA alone, the certificate %s matches (the backup %s made in certctl-backups holds the files from before it: its %s holds both CAs, keep only the first: `openssl x509 -in BACKUP/pki/%s -out %s`), and each certificate or kubeconfig the problems name must be re-issued by it (`certctl renew NAME`)",
		rec.Stage, p.Trust, which, p.Key, step, p.Trust, p.Trust, p.Trust)
}
