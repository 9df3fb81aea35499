package renewal

import (
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/certctl/certctl/internal/txn"
	"github.com/certctl/certctl/phases"
	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/pki"
	"github.com/certctl/certctl/pki/policy"
)

// backdate is kubeadm's CertificateBackdate: renewal starts certificates
// 5 minutes in the past, as kubeadm's RenewUsingLocalCA does.
const backdate = config.CertificateBackdate

// Options configure Renew. CertDir, KubeconfigDir and Rand are required.
type Options struct {
	CertDir       string // the certificate folder (certificatesDir)
	KubeconfigDir string // the folder of admin.conf and the other kubeconfig files
	// TxnKind is the kind of the transaction (txn.Kind...): "" for a
	// renewal, txn.KindRotation for a CA rotation's re-issue.
	TxnKind string

	// KeyAlgorithm of the new keys. Empty keeps each certificate's current
	// algorithm, which is what a node made with another encryptionAlgorithm
	// needs when no --config is given; kubeadm would read the algorithm from
	// the cluster's kubeadm-config ConfigMap instead.
	KeyAlgorithm pki.KeyAlgorithm
	// Validity of the new certificates; config.DefaultCertificateValidity
	// when zero. It is cut to the signing CA's expiry.
	Validity time.Duration
	// KeepValidity gives each certificate its current validity period
	// instead (NotAfter − NotBefore − the backdate; Validity when that is
	// not positive): the settings were derived from the certificates,
	// which do not record the cluster's certificateValidityPeriod.
	KeepValidity bool
	// KeepAbove is the shortest validity KeepValidity keeps: a cron
	// renewal's --if-expires-within, since a certificate valid for less
	// would be renewed at every run.
	KeepAbove time.Duration
	// ReuseKey signs the current public key again instead of a new one; the
	// key file is then left untouched.
	ReuseKey bool
	// SANs, by target name, gives those certificates the SANs of the
	// configuration's profile (renew --update-sans) instead of their
	// current ones. A SAN the current certificate has that the profile
	// lacks is refused, unless DropSANs.
	SANs     map[string]pki.Profile
	DropSANs bool
	// SkipMissing reports a target whose file does not exist as missing
	// (renew all); otherwise it is an error (a named target).
	SkipMissing bool
	// SkipExternal reports a target whose CA key is not on disk (an
	// external CA) as external (renew all) instead of failing the run: the
	// others are renewed. Without an Issuer only.
	SkipExternal bool
	// NoBackup skips copying the old files into BackupRoot.
	NoBackup bool
	// Issuer, when set, provides the new certificates and keys (see
	// Issuer) instead of the CA keys on disk, which then need not exist.
	// What it returns is checked with pki.VerifyIssued before anything is
	// written. ReuseKey does not apply.
	Issuer Issuer

	// CAs, by CA name ("ca"), are the CAs that sign instead of the files
	// of the certificate folder: a CA rotation (phases/carotate) re-issues
	// with the new CA in the same transaction that puts it in place. A
	// current certificate may then be signed by any certificate of the
	// CA's Bundle (the old CA), and a kubeconfig's CA data becomes Bundle.
	CAs map[string]*pki.LoadedCA
	// Extra files are written in the same transaction as the renewed
	// ones (a CA rotation's CA files and stage record), also when no
	// target is renewed; those that exist in CertDir or KubeconfigDir are
	// backed up with the rest.
	Extra []txn.File
	// ExtraFor, when set, is given the files that will be replaced once
	// they are known (Renew: at the end of its check pass, the Files of
	// Result.Planned; Restore: RestoreResult.Restored), and returns more
	// files to write as Extra: what depends on them, such as the record of
	// the restarts they will owe (phases/renew). Unlike Extra, they are
	// not backed up: a record of what the transaction does, restored with
	// the files it replaced, would put back what it said before. Its error
	// fails the run, nothing written.
	ExtraFor func(replaced []string) ([]txn.File, error)
	// records are the targets of the files ExtraFor returned.
	records []string
	// Note goes into the backup: what made it and undoes it, when
	// restoring it would not (a CA rotation's stage).
	Note BackupNote

	// DryRun reads and checks everything as a renewal does, including
	// what the commit would refuse, and returns the plan (Result.Planned):
	// no key is made, nothing is asked of the issuer, nothing is written.
	DryRun bool
	// IssuedBy, with DryRun and no Issuer, names what would issue each
	// target (Planned.Issuer) when that is not the CAs on disk, whose
	// keys then need not be here, as with an Issuer: a dry run of
	// --use-api plans with the signer of each certificate and needs no
	// client, since it asks nothing of the certificates API.
	IssuedBy func(Target) string

	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Rand is the source of randomness for keys, serials and signatures. It
	// must be safe for concurrent use (crypto/rand.Reader is).
	Rand io.Reader
	// Out receives progress lines; io.Discard when nil.
	Out io.Writer
	// Warn receives warning lines, as every certctl command prints them
	// on stderr (issue 14, item 9); Out when nil.
	Warn io.Writer
}

