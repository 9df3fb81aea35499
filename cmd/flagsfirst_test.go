package cmd

import (
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/pkitest"
)

// TestConflictingFlagsBeforeSettings: flags that contradict each other, or
// do nothing without another, are refused in one line before the node's
// settings are read (the [config] line, and without --config the
// kubeadm-config ConfigMap, which waits for an API server that does not
// answer). ca rotate's, signer run's and renew's --drop-sans were refused
// only after.
func TestConflictingFlagsBeforeSettings(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	for _, tc := range []struct {
		args    []string
		wantErr string
	}{
		{[]string{"renew", "all", "--drop-sans"}, "--drop-sans does nothing without --update-sans: add it, or drop --drop-sans"},
		{[]string{"ca", "rotate", "ca", "--all-stages", "--to", "trust"}, "--all-stages is --to finish: give one of them"},
		{[]string{"ca", "rotate", "ca", "--to", "bogus", "--restart-control-plane"}, `unknown stage "bogus" for --to: use one of trust, reissue, finish`},
		{[]string{"ca", "rotate", "ca", "--to", "reissue"}, "--to and --all-stages run several stages, and the components must restart between them: add --restart-control-plane, or run one stage per call"},
		{[]string{"ca", "rotate", "ca", "--abort", "--to", "finish", "--restart-control-plane"}, "--abort goes back one stage at a time: drop --to"},
		{[]string{"ca", "rotate", "ca", "--abort", "--force"}, "--force applies to finish, not to --abort: drop one of them"},
		{[]string{"ca", "rotate", "ca", "--forget-node", "node-3", "--abort"}, "--forget-node removes a node from the rotation's cluster record and makes no stage: drop --abort"},
		{[]string{"ca", "rotate", "ca", "--new-ca-key", "new.key"}, "give the new CA's certificate and key together: --new-ca-cert and --new-ca-key"},
		{[]string{"ca", "rotate", "sa", "--new-ca-cert", "new.crt", "--new-ca-key", "new.key"}, "sa is a key pair: give its new private key with --new-ca-key alone"},
		{[]string{"ca", "rotate", "bogus"}, `unknown CA "bogus": rotate one of ca, front-proxy-ca, etcd-ca, sa`},
		{[]string{"signer", "run", "--ca-cert", "ca.pem"}, "--ca-cert and --ca-key name one CA, ca: give both"},
		{[]string{"signer", "run", "--etcd-ca-key", "etcd-ca.key"}, "--etcd-ca-cert and --etcd-ca-key name one CA, etcd-ca: give both"},
		{[]string{"signer", "run", "--ca-cert", "ca.pem", "--ca-key", "ca.key"}, "--cert-dir and the --*-ca-cert/--*-ca-key flags both name CAs: use one or the other"},
		{[]string{"signer", "run", "--workers", "-1"}, "--workers -1 is negative: give how many CSRs to sign at once (8), or 0 for the default"},
		{[]string{"signer", "run", "--leader-elect", "--leader-elect-lease-duration", "5s"}, "signer: --leader-elect-lease-duration 5s must be longer than --leader-elect-renew-deadline 10s: give a longer lease or a shorter deadline (defaults 15s and 10s)"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			args := append(tc.args, "--cert-dir", n.CertDir())
			if tc.args[0] != "signer" {
				args = append(args, "--kubeconfig-dir", n.Dir)
			}
			_, stderr, err := execute(t, args...)
			if err == nil || err.Error() != tc.wantErr {
				t.Fatalf("error %v, want %q", err, tc.wantErr)
			}
			if strings.Contains(stderr, "[config]") {
				t.Errorf("the settings were read before the flags were checked:\n%s", stderr)
			}
		})
	}
}

