package external

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/certctl/certctl/internal/txn"
	"github.com/certctl/certctl/phases"
	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/phases/renewal"
	"github.com/certctl/certctl/phases/renewal/apirenew"
	"github.com/certctl/certctl/pki"
)

// ImportOptions configure Import. CSRDir, and of Options CertDir (the CA
// certificates are read there), KubeconfigDir and Rand (the transaction's
// id), are required; of Options Import uses also Now and DryRun (check
// everything and report what would be installed; nothing is written).
type ImportOptions struct {
	renewal.Options
	CSRDir string // where the keys, CSRs, request files and signed certificates are
	// KeepBackups, after an import that saved old files, keeps only that
	// many backups in certctl-backups/ (this one among them); 0 keeps all.
	KeepBackups int
	// Inventory lists what is imported; pki.Kubeadm() when nil.
	Inventory pki.Inventory
	// NodeName, when set, is this node's name: nodeRegistration.name of
	// ConfigFile (--config), which messages name. A request that names a
	// node must name this one, also on a first installation, where no
	// certificate in force names the node yet. Without it, only the
	// certificates in force say the node's name.
	NodeName, ConfigFile string
}

type importer struct {
	o ImportOptions
	// leafDir is the folder of the certificates' keys and CSRs: o.CSRDir,
	// or its pki folder in kubeadm's layout (leafDir).
	leafDir string
	now     time.Time
	inv     pki.Inventory
	cas     map[string]*authority
	res     *ImportSummary
	// known are the .crt files examined; ignored lists the others.
	known map[string]bool
	// files and replaced are the transaction of the real pass: what the
	// accepted candidates write, and the existing files they replace.
	files    []txn.File
	replaced []string
	// targets are every certificate looked for.
	targets []renewal.Target
	// partial: the check pass ended with an error after which the result
	// still says what is pending (no signed certificate yet).
	partial bool
	// thisNode is the node's name its certificates in force say (node),
	// read once: nodeRead.
	thisNode thisNode
	nodeRead bool
	// nodesWarned: the warning that NodeName and the certificates in
	// force name two nodes was given (nodes).
	nodesWarned bool
	// elsewhere say where signed certificates the import waits for are,
	// under another name (lookalike, misplaced).
	elsewhere []string
}

// csrDirFix says which folder --csr-dir names.
const csrDirFix = "give --csr-dir the folder that `certctl init-phase ... --use-csr` or `certctl renew --use-csr` wrote the keys and CSRs into"

