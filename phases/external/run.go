package external

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/certctl/certctl/internal/exitcode"
	"github.com/certctl/certctl/internal/output"
	"github.com/certctl/certctl/phases/node"
)

// RunImport is `certctl certs import`: under the lock (waiting up to wait),
// after recovery, it imports as o says, writes the summary to out in f
// (text lines, or ImportSummary), and returns exitcode.ImportRefused when
// a certificate was refused. A dry run
// takes no lock and writes nothing: it reads the files consistently
// (node.DryRun) and reports what would replace those in force.
//
// With -o json, yaml or jsonpath the summary is printed also when the
// import fails before it has one (no --csr-dir, a CSR folder that cannot
// be read, the lock held): docs/external-ca.md promises one document after
// an error, which a script reads for its exitCode and error.
func RunImport(ctx context.Context, o ImportOptions, f output.Format, wait time.Duration, out, errOut io.Writer) error {
	w := &output.CountingWriter{W: out}
	// The summary's status is the process's (a SIGTERM's, 143).
	err := exitcode.WithSignal(ctx, runImportLocked(ctx, o, f, wait, w, errOut))
	if err != nil && w.N == 0 && f.Structured() {
		return cmp.Or((&ImportSummary{DryRun: o.DryRun}).Print(out, f, err), err)
	}
	return err
}

func runImportLocked(ctx context.Context, o ImportOptions, f output.Format, wait time.Duration, out, errOut io.Writer) error {
	if o.CSRDir == "" {
		return fmt.Errorf("--csr-dir is required: the folder with the CSRs and the certificates your CA signed")
	}
	if o.KeepBackups < 0 {
		return fmt.Errorf("--keep-backups %v must not be negative", o.KeepBackups)
	}
	if o.DryRun {
		return node.DryRun(ctx, errOut, out, o.CertDir, []string{o.KubeconfigDir}, true, func(w io.Writer) error {
			return runImport(ctx, o, f, w)
		})
	}
	release, err := node.Lock(ctx, errOut, o.CertDir, wait, o.KubeconfigDir)
	if err != nil {
		return err
	}
	defer release()
	return runImport(ctx, o, f, out)
}

func runImport(ctx context.Context, o ImportOptions, f output.Format, out io.Writer) error {
	text := !f.Structured()
	if text {
		fmt.Fprintf(out, "[import] Importing from %q into certificate folder %q and kubeconfig folder %q\n", o.CSRDir, o.CertDir, o.KubeconfigDir)
	}
	res, err := Import(ctx, o)
	err = exitcode.WithSignal(ctx, err)
	if err == nil && len(res.Refused) > 0 {
		same := len(slices.DeleteFunc(slices.Clone(res.Imported), func(im Imported) bool { return !im.Unchanged }))
		installed := len(res.Imported) - same
		var what string
		switch {
		case o.DryRun:
			what = "nothing was written (--dry-run)"
		case len(res.Imported) == 0:
			what = "nothing else was there to install"
		case same == 0:
			what = fmt.Sprintf("the %d other(s) were installed", installed)
		case installed == 0:
			what = fmt.Sprintf("the %d other(s) were already installed", same)
		default:
			what = fmt.Sprintf("%d other(s) were installed and %d were already installed", installed, same)
		}
		where := "listed above with the reason"
		switch {
		case f.Name == "json", f.Name == "yaml":
			where = "each with the reason in the refused field of the output"
		case !text:
			where = "each with the reason in `certctl certs import --dry-run` (without -o)"
		}
		err = &exitcode.Error{Code: exitcode.ImportRefused, Err: fmt.Errorf("%d certificate(s) refused, %s (first: %s): nothing of them was installed, %s; fix each as its reason says (a certificate refused for what it holds is signed again as its request file says), then import again", len(res.Refused), where, res.Refused[0].Name, what)}
	}
	if res != nil {
		if perr := res.Print(out, f, err); perr != nil && err == nil {
			err = perr
		}
	}
	return err
}