// Renewed is one renewed certificate.
type Renewed struct {
	Target
	Files    []string // the files replaced: certificate and key, or the kubeconfig
	NotAfter time.Time
	Capped   bool // NotAfter was cut to the CA's expiry
}

// Planned is a certificate that Renew would renew, with DryRun.
type Planned struct {
	Target
	Files  []string // the files it would replace: certificate and key, or the kubeconfig
	Issuer string   // what would issue it: "the CA /etc/kubernetes/pki/ca.crt", or the Issuer's String()
	// NotAfter is the end of the validity it would be issued (or, from
	// another issuer, asked) for; Capped, that it is cut to its CA's expiry.
	NotAfter time.Time
	Capped   bool
	// KeyAlgorithm is the algorithm of the key it would get: the new
	// key's, or the current one's with ReuseKey.
	KeyAlgorithm pki.KeyAlgorithm
}

// Result is what Renew did.
type Result struct {
	// Planned is what a renewal would renew, with DryRun; Renewed is then
	// empty.
	Planned []Planned
	// Unwritable, with DryRun, is what the real run's check of the files
	// it would write refuses (txn.Check: a read-only file system, an
	// immutable file): it would fail with it before writing anything.
	// Planned is set all the same, so that the plan can be read where it
	// cannot be carried out.
	Unwritable error
	Renewed    []Renewed
	Missing    []Target // skipped: their file does not exist
	// External are skipped with SkipExternal: their CA key is not on disk,
	// so only --use-api or --use-csr can renew them.
	External []External
	// BackupDir holds the old files; "" when nothing was renewed or with
	// NoBackup.
	BackupDir string
	// Warnings were also written to Options.Out.
	Warnings []string
}

// Renew renews targets from the CAs in o.CertDir, or with o.Issuer, as
// phases of the phase runner (phases.Run; see Phases): in its check pass
// every file is read and checked, and that it can be replaced (not a
// symbolic link, not immutable, in a folder certctl may write, see
// txn.Check), so that a bad file anywhere fails the run before any key is
// made or any file written; with DryRun it stops there and returns the
// plan. In the real pass the new keys are generated on every core, each
// certificate is obtained from the issuer and checked, and the old files
// (into the backup) and new ones replaced in one transaction.
//
// The caller must hold certctl's lock (internal/lock) and
// have run txn.RecoverIn (cmd does both for every command).
func Renew(ctx context.Context, targets []Target, o Options) (*Result, error) {
	if err := o.setDefaults(); err != nil {
		return nil, err
	}
	if o.external() && o.ReuseKey {
		return nil, fmt.Errorf("renewal: an issuer makes new keys: ReuseKey does not apply")
	}
	if o.IssuedBy != nil && (o.Issuer != nil || !o.DryRun) {
		return nil, fmt.Errorf("renewal: IssuedBy only plans: it goes with DryRun and no Issuer")
	}
	e := newEngine(targets, &o)
	defer func() {
		for _, p := range e.pools {
			p.Close() // drops the keys not taken
		}
	}()
	env := &phases.Env{
		Cluster:       &config.Cluster{CertificatesDir: o.CertDir},
		KubeconfigDir: o.KubeconfigDir,
		DryRun:        o.DryRun,
		OwnPlan:       true,
		Now:           o.Now,
		Rand:          o.Rand,
		Out:           o.Out,
	}
	if err := phases.Run(ctx, env, e.Phases()); err != nil {
		return nil, err
	}
	return e.res, nil
}

