package signer

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"time"

	certv1 "k8s.io/api/certificates/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/kubernetes"

	"github.com/certctl/certctl/internal/kubeclient"
	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/phases/expiration"
	"github.com/certctl/certctl/pki"
)

// Batch says which CSRs approve and deny act on and where they report.
type Batch struct {
	// Names are the CSRs, as kubectl certificate approve takes them; or,
	// when empty, the pending CSRs that `certctl renew --use-api` made on
	// node FromNode: those Of says are, and not those it cannot tell (an
	// error saying why), which are left alone, each with a line saying so.
	// Of names the certificate of the node a CSR is for, "" for a CSR of
	// another node (apirenew.FromNode). Of several pending CSRs for one
	// certificate, approve takes only the newest: `certctl renew --use-api`
	// made the others for a key it has replaced since (--new-request,
	// another key algorithm), so their certificates could never be
	// installed.
	Names    []string
	FromNode string
	Of       func(*certv1.CertificateSigningRequest) (string, error)
	DryRun   bool // a server-side dry run
	// Debugf prints what is read and decided (-v 2); nil: nothing.
	Debugf      func(format string, args ...any)
	Out, ErrOut io.Writer
}

func (b Batch) debugf(format string, args ...any) {
	if b.Debugf != nil {
		b.Debugf(format, args...)
	}
}

// names are the CSRs to act on: b.Names, or the pending ones of
// b.FromNode, which must be at least one. It prints a line for each CSR
// left alone, and returns how many.
func (b Batch) names(ctx context.Context, client kubernetes.Interface, verb string) ([]string, int, error) {
	if b.FromNode == "" {
		return b.Names, 0, nil
	}
	b.debugf("listing the pending CSRs of node %s", b.FromNode)
	csrs, certs, unclear, err := pendingOf(ctx, client, b.Of)
	if err != nil {
		return nil, 0, APIHint(err, "approver")
	}
	flags := ""
	if verb == "deny" {
		flags = " --reason REASON"
	}
	left := len(unclear)
	if verb == "approve" {
		var old []superseded
		csrs, old = newestPerCertificate(csrs, certs)
		for _, s := range old {
			if len(s.tied) > 0 {
				left++
				fmt.Fprintf(b.ErrOut, "[approve] CSR %s left alone: CSRs %s of node %s, all for its certificate %s, were created in the same second, and only the newest has the key the node keeps: approve by name the one `certctl renew --use-api` printed last, and deny the others\n", s.name, strings.Join(s.tied, ", "), b.FromNode, s.certificate)
				continue
			}
			fmt.Fprintf(b.ErrOut, "[approve] CSR %s left alone: CSR %s, created later on node %s for the same certificate %s, replaces it (`certctl renew --use-api` made it with a new key: --new-request, or another key algorithm), so its certificate could never be installed; deny it (certctl deny %s --reason Superseded)\n", s.name, s.by, b.FromNode, s.certificate, s.name)
		}
	}
	for _, u := range unclear {
		fmt.Fprintf(b.ErrOut, "[%s] CSR %s left alone: it may not be node %s's: %v; check it, and if it is, %s it by name (certctl %s %s%s)\n", verb, u.Name, b.FromNode, u.Why, verb, verb, u.Name, flags)
	}
	names := make([]string, len(csrs))
	for i, c := range csrs {
		names[i] = c.Name
	}
	if len(names) == 0 {
		if left > 0 {
			return nil, 0, fmt.Errorf("no pending CSR is certainly node %q's: %d left alone, each listed above", b.FromNode, left)
		}
		return nil, 0, fmt.Errorf("no pending CSR of node %q: `certctl renew --use-api` on it names them certctl-%s-CERTIFICATE-KEYHASH; check the name with kubectl get csr", b.FromNode, strings.ToLower(b.FromNode))
	}
	b.debugf("pending CSRs of node %s: %s", b.FromNode, strings.Join(names, ", "))
	return names, left, nil
}

// superseded is a pending CSR of a node for a certificate that a newer
// pending CSR of that node is for too (by), or that CSRs created in the
// same second are for (tied, itself among them).
type superseded struct {
	name, by, certificate string
	tied                  []string
}

