package renew

import (
	"context"
	"fmt"
	"maps"
	"os"
	"strings"
	"time"

	"github.com/certctl/certctl/internal/kubeclient"
	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/phases/renewal"
	"github.com/certctl/certctl/phases/renewal/apirenew"
)

// API is --use-api and its flags: renewal through the cluster's
// certificates API.
type API struct {
	Kubeconfig  string        // --kubeconfig; see kubeclient for the precedence
	Timeout     time.Duration // for the CSRs to be approved and issued
	NewRequest  bool          // a new key and CSR even when an earlier run left a pending one
	SignerNames map[string]string
	UserAgent   string // "certctl/VERSION"
}

// obtain requests, through the certificates API, a certificate for each
// selected target and waits until all are issued, printing the CSR names,
// approval commands and progress, before the caller takes certctl's lock:
// waiting for a person to approve must not keep check-expiration and the
// other commands waiting. The certificates are verified and installed by
// renewal.Renew, with the returned Issuer, which under the lock finds
// those another run installed meanwhile (see settle).
func (r *run) obtain(ctx context.Context, selected []renewal.Target, o renewal.Options) (*apirenew.Issuer, error) {
	api, out := r.o.API, r.progressOut()
	client, err := kubeclient.New(kubeclient.Options{Kubeconfig: api.Kubeconfig, KubeconfigDir: r.o.KubeconfigDir, UserAgent: api.UserAgent, Now: r.o.Now})
	if err != nil {
		return nil, err
	}
	node, err := nodeName(r.o.ConfigFile)
	if err != nil {
		return nil, err
	}
	pendingDir, err := apirenew.PendingDir(r.o.Cluster.CertificatesDir)
	if err != nil {
		return nil, err
	}
	signers := r.signerNames()
	approveFlags := ""
	if r.o.ConfigFile != "" {
		approveFlags = " --config " + r.o.ConfigFile
	}
	issuer, err := apirenew.New(apirenew.Options{
		Client: client, Server: client.Config.Host, Credentials: client.Source, User: client.User(), NodeName: node,
		PendingDir: pendingDir, SignerNames: signers, Timeout: api.Timeout, NewRequest: api.NewRequest,
		ApproveFlags: approveFlags, AlreadyInstalled: errAlreadyInstalled, Out: out,
	})
	if err != nil {
		return nil, err
	}
	// Read and check every file now, as Renew does: a bad file fails the
	// run before a CSR exists.
	o.Issuer = issuer
	reqs, err := renewal.Requests(selected, o)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "[renew] Renewing through the certificates API of %s (%s)\n", client.Config.Host, client.Source)
	if err := issuer.Obtain(ctx, reqs); err != nil {
		return nil, err
	}
	return issuer, nil
}

// signerNames are the signer names given for certificates: signerNames of
// the configuration file, overridden by --signer-name.
func (r *run) signerNames() map[string]string {
	signers := maps.Clone(r.o.Cluster.SignerNames)
	if signers == nil {
		signers = map[string]string{}
	}
	maps.Copy(signers, r.o.API.SignerNames)
	return signers
}

// installed forgets the pending keys of what res installed; a key left
// behind is recognised and removed by the next run.
func (r *run) installed(issuer *apirenew.Issuer, res *renewal.Result) {
	if issuer == nil {
		return
	}
	var names []string
	for _, rn := range res.Renewed {
		names = append(names, rn.Name)
	}
	if err := issuer.Installed(names); err != nil {
		fmt.Fprintf(r.o.ErrOut, "[warning] %v: the next `certctl renew --use-api` removes it\n", err)
	}
}

// nodeName names the CSRs: nodeRegistration.name of the configuration
// file, else the host name, as kubeadm defaults it.
func nodeName(configFile string) (string, error) {
	if configFile != "" {
		f, err := config.LoadFile(configFile, config.Cluster{})
		if err != nil {
			return "", err
		}
		if f.Cluster.NodeName != "" {
			return f.Cluster.NodeName, nil
		}
	}
	h, err := os.Hostname()
	if err != nil {
		return "", fmt.Errorf("find the node name for the CSR names: %w; pass --config with nodeRegistration.name", err)
	}
	return strings.ToLower(strings.TrimSpace(h)), nil
}