// engine is one renewal, as phases: "renew/NAME" per target, which plans
// it in the check pass and obtains and stages it in the real pass, and a
// last "renew/install", which checks the whole plan in the check pass and
// commits the transaction in the real pass.
type engine struct {
	planner // reads and checks each target in the check pass (plan)
	targets []Target
	// pools make the new keys, one KeyPool per algorithm, so that the
	// keys, which take most of a renewal's time, are made on every core
	// while the rest of the work goes on.
	pools  map[pki.KeyAlgorithm]*pki.KeyPool
	issuer Issuer
	issued map[string]Issued // by target name, once the first stage obtained them
	// backupDir is the backup's folder ("" for none), whose files go
	// first in files, the transaction.
	backupDir string
	files     []txn.File
	res       *Result
}

// newEngine starts, when the algorithm is configured, a pool of one key
// per target at once, so that key generation also overlaps with reading
// and checking the files; a target found missing leaves a key unused.
// Otherwise the algorithms are known only once the keys are read, and
// check starts the pools.
func newEngine(targets []Target, o *Options) *engine {
	now := o.Now().UTC()
	e := &engine{
		planner: newPlanner(o, now),
		targets: targets,
		pools:   map[pki.KeyAlgorithm]*pki.KeyPool{},
		res:     &Result{},
	}
	if !o.ReuseKey && !o.external() && !o.DryRun && o.KeyAlgorithm != "" && len(targets) > 0 {
		e.pools[o.KeyAlgorithm] = pki.NewKeyPool(o.Rand, o.KeyAlgorithm, len(targets), runtime.GOMAXPROCS(0))
	}
	return e
}

// Phases are the engine's phases, in the order phases.Run runs them.
func (e *engine) Phases() []phases.Phase {
	ps := make([]phases.Phase, 0, len(e.targets)+1)
	for _, t := range e.targets {
		ps = append(ps, phases.Phase{Name: "renew/" + t.Name,
			OwnErrors: true,
			Run: func(ctx context.Context, env *phases.Env) error {
				if env.Checking() {
					return e.plan(t)
				}
				return e.stage(ctx, t)
			}})
	}
	return append(ps, phases.Phase{Name: "renew/install",
		OwnErrors: true,
		Run: func(ctx context.Context, env *phases.Env) error {
			if env.Checking() {
				return e.check()
			}
			return e.install()
		}})
}

// check reports what planning skipped and warns, then checks that the
// commit can replace every file, and with DryRun records the plan (check
// pass, after every target's plan).
func (e *engine) check() error {
	o, res := e.o, e.res
	res.Missing, res.External = e.missing, e.external
	for _, t := range res.Missing {
		fmt.Fprintf(o.Out, "MISSING! %s: %s not found, skipped\n", t.LongName, t.File(o.CertDir, o.KubeconfigDir))
	}
	for _, x := range res.External {
		fmt.Fprintf(o.Out, "EXTERNAL CA! %s: its CA key %s is not on this node, skipped: renew it with --use-api or --use-csr\n", x.LongName, x.CAKey)
	}
	weakCAs, looseCAs := map[string]bool{}, map[string]bool{}
	for _, it := range e.items {
		if err := policy.Key("the key of CA certificate "+it.ca.certPath, it.ca.Cert.PublicKey, false); err != nil && !weakCAs[it.ca.certPath] {
			weakCAs[it.ca.certPath] = true
			res.warnf(o.Warn, "%v: what it signs is no stronger; rotate the CA (certctl ca rotate %s%s, docs/ca-rotation.md)", err, it.ca.name, config.FolderFlags(o.CertDir, o.KubeconfigDir))
		}
		if w := it.ca.LooseKey(); w != "" && !looseCAs[it.ca.KeyFile] {
			looseCAs[it.ca.KeyFile] = true
			res.warnf(o.Warn, "%s", w)
		}
		if it.anyUsage() {
			res.warnf(o.Warn, `%s has the extended key usage "any", which no certctl signer issues: its renewal has %s`, it.path, usageNames(it.profile().ExtKeyUsages))
		}
		if it.capped {
			res.warnf(o.Warn, "%s would outlive its CA %s: its validity is cut to the CA's expiry, %s", it.path, it.ca.certPath, it.ca.Cert.NotAfter.UTC().Format(time.RFC3339))
		}
		if kf := it.keyFile(it); loose(kf) {
			res.warnf(o.Warn, "%s holds a private key but is mode %04o: it is written 0600", kf.path, kf.mode.Perm())
		}
		if o.ReuseKey && o.KeyAlgorithm != "" && pki.AlgorithmOf(it.oldKey.Public()) != o.KeyAlgorithm {
			res.warnf(o.Warn, "--reuse-key keeps the %s key of %s, not a %s one", it.alg, it.path, o.KeyAlgorithm)
		}
	}
	var replaced []string
	for _, it := range e.items {
		replaced = append(replaced, paths(it.replaced(it, o.ReuseKey))...)
	}
	if err := o.addExtraFor(replaced); err != nil {
		return err
	}
	if len(e.items) == 0 && len(o.Extra) == 0 {
		return nil
	}
	if !o.NoBackup {
		var err error
		if e.backupDir, e.files, err = planBackup(e.now, *o, e.items); err != nil {
			return err
		}
	}
	// What the commit would refuse (an immutable file, a read-only
	// folder), refused before keys are made or CSRs sent: the backup's
	// files, each item's certificate or kubeconfig, and key unless
	// ReuseKey, then the extra files.
	err := txn.Check(slices.Concat(txn.Targets(e.files), replaced, txn.Targets(o.Extra)))
	if err != nil && !o.DryRun {
		return fmt.Errorf("%w; nothing was changed", err)
	}
	e.files = append(e.files, o.Extra...)
	if o.DryRun {
		res.Planned, res.Unwritable = planned(e.items, o), err
		return nil
	}
	if e.issuer = o.Issuer; e.issuer != nil {
		return nil
	}
	e.issuer = e
	count := map[pki.KeyAlgorithm]int{}
	for _, it := range e.items {
		count[it.alg]++
	}
	for alg, n := range count {
		if e.pools[alg] == nil && !o.ReuseKey {
			e.pools[alg] = pki.NewKeyPool(o.Rand, alg, n, runtime.GOMAXPROCS(0))
		}
	}
	return nil
}