// newestPerCertificate keeps, of the CSRs for one certificate (certs: a
// CSR's name -> its certificate), the
// one created last, and returns the others as superseded by it: `certctl
// renew --use-api` creates a CSR for a certificate again only with a new
// pending key, which replaces the old one. When the newest were created in
// the same second (creationTimestamp's precision), none of them is kept:
// each is returned with tied set. csrs keeps its order.
func newestPerCertificate(csrs []*certv1.CertificateSigningRequest, certs map[string]string) ([]*certv1.CertificateSigningRequest, []superseded) {
	byCert := map[string][]*certv1.CertificateSigningRequest{}
	for _, c := range csrs {
		if cert := certs[c.Name]; cert != "" {
			byCert[cert] = append(byCert[cert], c)
		}
	}
	drop := map[string]bool{}
	var out []superseded
	for cert, group := range byCert {
		if len(group) < 2 {
			continue
		}
		newest := slices.MaxFunc(group, func(a, b *certv1.CertificateSigningRequest) int {
			return a.CreationTimestamp.Compare(b.CreationTimestamp.Time)
		})
		var tied []string
		for _, c := range group {
			switch {
			case c.CreationTimestamp.Equal(&newest.CreationTimestamp):
				tied = append(tied, c.Name)
			default:
				drop[c.Name] = true
				out = append(out, superseded{name: c.Name, by: newest.Name, certificate: cert})
			}
		}
		if len(tied) > 1 {
			slices.Sort(tied)
			for _, n := range tied {
				drop[n] = true
				out = append(out, superseded{name: n, certificate: cert, tied: tied})
			}
		}
	}
	slices.SortFunc(out, func(a, b superseded) int { return strings.Compare(a.name, b.name) })
	return slices.DeleteFunc(csrs, func(c *certv1.CertificateSigningRequest) bool { return drop[c.Name] }), out
}

// each runs do on b's CSRs (Each): an error names the CSRs left alone,
// when some were, after the others were done.
func (b Batch) each(ctx context.Context, client kubernetes.Interface, verb, done string, do func(name string) error) error {
	names, unclear, err := b.names(ctx, client, verb)
	if err != nil {
		return err
	}
	err = Each(b.ErrOut, verb, done, names, do)
	if unclear > 0 {
		err = errors.Join(err, fmt.Errorf("%d CSR(s) named as node %s's left alone, each listed above: check them, and %s by name those that are", unclear, b.FromNode, verb))
	}
	return err
}

