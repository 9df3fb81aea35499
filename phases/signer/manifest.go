package signer

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/certctl/certctl/internal/lock"
	"github.com/certctl/certctl/internal/txn"
	"github.com/certctl/certctl/manifests"
	"github.com/certctl/certctl/phases/carotate/castage"
	nodes "github.com/certctl/certctl/phases/node"
	"github.com/certctl/certctl/pki"
)

// DefaultManifest is where kubeadm writes kube-controller-manager's static
// pod manifest.
const DefaultManifest = "/etc/kubernetes/manifests/kube-controller-manager.yaml"

// ManifestEdit is `signer enable` and `signer disable`'s change of
// kube-controller-manager's static pod manifest.
type ManifestEdit struct {
	Manifest string
	// BackupDir gets a copy of the old manifest; "" for
	// manifests.BackupDir(Manifest, Now).
	BackupDir   string
	DryRun      bool // print the change as a unified diff, write nothing
	LockTimeout time.Duration
	Now         time.Time
	Out         io.Writer
}

// Enable turns kube-controller-manager's signer on with the cluster CA in
// certDir, after checking that CA; nothing is changed when it is not valid.
// During a rotation of that CA (`certctl ca rotate`, stage trust or
// reissue) ca.crt holds two CAs, which kube-controller-manager's signer
// refuses: it writes the files the stage writes (castage: ca.old.crt at
// trust, ca.new.crt at reissue, with ca.key), as after `kubeadm upgrade`
// wrote kubeadm's flags back, and says so.
func Enable(ctx context.Context, e ManifestEdit, certDir string, perSigner bool, duration time.Duration) error {
	if err := e.check(); err != nil {
		return err
	}
	abs, err := filepath.Abs(certDir)
	if err != nil {
		return fmt.Errorf("resolve --cert-dir %s: %w", certDir, err)
	}
	if !e.DryRun {
		// ca rotate holds the lock beside the certificate folder while it
		// moves a stage: where that is not the manifest folder's (taken by
		// apply), take it first, in renew's order.
		release, err := lockCertDir(ctx, abs, e)
		if err != nil {
			return err
		}
		defer release()
	}
	var certFile, keyFile string
	var files castage.Files
	var rec *castage.Record
	// The rotation record is read under the lock: one read before it would
	// miss a rotation that a ca rotate holding the lock starts meanwhile,
	// and point kube-controller-manager at ca.crt, then two CAs.
	check := func() error {
		s := pki.Store{Dir: abs}
		ca, _ := pki.Kubeadm().Find(pki.CAName)
		var err error
		files, rec, err = castage.SigningRotation(abs)
		if err != nil {
			return fmt.Errorf("check the cluster CA: %w; %s not changed", err, e.Manifest)
		}
		certFile, keyFile = s.CertPath(ca.BaseName), s.KeyPath(ca.BaseName)
		if rec.Active() {
			certFile, keyFile = files.SigningCert(rec.Stage), files.Key
			if _, err := LoadCA(certFile, keyFile, e.Now, false); err != nil {
				return fmt.Errorf("check the CA that signs at stage %s of the rotation of %s: %w: put back the files of the stage (`certctl ca status` says what each must hold); %s not changed", rec.Stage, rec.CA, err, e.Manifest)
			}
			fmt.Fprintf(e.Out, "[signer] the rotation of the %s CA is at stage %s: kube-controller-manager signs with %s and %s, as the stage wrote them (%s holds both CAs, which its signer refuses); `certctl ca rotate %s` points it at the files of the next stage\n",
				rec.CA, rec.Stage, certFile, keyFile, filepath.Base(files.Trust), rec.CA)
		} else if _, err := LoadCA(certFile, keyFile, e.Now, false); err != nil {
			return fmt.Errorf("check the cluster CA: %w; %s not changed", err, e.Manifest)
		}
		return nil
	}
	return e.apply(ctx, "enable", check, func(data []byte) ([]byte, []string, error) {
		cert, key := certFile, keyFile
		if rec.Active() {
			// The spelling of the manifest's folder, as ca rotate keeps it.
			flags, err := manifests.SignerFlags(data)
			if err != nil {
				return nil, nil, err
			}
			var current string
			if named, _, _ := castage.SigningCertFiles(flags); len(named) > 0 {
				current = named[0]
			}
			cert, key = files.SigningFiles(rec.Stage, current)
		}
		return manifests.EnableSigner(data, manifests.SignerOptions{
			CertFile: cert, KeyFile: key, PerSigner: perSigner, Duration: duration,
		})
	})
}