// stage adds the files that install t's new certificate to the
// transaction (real pass), and the removal of the files the issuer
// gives with it (Issued.Remove). The first stage asks the issuer for every
// certificate at once (the certificates API issues a batch of CSRs in the
// time of one) and checks them all before any is staged.
func (e *engine) stage(ctx context.Context, t Target) error {
	it := e.byName[t.Name]
	if it == nil {
		return nil // missing, or external: reported by check
	}
	if e.issued == nil {
		var err error
		if e.issued, err = obtain(ctx, e.issuer, e.items, e.o, e.now); err != nil {
			return err
		}
	}
	is := e.issued[t.Name]
	key := is.Key
	if e.o.ReuseKey {
		key = nil // the key file stays as it is
	}
	files, err := it.write(it, is.Cert, key)
	if err != nil {
		return fmt.Errorf("renew %s: %w", t.Name, err)
	}
	for _, f := range is.Remove {
		if !f.Remove {
			return fmt.Errorf("renew %s: the issuer gave %s to remove, but as a file to write; nothing was replaced", t.Name, f.Target)
		}
	}
	e.files = append(e.files, files...)
	e.files = append(e.files, is.Remove...)
	e.res.Renewed = append(e.res.Renewed, Renewed{Target: it.Target, Files: txn.Targets(files), NotAfter: is.Cert.NotAfter, Capped: it.capped})
	return nil
}

// install commits the staged files, with the backup, in one transaction
// (real pass).
func (e *engine) install() error {
	if len(e.items) == 0 && len(e.o.Extra) == 0 {
		return nil
	}
	// The backup's and extra files were added first (check), the renewed
	// ones after: the order files are renamed in does not matter to a
	// transaction.
	if err := txn.WriteAllKind(e.o.CertDir, e.o.TxnKind, e.now, e.o.Rand, e.files); err != nil {
		e.res.Renewed = nil
		return err
	}
	e.res.BackupDir = e.backupDir
	return nil
}

// planned is what Renew would renew, and with which issuer.
func planned(items []*item, o *Options) []Planned {
	out := make([]Planned, len(items))
	for i, it := range items {
		out[i] = Planned{Target: it.Target, Files: paths(it.replaced(it, o.ReuseKey)), Issuer: "the CA " + it.ca.certPath,
			NotAfter: it.v.NotAfter, Capped: it.capped, KeyAlgorithm: it.alg}
		if s, ok := o.Issuer.(fmt.Stringer); ok {
			out[i].Issuer = s.String()
		} else if o.IssuedBy != nil {
			out[i].Issuer = o.IssuedBy(it.Target)
		}
	}
	return out
}

