package cmd

import (
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/certctl/certctl/internal/debuglog"
	"github.com/certctl/certctl/internal/output"
	"github.com/certctl/certctl/phases/config"
)

// folderFlags are the flags that say where a node's files are, the same in
// every command that reads the node (certs list, certs import, restore,
// signer status, signer enable; renew, check-expiration and init-phase
// have them through clusterFlags): --config, kubeadm's file, whose certificatesDir is the
// certificate folder unless --cert-dir is given, --cert-dir and
// --kubeconfig-dir.
type folderFlags struct {
	cluster       clusterFlags
	kubeconfigDir string
}

func (f *folderFlags) addTo(fs *pflag.FlagSet, certDirHelp string) {
	f.addCertDirTo(fs, certDirHelp)
	f.cluster.addKubeconfigDirTo(fs, &f.kubeconfigDir, "folder of the kubeconfig files")
}

// addCertDirTo registers --config and --cert-dir only, for a command that
// reads no kubeconfig file (signer enable).
func (f *folderFlags) addCertDirTo(fs *pflag.FlagSet, certDirHelp string) {
	f.cluster.addSubsetTo(fs, "config", "cert-dir")
	if certDirHelp != "" {
		fs.Lookup("cert-dir").Usage = certDirHelp
	}
}

// certDir is --cert-dir, or certificatesDir of --config when --cert-dir is
// not given (the file's warnings go to warn): kubeadm's precedence. It
// reads nothing else of the file: these commands make no certificate.
func (f *folderFlags) certDir(cmd *cobra.Command, warn io.Writer) (string, error) {
	if f.cluster.configFile == "" || cmd.Flags().Changed("cert-dir") {
		return f.cluster.CertDir, config.CheckCertDirFlag(f.cluster.CertDir)
	}
	c, err := f.settings(cmd, warn)
	return c.CertificatesDir, err
}

// settings are --config's settings under the flags given (its warnings go
// to warn); without --config, only --cert-dir. No ConfigMap is read.
func (f *folderFlags) settings(cmd *cobra.Command, warn io.Writer) (config.Cluster, error) {
	if f.cluster.configFile == "" {
		return config.Cluster{CertificatesDir: f.cluster.CertDir}, config.CheckCertDirFlag(f.cluster.CertDir)
	}
	debuglog.Debugf(debuglog.Decisions, "reading the settings from %s", f.cluster.configFile)
	return f.cluster.fileAndFlags(cmd, warn)
}

// reportFlags are the folder flags and -o of a command that reads a node's
// folders and prints a report (certs list, certs import, signer status,
// ca status).
type reportFlags struct {
	folders folderFlags
	output  string
}

func (f *reportFlags) addTo(fs *pflag.FlagSet, certDirHelp string) {
	f.folders.addTo(fs, certDirHelp)
	fs.StringVarP(&f.output, "output", "o", "text", output.Help())
}

// parse is what each of them does first: check -o, then find the
// certificate folder (certDir).
func (f *reportFlags) parse(cmd *cobra.Command) (output.Format, string, error) {
	format, err := output.Parse(f.output)
	if err != nil {
		return output.Format{}, "", err
	}
	certDir, err := f.folders.certDir(cmd, cmd.ErrOrStderr())
	return format, certDir, err
}

// rerunFlags are the flags among names that the user gave this command, as
// a command it prints for the same node needs them again (" --cert-dir
// /srv/pki --node-only"), quoted for a POSIX shell; "" when none was given.
func rerunFlags(cmd *cobra.Command, names ...string) string {
	var b strings.Builder
	for _, name := range names {
		f := cmd.Flags().Lookup(name)
		switch {
		case f == nil || !f.Changed:
		case f.Value.Type() == "bool":
			if f.Value.String() == "true" {
				b.WriteString(" --" + name)
			}
		default:
			v := f.Value.String() // a list's is "[a,b]"
			if list, ok := f.Value.(pflag.SliceValue); ok {
				v = strings.Join(list.GetSlice(), ",")
			}
			b.WriteString(" --" + name + " " + output.ShellQuote(v))
		}
	}
	return b.String()
}