// Each runs do on every name, as kubectl certificate approve does: a CSR
// that fails does not stop the others. With one name its error is the
// command's; with several, each is printed on errOut and the error counts
// them.
func Each(errOut io.Writer, verb, done string, names []string, do func(name string) error) error {
	if len(names) == 1 {
		return do(names[0])
	}
	var failed []string
	for _, n := range names {
		if err := do(n); err != nil {
			fmt.Fprintf(errOut, "[%s] CSR %s not %s: %v\n", verb, n, done, err)
			failed = append(failed, n)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d CSR(s) not %s, each listed above with the reason: %s", len(failed), len(names), done, strings.Join(failed, ", "))
	}
	return nil
}

// ApproveAll approves b's CSRs with o, each after its checks, and says
// what it did with each.
func ApproveAll(ctx context.Context, client kubernetes.Interface, o ApproveOptions, b Batch) error {
	o.DryRun = b.DryRun
	return b.each(ctx, client, "approve", "approved", func(name string) error {
		res, err := Approve(ctx, client, name, o)
		if err != nil {
			return APIHint(err, "approver")
		}
		approved := outcome("approved", b.DryRun)
		switch {
		case res.AlreadyApproved:
			fmt.Fprintf(b.Out, "[approve] %s\n", alreadyApproved(res.CSR))
		case o.Force:
			fmt.Fprintf(b.ErrOut, "[warning] --force: the profile and requester checks were skipped; only the proof of possession was checked\n")
			fmt.Fprintf(b.Out, "[approve] CSR %s %s for signer %s (requested by %s)\n", name, approved, res.CSR.Spec.SignerName, oneLine(res.CSR.Spec.Username))
		default:
			fmt.Fprintf(b.Out, "[approve] CSR %s %s: it fits the %s certificate of signer %s (requested by %s, usages %s)\n",
				name, approved, res.Profile.Name, res.CSR.Spec.SignerName, oneLine(res.CSR.Spec.Username), UsageList(res.CSR.Spec.Usages))
		}
		return nil
	})
}

// alreadyApproved says that csr was approved before, not by this run, so
// that nothing was checked: by whom, as far as its Approved condition
// says (kubectl's "KubectlApprove", certctl's "CertctlApproved", ...),
// and who checks it before it is signed. certctl signer run and certctl
// sign apply the issuance policy to certctl's names and custom names at
// signing, whatever approved them; kube-controller-manager signs the
// kubernetes.io names as approved.
func alreadyApproved(csr *certv1.CertificateSigningRequest) string {
	by := "no reason given"
	for _, c := range csr.Status.Conditions {
		if c.Type == certv1.CertificateApproved {
			by = cmp.Or(oneLine(c.Reason), "no reason") + ": " + cmp.Or(oneLine(c.Message), "no message")
		}
	}
	var signed string
	switch {
	case len(csr.Status.Certificate) > 0:
		signed = "it is signed already"
	case IsCertctlName(csr.Spec.SignerName):
		signed = "certctl signer run and certctl sign check it again before they sign it"
	case strings.HasPrefix(csr.Spec.SignerName, "kubernetes.io/"):
		signed = "kube-controller-manager signs it as approved, without certctl's checks"
	default:
		signed = "certctl signer run and certctl sign apply the issuance policy before they sign it"
	}
	return fmt.Sprintf("CSR %s was already approved (%s), not by this command: nothing was checked or written; %s", csr.Name, by, signed)
}

// ApproveWith is `certctl approve`: unless o.Force, it reads the node's
// settings with load and builds the policy of rules from them; it then
// connects, learns the cluster's control-plane nodes when rules ask it
// (warning on warn when it cannot), and approves b (ApproveAll).
func ApproveWith(ctx context.Context, connect func() (kubernetes.Interface, error), load func() (*config.Cluster, error), rules NodeRules, o ApproveOptions, b Batch, warn io.Writer) error {
	if err := rules.Check(); err != nil {
		return err // before the settings, whose read can wait
	}
	o.Rules = rules.PolicyOptions.Rules()
	var cluster *config.Cluster
	if !o.Force {
		var err error
		if cluster, err = load(); err != nil {
			return err
		}
		if o.Policy, err = rules.Fixed(cluster); err != nil {
			return err
		}
	}
	client, err := connect()
	if err != nil {
		return err
	}
	if o.Policy, err = rules.Learn(ctx, client, o.Policy, cluster, warn); err != nil {
		return err
	}
	return ApproveAll(ctx, client, o, b)
}

// DenyAll denies b's CSRs with reason and message, and says what it did
// with each.
func DenyAll(ctx context.Context, client kubernetes.Interface, reason, message string, now time.Time, b Batch) error {
	return b.each(ctx, client, "deny", "denied", func(name string) error {
		already, err := Deny(ctx, client, name, reason, message, now, b.DryRun)
		if err != nil {
			return APIHint(err, "approver")
		}
		if already {
			fmt.Fprintf(b.Out, "[deny] CSR %s was already denied\n", name)
			return nil
		}
		fmt.Fprintf(b.Out, "[deny] CSR %s %s: %s\n", name, outcome("denied", b.DryRun), reason)
		return nil
	})
}

// outcome is done, or what a server-side dry run says instead.
func outcome(done string, dryRun bool) string {
	if dryRun {
		return "would be " + done + " (server-side dry run: nothing was stored)"
	}
	return done
}

// APIHint adds to an error from the API server what to do about it, for
// the commands that act on one CSR (approve, deny, sign): role is the RBAC
// role docs/signer.md gives them.
func APIHint(err error, role string) error {
	switch {
	case apierrors.IsForbidden(err):
		return fmt.Errorf("%w: the kubeconfig's user lacks the rights of the %s role: grant them as docs/signer.md shows, or pass --kubeconfig of a user who has them", err, role)
	case apierrors.IsUnauthorized(err):
		// A bare "Unauthorized": the API server says no more. An expired
		// client certificate is refused before connecting (kubeclient).
		return fmt.Errorf("%w: the API server did not accept the kubeconfig's credentials (a token expired or deleted, or a client certificate or token of another cluster): pass --kubeconfig with credentials of this cluster (on a control-plane node, %s)", err, filepath.Join(config.DefaultKubeconfigDir, pki.AdminKubeconfig))
	case apierrors.IsTooManyRequests(err) || apierrors.IsServiceUnavailable(err) || apierrors.IsServerTimeout(err) || apierrors.IsTimeout(err) || apierrors.IsInternalError(err):
		// client-go retried already, as long as the API server asked
		// (Retry-After): it is restarting, or overloaded.
		return fmt.Errorf("%w: the API server is busy or restarting: run the same command again in a minute", err)
	}
	// No answer, or a certificate that does not verify: advised once,
	// naming the kubeconfig.
	return kubeclient.Unanswered(err, "")
}

// UsageList formats API usages for messages.
func UsageList[T ~string](us []T) string {
	s := make([]string, len(us))
	for i, u := range us {
		s[i] = string(u)
	}
	return strings.Join(s, ", ")
}

// SignFiles are `certctl sign`'s CA files and signing configuration.
type SignFiles struct {
	CACert, CAKey   string
	Config, Profile string // cfssl-style signing configuration, and a profile of it
	DryRun          bool
	// Force is the --force of old: certctl never signs a CSR that is not
	// approved (issue 13), so SignWith refuses it, saying what to do.
	Force bool
	// CertDir is the node's certificate folder (--cert-dir): a custom
	// signer name is never signed with one of its CAs, which the control
	// plane trusts (as signer run's checkCustomCA). For certctl's names
	// the folder of the node's settings (load) is used instead.
	CertDir     string
	Now         time.Time
	Out, ErrOut io.Writer
}

// SignWith signs CSR name with f's CA (`certctl sign`), connecting with
// newClient once the files are read, and says what it issued. A CSR of
// certctl's signer names must fit a control-plane certificate of the nodes
// that load and rules give, as for approve (ApproveWith); they are read
// only for such a CSR.
func SignWith(ctx context.Context, newClient func() (kubernetes.Interface, error), load func() (*config.Cluster, error), rules NodeRules, name string, f SignFiles) error {
	if f.Force {
		return fmt.Errorf("--force is gone: certctl never signs an unapproved CSR; approve it first (certctl approve %s, or kubectl certificate approve %s)", name, name)
	}
	if f.Profile != "" && f.Config == "" {
		return fmt.Errorf("--profile names a profile of --signing-config: pass --signing-config too")
	}
	if err := rules.Check(); err != nil {
		return err // before the CA, the CSR and the settings
	}
	ca, err := LoadCA(f.CACert, f.CAKey, f.Now, true)
	if err != nil {
		return err
	}
	var prof *SigningProfile
	if f.Config != "" {
		if prof, err = LoadSigningConfig(f.Config, f.Profile); err != nil {
			return err
		}
	}
	client, err := newClient()
	if err != nil {
		return err
	}
	certDir := f.CertDir // the node's certificate folder; load's once it has run
	var validity time.Duration
	controlPlane := func(ctx context.Context) (*Policy, error) {
		cluster, err := load()
		if err != nil {
			return nil, err
		}
		certDir, validity = cluster.CertificatesDir, cluster.CertificateValidity
		p, err := rules.Fixed(cluster)
		if err != nil {
			return nil, err
		}
		return rules.Learn(ctx, client, p, cluster, f.ErrOut)
	}
	pr := rules.PolicyOptions
	res, err := Sign(ctx, client, name, SignOptions{CA: ca, Profile: prof, DryRun: f.DryRun, ControlPlane: controlPlane,
		Rules:   pr.Rules(),
		CertDir: func() string { return certDir }, CertificateValidity: func() time.Duration { return validity }})
	if err != nil {
		return APIHint(err, "manual signer")
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(f.ErrOut, "[warning] %s\n", w)
	}
	c := res.Certificate
	fmt.Fprintf(f.Out, "[sign] CSR %s (signer %s) %s by %q: %s, SANs %s, valid until %s\n",
		name, res.CSR.Spec.SignerName, outcome("signed", f.DryRun), ca.Cert.Subject.CommonName, oneLine(expiration.Subject(c)), oneLine(expiration.SANs(c)), c.NotAfter.UTC().Format(time.RFC3339))
	return nil
}

// oneLine is s on one line (pki.OneLine): a requester's name as its
// authenticator gave it (an OIDC claim, a client certificate's CN) may
// hold a line break, which would forge a line of approve's output.
func oneLine(s string) string { return pki.OneLine(s) }