// Import installs the certificates an external CA signed for the requests
// in o.CSRDir (see WriteCSRs, and `certctl init-phase certs --use-csr`,
// and `kubeadm certs generate-csr` for kubeconfig files). Each NAME.crt is
// checked with pki.VerifyIssued: it must match NAME.key, chain to its CA in
// o.CertDir, name the subject, SANs and usages its request file (else its
// CSR) asks for, not be a CA, and be valid now. One that fails is refused
// with the reason, and nothing of it is installed; the others, with their
// keys (into the existing kubeconfig for a kubeconfig: only its client
// certificate, key and CA data change), are installed together in one
// transaction (internal/txn), after a backup of the files they replace.
// A first installation, where the target files do not exist yet, needs the
// CA certificates in o.CertDir.
//
// It runs as phases of the phase runner (phases.Run): "import/NAME" per
// certificate examines it in the check pass and stages it in the real
// pass; "import/install" commits the transaction.
//
// Refusals are in the result, not the error: the error means that nothing
// was installed. The caller must hold certctl's lock and have run
// txn.RecoverIn (node.Lock does both).
// The result is the ImportSummary without what Summary adds.
func Import(ctx context.Context, o ImportOptions) (*ImportSummary, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	var err error
	for _, d := range []*string{&o.CSRDir, &o.CertDir, &o.KubeconfigDir} {
		if *d, err = filepath.Abs(*d); err != nil {
			return nil, fmt.Errorf("resolve %s: %w", *d, err)
		}
	}
	if st, err := os.Stat(o.CSRDir); err != nil {
		return nil, fmt.Errorf("read the CSR folder: %w: %s", err, csrDirFix)
	} else if !st.IsDir() {
		return nil, fmt.Errorf("the CSR folder %s is not a folder: %s", o.CSRDir, csrDirFix)
	}
	// Names and files do not depend on the cluster's settings; with a
	// local etcd every target is looked for.
	inv := o.Inventory
	if inv == nil {
		inv = pki.Kubeadm()
	}
	// kubelet.conf, which renewal leaves to the kubelet, a first
	// installation with an external CA must provide.
	targets := append(renewal.Targets(inv, false), renewal.TargetOf(inv, pki.KubeletKubeconfig))
	leaves := leafDir(o.CSRDir, targets)
	// The keys installed are read from these folders.
	for _, d := range slices.Compact([]string{o.CSRDir, leaves}) {
		if err := phases.CheckCSRDirPrivate(d); err != nil {
			return nil, err
		}
	}
	im := &importer{o: o, leafDir: leaves, now: o.Now().UTC(), inv: inv, cas: map[string]*authority{},
		res: &ImportSummary{DryRun: o.DryRun}, known: map[string]bool{}, targets: targets}
	env := &phases.Env{Cluster: &config.Cluster{CertificatesDir: o.CertDir}, KubeconfigDir: o.KubeconfigDir,
		DryRun: o.DryRun, OwnPlan: true, Now: o.Now, Rand: o.Rand}
	if err := phases.Run(ctx, env, im.phases(targets)); err != nil {
		if im.partial {
			return im.res, err
		}
		return nil, err
	}
	return im.res, nil
}

// phases are the import as phases of the phase runner.
func (im *importer) phases(targets []renewal.Target) []phases.Phase {
	var ps []phases.Phase
	staged := map[string]*candidate{}
	for _, t := range targets {
		ps = append(ps, phases.Phase{Name: "import/" + t.Name, OwnErrors: true,
			Run: func(_ context.Context, env *phases.Env) error {
				if env.Checking() {
					if c := im.examineTarget(t); c != nil {
						staged[t.Name] = c
					}
				} else if c := staged[t.Name]; c != nil && !c.unchanged {
					im.files = append(im.files, c.files...)
					im.replaced = append(im.replaced, c.replaced...)
				}
				return nil
			}})
	}
	return append(ps, phases.Phase{Name: "import/install", OwnErrors: true,
		Run: func(_ context.Context, env *phases.Env) error {
			if env.Checking() {
				return im.check()
			}
			return im.install()
		}})
}

// examineTarget examines t and records what it found in the result; it
// returns t's candidate when it is to be installed.
func (im *importer) examineTarget(t renewal.Target) *candidate {
	res := im.res
	c, st, err := im.examine(t)
	file := im.csrFiles(t).Cert
	im.known[file] = true
	if c != nil {
		file = c.certFile
		im.known[file] = true
	}
	switch st {
	case pending:
		res.Pending = append(res.Pending, file)
		if other := lookalike(file); other != "" {
			im.elsewhere = append(im.elsewhere, lookalikeWarning(other, file))
		}
	case refused:
		res.Refused = append(res.Refused, Refused{Name: t.Name, File: file, Reason: err.Error()})
	case accepted:
		res.Warnings = append(res.Warnings, c.warnings...)
		res.Imported = append(res.Imported, Imported{Name: t.Name, From: file, Files: txn.Targets(c.files), NotAfter: c.cert.NotAfter.UTC(), Unchanged: c.unchanged, Restart: t.Restart})
		return c
	}
	return nil
}