// TestBadFlagValueBeforeSettings: a settings flag whose value no
// configuration can make valid is refused before the settings are read
// (the kubeadm-config ConfigMap, up to config.ClusterTimeout), with the
// message the validation of the settings gives; it was refused only after.
func TestBadFlagValueBeforeSettings(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	for _, tc := range []struct {
		args    []string
		wantErr string
	}{
		{[]string{"init-phase", "certs", "all", "--service-cidr", "bogus"}, `invalid networking.serviceSubnet (--service-cidr) "bogus": `},
		{[]string{"init-phase", "certs", "all", "--apiserver-bind-port", "0"}, "invalid localAPIEndpoint.bindPort (--apiserver-bind-port) 0: must be 1-65535"},
		{[]string{"init-phase", "certs", "all", "--encryption-algorithm", "RSA-1024"}, `unknown encryptionAlgorithm (--encryption-algorithm) "RSA-1024": use one of `},
		{[]string{"init-phase", "kubeconfig", "all", "--certificate-validity", "-1h"}, "invalid certificateValidityPeriod (--certificate-validity) -1h0m0s: must be positive"},
		{[]string{"init-phase", "certs", "all", "--apiserver-advertise-address", "fe80::1"}, `invalid localAPIEndpoint.advertiseAddress (--apiserver-advertise-address) "fe80::1": `},
		{[]string{"certs", "generate-csr", "--csr-dir", "csr", "--node-name", "no_such"}, `invalid nodeRegistration.name (--node-name) "no_such": `},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			args := append(tc.args, "--cert-dir", n.CertDir(), "--kubeconfig-dir", n.Dir, "--dry-run")
			_, stderr, err := execute(t, args...)
			if err == nil || !strings.HasPrefix(err.Error(), tc.wantErr) {
				t.Fatalf("error %v, want one starting %q", err, tc.wantErr)
			}
			if strings.Contains(stderr, "[config]") {
				t.Errorf("the settings were read before the flags were checked:\n%s", stderr)
			}
		})
	}
}

// TestBadRenewalFlagBeforeSettings: renew's and ca rotate's settings flags
// whose value renewal cannot use are refused before the settings are read
// (the kubeadm-config ConfigMap, through admin.conf, which may wait up to
// config.ClusterTimeout for an API server that does not answer). They were
// refused only after, with a [config] line first; ca rotate's negative
// --ca-certificate-validity made a new CA that had already expired.
func TestBadRenewalFlagBeforeSettings(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	for _, tc := range []struct {
		args    []string
		wantErr string
	}{
		{[]string{"renew", "all", "--encryption-algorithm", "RSA-1024"}, `unknown encryptionAlgorithm (--encryption-algorithm) "RSA-1024": use one of `},
		{[]string{"renew", "all", "--certificate-validity", "-1h"}, "invalid certificateValidityPeriod (--certificate-validity) -1h0m0s: must be positive"},
		{[]string{"renew", "all", "--certificate-validity", "1s"}, "certificateValidityPeriod (--certificate-validity) 1s"},
		{[]string{"ca", "rotate", "ca", "--encryption-algorithm", "bogus"}, `unknown encryptionAlgorithm (--encryption-algorithm) "bogus": use one of `},
		{[]string{"ca", "rotate", "ca", "--certificate-validity", "0s"}, "invalid certificateValidityPeriod (--certificate-validity) 0s: must be positive"},
		{[]string{"ca", "rotate", "ca", "--ca-certificate-validity", "-1h"}, "invalid caCertificateValidityPeriod (--ca-certificate-validity) -1h0m0s: must be positive"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			args := append(tc.args, "--cert-dir", n.CertDir(), "--kubeconfig-dir", n.Dir, "--dry-run")
			_, stderr, err := execute(t, args...)
			if err == nil || !strings.HasPrefix(err.Error(), tc.wantErr) {
				t.Fatalf("error %v, want one starting %q", err, tc.wantErr)
			}
			if strings.Contains(stderr, "[config]") {
				t.Errorf("the settings were read before the flags were checked:\n%s", stderr)
			}
		})
	}
}