// lockCertDir takes certctl's lock beside certDir when it is not the one
// beside e's manifest folder, which apply takes (a second flock of the same
// file by this process would wait for the first). In kubeadm's layout both
// are /etc/kubernetes/.certctl.lock.
func lockCertDir(ctx context.Context, certDir string, e ManifestEdit) (release func(), err error) {
	a, err := lock.Beside(certDir)
	if err != nil {
		return nil, err
	}
	b, err := lock.Beside(filepath.Dir(e.Manifest))
	if err != nil {
		return nil, err
	}
	if a == b {
		return func() {}, nil
	}
	return nodes.LockOnly(ctx, certDir, e.LockTimeout)
}

// Apply reads the manifest, patches it, and prints a diff (DryRun) or
// writes it with a backup, under certctl's lock beside the manifest
// folder. Nothing is written on any error.
func (e ManifestEdit) Apply(ctx context.Context, verb string, patch func([]byte) ([]byte, []string, error)) error {
	if err := e.check(); err != nil {
		return err
	}
	return e.apply(ctx, verb, nil, patch)
}

// check refuses conflicting options before any work: a --backup-dir with
// --dry-run, which writes no backup, would be accepted and do nothing (as
// kubectl apply refuses --dry-run=server with --force, rather than
// ignore one of them).
func (e ManifestEdit) check() error {
	if e.DryRun && e.BackupDir != "" {
		return fmt.Errorf("--backup-dir %s does nothing with --dry-run, which writes no backup: drop one of them", e.BackupDir)
	}
	return nil
}

// apply is Apply that runs check, when not nil, under the lock (after the
// recovery) before it reads the manifest: what check reads cannot change
// until the edit is written.
func (e ManifestEdit) apply(ctx context.Context, verb string, check func() error, patch func([]byte) ([]byte, []string, error)) error {
	if !e.DryRun {
		// certctl's lock beside the manifest folder, which renew
		// --restart-control-plane takes to annotate the manifests.
		release, err := nodes.LockOnly(ctx, filepath.Dir(e.Manifest), e.LockTimeout)
		if err != nil {
			return err
		}
		defer release()
		// A committed transaction that has not finished (a ca rotate
		// killed after its commit) may hold a new manifest: finish it
		// first, so that this edit is made on it, not undone by it.
		if err := nodes.RecoverBesideManifests(e.Out, filepath.Dir(e.Manifest)); err != nil {
			return fmt.Errorf("%s signer: %w; %s not changed", verb, err, e.Manifest)
		}
		// What a run killed while it wrote the manifest or its backup left.
		dirs := manifests.TempDirs(filepath.Dir(e.Manifest))
		if e.BackupDir != "" {
			dirs = append(dirs, e.BackupDir)
		}
		if err := nodes.CleanTemp(e.Out, dirs); err != nil {
			return fmt.Errorf("%s signer: %w; remove it by hand", verb, err)
		}
	}
	if check != nil {
		if err := check(); err != nil {
			return err
		}
	}
	data, err := pki.ReadFile(e.Manifest)
	if err != nil {
		return fmt.Errorf("read manifest: %w; pass --manifest if it is elsewhere", err)
	}
	next, changes, err := patch(data)
	if err != nil {
		return fmt.Errorf("%s signer in %s: %w; nothing changed", verb, e.Manifest, err)
	}
	if len(changes) == 0 {
		fmt.Fprintf(e.Out, "[signer] %s already has the signer %sd; nothing to do\n", e.Manifest, verb)
		return nil
	}
	// A link would be replaced by a file (manifests.Replace refuses it):
	// --dry-run says so too.
	if _, err := txn.Replaceable(e.Manifest); err != nil {
		return fmt.Errorf("%s signer: %w", verb, err)
	}
	if e.DryRun {
		d, err := manifests.UnifiedDiff(e.Manifest, e.Manifest+" (new)", data, next)
		if err != nil {
			return err
		}
		fmt.Fprint(e.Out, d)
		fmt.Fprintf(e.Out, "[dry-run] %d change(s); nothing written\n", manifests.ChangeCount(data, next))
		return nil
	}
	backup, err := manifests.Replace(e.Manifest, data, next, cmp.Or(e.BackupDir, manifests.BackupDir(e.Manifest, e.Now)))
	if err != nil {
		return err
	}
	for _, c := range changes {
		fmt.Fprintf(e.Out, "[signer] %s\n", c)
	}
	fmt.Fprintf(e.Out, "[signer] Wrote %s (old one in %s); the kubelet restarts kube-controller-manager with it\n", e.Manifest, backup)
	return nil
}