// check lists the .crt files nobody examined and fails an import that
// found nothing to install (check pass).
func (im *importer) check() error {
	res, err := im.res, error(nil)
	if res.Ignored, err = ignored(im.o.CSRDir, im.leafDir, im.known, im.inv); err != nil {
		return err
	}
	im.elsewhere = append(im.elsewhere, im.misplaced(res.Ignored, res.Pending)...)
	res.Warnings = append(res.Warnings, im.elsewhere...)
	if im.o.DryRun {
		// What the real pass's transaction would remove (install).
		var files []string
		for _, i := range res.Imported {
			if !i.Unchanged {
				files = append(files, i.Files...)
			}
		}
		_, res.PrunedPendingKeys = apirenew.SupersededBy(im.o.CertDir, im.o.KubeconfigDir, im.targets, files)
	}
	if len(res.Imported) == 0 && len(res.Refused) == 0 {
		im.partial = true
		if len(res.Pending) > 0 && len(im.elsewhere) > 0 {
			return fmt.Errorf("no signed certificate in %s yet: %d CSR(s) wait for theirs (%s first); %s", im.o.CSRDir, len(res.Pending), res.Pending[0], im.elsewhere[0])
		}
		if len(res.Pending) > 0 {
			return fmt.Errorf("no signed certificate in %s yet: %d CSR(s) wait for theirs (%s first)", im.o.CSRDir, len(res.Pending), res.Pending[0])
		}
		return fmt.Errorf("no signed certificate in %s: put each certificate your CA signed as NAME.crt next to NAME.csr (see docs/external-ca.md)", im.o.CSRDir)
	}
	return nil
}

// install replaces the files the changed candidates staged, and backs up
// the ones they replace, in one transaction (real pass).
func (im *importer) install() error {
	if len(im.files) == 0 {
		return nil
	}
	// A pending key of --use-api of a certificate imported asks to renew
	// the one it replaces: removed in the same transaction, by the rule
	// of a renewal from the CAs on disk.
	superseded, pruned := apirenew.SupersededBy(im.o.CertDir, im.o.KubeconfigDir, im.targets, txn.Targets(im.files))
	var err error
	im.res.BackupDir, err = renewal.Install(im.o.CertDir, im.o.KubeconfigDir, txn.KindImport, im.now, im.o.Rand, im.replaced, slices.Concat(im.files, superseded), renewal.BackupNote{})
	if err != nil {
		return err
	}
	if im.res.PrunedPendingKeys = pruned; len(pruned) > 0 {
		apirenew.RemoveEmptyPendingDir(im.o.CertDir)
	}
	if im.o.KeepBackups <= 0 || im.res.BackupDir == "" {
		return nil
	}
	// The certificates are installed: a prune that fails is a warning,
	// not an error, which would say that nothing was.
	im.res.keep = im.o.KeepBackups
	// Those left (err says which) are not said to be removed.
	var damaged []renewal.Backup
	im.res.PrunedBackups, _, damaged, err = renewal.PruneBackupsAfter(im.o.CertDir, im.o.KeepBackups, im.res.BackupDir)
	for _, b := range damaged {
		im.res.Warnings = append(im.res.Warnings, renewal.NotPruned(b, im.o.KeepBackups))
	}
	if err != nil {
		im.res.Warnings = append(im.res.Warnings, fmt.Sprintf("--keep-backups %d: %v; remove the old backups by hand, or let the next import or renewal prune them", im.o.KeepBackups, err))
	}
	return nil
}

// ignored lists the .crt files of the CSR folder that Import did not look
// at, other than copies of the CA certificates (beside the certificates'
// CSRs, in leafDir, too), which the CA operator may well hand back with
// the others.
func ignored(csrDir, leafDir string, known map[string]bool, inv pki.Inventory) ([]string, error) {
	for _, e := range inv.Select(false, pki.KindCA) {
		known[pki.Store{Dir: csrDir}.CertPath(e.BaseName)] = true
		known[pki.Store{Dir: leafDir}.CertPath(e.BaseName)] = true
	}
	var out []string
	err := filepath.WalkDir(csrDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(path, ".crt") && !known[path] {
			out = append(out, path)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read the CSR folder: %w", err)
	}
	return out, nil
}