// addExtraFor adds to Extra the files ExtraFor returns for replaced.
func (o *Options) addExtraFor(replaced []string) error {
	if o.ExtraFor == nil {
		return nil
	}
	more, err := o.ExtraFor(replaced)
	if err != nil {
		return err
	}
	o.Extra = slices.Concat(o.Extra, more)
	o.records = append(o.records, txn.Targets(more)...)
	return nil
}

// external reports whether the certificates come from elsewhere than the
// CA keys on disk: an Issuer, or in a dry run what IssuedBy names.
func (o *Options) external() bool { return o.Issuer != nil || o.IssuedBy != nil }

func (o *Options) setDefaults() error {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Warn == nil {
		o.Warn = o.Out
	}
	if o.Validity == 0 {
		o.Validity = config.DefaultCertificateValidity
	}
	var err error
	if o.CertDir, err = filepath.Abs(o.CertDir); err != nil {
		return fmt.Errorf("resolve %s: %w", o.CertDir, err)
	}
	if o.KubeconfigDir, err = filepath.Abs(o.KubeconfigDir); err != nil {
		return fmt.Errorf("resolve %s: %w", o.KubeconfigDir, err)
	}
	return nil
}

// Issue is the Issuer of the CAs on disk, Renew's without Options.Issuer:
// it signs a request with the key of its CA, which the planner read, for a
// new key from the pools (the current one with ReuseKey), with the
// validity the planner cut to the CA's expiry.
func (e *engine) Issue(ctx context.Context, reqs []Request) ([]Issued, error) {
	out := make([]Issued, len(reqs))
	for i, r := range reqs {
		it := e.byName[r.Name]
		key := it.oldKey
		if !e.o.ReuseKey {
			var err error
			if key, err = e.pools[it.alg].Get(ctx); err != nil {
				return nil, fmt.Errorf("renew %s: generate %s key: %w", it.Name, it.alg, err)
			}
		}
		cert, err := pki.Sign(e.o.Rand, r.Profile, key.Public(), it.ca.Cert, it.ca.Key, it.v)
		if err != nil {
			return nil, fmt.Errorf("renew %s: %w", it.Name, err)
		}
		out[i] = Issued{Cert: cert, Key: key}
	}
	return out, nil
}

func (r *Result) warnf(out io.Writer, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	r.Warnings = append(r.Warnings, msg)
	fmt.Fprintln(out, "[warning] "+msg)
}

// validityOf is the validity to give old's successor (see KeepValidity):
// old's own period, else Validity, whichever first is longer than
// KeepAbove, else kubeadm's default. ca is the CA that signed old, which
// during a CA rotation is not the one that signs its successor: a
// certificate that ends when its CA does was cut to the CA's expiry, and
// its period says nothing of the cluster's. Nor does the span of one that
// starts when its CA does: kubeadm's kubeconfig phase starts a client
// certificate at its CA's NotBefore and ends it a period after it was
// made, so on a node that joined months after the CA was made that span is
// those months longer than the cluster's period, and each renewal would
// keep it. kubeadm's init starts every certificate with its CA, and its
// span is then the period that Validity (apiserver.crt's) already says.
// The period is rounded to the hour, as validity periods are set.
func (o *Options) validityOf(old, ca *x509.Certificate) time.Duration {
	if !o.KeepValidity {
		return o.Validity
	}
	var own time.Duration
	if ca == nil || !old.NotBefore.Equal(ca.NotBefore) && old.NotAfter.Before(ca.NotAfter.Add(-time.Minute)) {
		own = (old.NotAfter.Sub(old.NotBefore) - backdate).Round(time.Hour)
	}
	for _, v := range []time.Duration{own, o.Validity} {
		if v > o.KeepAbove {
			return v
		}
	}
	return config.DefaultCertificateValidity
}

// usageNames spells extended key usages as certificates.k8s.io/v1 does
// ("server auth, client auth"); "none" for none.
func usageNames(us []x509.ExtKeyUsage) string {
	if len(us) == 0 {
		return "none"
	}
	names := make([]string, len(us))
	for i, u := range us {
		names[i] = pki.UsageName(u)
	}
	return strings.Join(names, ", ")
}
