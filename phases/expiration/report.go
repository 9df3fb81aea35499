package expiration

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/certctl/certctl/internal/atomicfile"
	"github.com/certctl/certctl/internal/exitcode"
	"github.com/certctl/certctl/internal/output"
	"github.com/certctl/certctl/manifests/staticpods"
	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/phases/node"
	"github.com/certctl/certctl/pki"
)

// restartHint says how to do the restarts still owed, with the folder
// flags given and the manifest folder of the owed restarts, so that the
// command works as printed: without them it would act on /etc/kubernetes;
// and the record files to remove after a restart by hand (records, which
// may lie beside another name of the certificate folder).
func restartHint(folderFlags, manifestDir string, records []string) string {
	if manifestDir != "" && manifestDir != staticpods.DefaultManifestDir {
		folderFlags += " --manifest-dir " + output.ShellQuote(manifestDir)
	}
	remove := ".certctl-restarts.json beside the certificate folder"
	if len(records) > 0 {
		remove = strings.Join(records, " and ")
	}
	return "retry with `certctl renew all --if-expires-within 720h --restart-control-plane" + folderFlags + "` (it retries owed restarts even when nothing is due), or restart them yourself and remove " + remove + " (docs/cron.md)"
}

// staleTextfileAge is how much older than the --textfile just written a
// temporary file of its name must be to be taken for a killed run's: a
// write under way (another check-expiration at the same time) takes
// milliseconds.
const staleTextfileAge = time.Minute

// Report is `certctl check-expiration`: it checks the node as o says,
// reading it consistently (node.Read), writes the report in format to out,
// and returns the problems, then the expiries, as exit statuses
// (exitcode.Problems, exitcode.ExpiringSoon).
func Report(ctx context.Context, o Options, format string, out, errOut io.Writer) error {
	var info *Info
	err := node.Read(ctx, errOut, o.CertDir, []string{o.KubeconfigDir}, func() (err error) {
		info, err = Check(o)
		return err
	})
	if err != nil {
		return err
	}
	// As renew all: some missing files are kubeadm's !MISSING! rows (an
	// external etcd, super-admin.conf on the other control-plane nodes),
	// none at all is the wrong folders, or every file gone.
	var none error
	if info.NoneExists() {
		none = noneExists("check", len(info.Certificates)+len(info.CertificateAuthorities), o.CertDir, o.KubeconfigDir)
		// A cron job's --textfile kept the last good check's metrics
		// (every file there) until CertctlCheckStale, a warning, fired
		// two hours later; and a wrong folder from the start set off
		// nothing certificate-related.
		info.Folders = append(info.Folders, Folder{Name: "cert-dir", File: o.CertDir, Problems: []Problem{{Type: NoFiles, Message: none.Error()}}})
	}
	// A missing folder is an error, after the metrics: they say what is
	// missing, for the alerts (monitoring.md) to fire at once.
	missingDir := cmp.Or(none, config.MissingFolder(o.CertDir, o.KubeconfigDir))
	if o.Textfile != "" {
		var buf bytes.Buffer
		if err := WriteMetrics(&buf, info); err != nil {
			return err
		}
		// Readable by node_exporter's user; written whole or not at all, so
		// that the collector never reads half a file.
		if err := atomicfile.WriteFile(o.Textfile, buf.Bytes(), 0o644); err != nil {
			if errors.Is(err, syscall.ENOSPC) { // atomicfile says what to do
				return fmt.Errorf("--textfile: %w", err)
			}
			return fmt.Errorf("--textfile: %w; check that its folder exists and is writable", err)
		}
		// What a killed run left beside it (a dot-file, which the
		// collector skips) would pile up there, one per kill.
		atomicfile.RemoveStale(o.Textfile, staleTextfileAge)
		// The collector reads *.prom only: another name is never scraped.
		if !strings.HasSuffix(o.Textfile, ".prom") {
			fmt.Fprintf(errOut, "[warning] %s: node_exporter's textfile collector reads only files named *.prom: name it, e.g., certctl.prom\n", o.Textfile)
		}
	}
	if missingDir != nil {
		return missingDir
	}
	if err := Write(out, info, format); err != nil {
		return err
	}
	if err := ProblemsError(info.Problems(), format); err != nil {
		return err
	}
	if owed := info.RestartsOwed; len(owed) > 0 {
		names := make([]string, len(owed))
		for i, r := range owed {
			names[i] = fmt.Sprintf("%s (since %s)", r.Component, r.Since.Format(time.RFC3339))
		}
		return &exitcode.Error{Code: exitcode.RestartOwed, Err: fmt.Errorf("%d restart(s) owed: %s still use the old certificates; %s", len(owed), strings.Join(names, ", "), info.restartHint)}
	}
	if soon := info.ExpiringSoon(); len(soon) > 0 {
		names := make([]string, len(soon))
		for i, c := range soon {
			names[i] = fmt.Sprintf("%s (%s)", c.Name, c.File)
		}
		when := "have expired"
		if o.WarnWithin > 0 {
			when = fmt.Sprintf("expire within %v or have expired", o.WarnWithin)
		}
		// Only what renew renews is sent to it: not the kubelet's, nor
		// etcd.external's files (NotRenewed).
		var hints []string
		if slices.ContainsFunc(soon, func(c Certificate) bool { return c.NotRenewed == "" && c.Name != pki.KubeletKubeconfig }) {
			hints = append(hints, "renew them with `certctl renew` (CAs: see docs/renew.md)")
		}
		if slices.ContainsFunc(soon, func(c Certificate) bool { return c.Name == pki.KubeletKubeconfig }) {
			hints = append(hints, "kubelet.conf's is the kubelet's to rotate: check that its certificate rotation works (rotateCertificates, the kubelet's CSRs)")
		}
		if i := slices.IndexFunc(soon, func(c Certificate) bool { return c.NotRenewed != "" }); i >= 0 {
			hints = append(hints, soon[i].NotRenewed)
		}
		return &exitcode.Error{Code: exitcode.ExpiringSoon, Err: fmt.Errorf("%d certificate(s) %s: %s; %s", len(soon), when, strings.Join(names, ", "), strings.Join(hints, "; "))}
	}
	return nil
}

// ProblemsError is the error of a check that found problems: the first,
// and how many more, with status Problems, and where the others are: the
// text formats list them above it (exitcode.OfProblems), -o json and yaml
// in the problems fields they print, and -o jsonpath and prometheus print
// no list of them.
func ProblemsError(problems []string, format string) error {
	f, _ := output.Parse(format, "prometheus") // Write checked it
	switch {
	case len(problems) < 2, f.Name == "text", f.Name == "wide":
		return exitcode.OfProblems(problems)
	case f.Name == "json", f.Name == "yaml":
		return &exitcode.Error{Code: exitcode.Problems, Err: fmt.Errorf("%s (and %d more problem(s), in the problems fields of the output)", problems[0], len(problems)-1)}
	}
	return &exitcode.Error{Code: exitcode.Problems, Err: fmt.Errorf("%s (and %d more problem(s): certctl check-expiration (without -o) lists them)", problems[0], len(problems)-1)}
}

// noneExists is the error of a report or list that found none of its n
// files: the folders are not the node's, and all MISSING would read as
// all well to a script that ignores those rows.
func noneExists(verb string, n int, certDir, kubeconfigDir string) error {
	return fmt.Errorf("none of the %d certificates, kubeconfig files and CAs to %s exists in %s or %s: point --cert-dir (or certificatesDir in --config) and --kubeconfig-dir at the node's folders",
		n, verb, certDir, kubeconfigDir)
}
