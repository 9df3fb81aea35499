package expiration

import (
	"bytes"
	"crypto/rand"
	"crypto/x509"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/exitcode"
	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/pki"
)

// TestNotYetValid: a certificate whose NotBefore is after the check (made
// on a host whose clock is ahead, or this host's clock is behind) is
// rejected by every client until then, yet check-expiration reported it
// as valid, exit status 0: the chain is verified at an instant when every
// certificate of it is valid, and only NotAfter was compared with the
// clock. It is the problem not-yet-valid (as --cluster's for a served
// certificate), exit status 3, in the metrics too.
func TestNotYetValid(t *testing.T) {
	tests := []struct {
		name string
		// change makes the node's certificates, returns the instant of the
		// check.
		change func(t *testing.T, n *pkitest.Node) time.Time
		want   []string // rows with not-yet-valid
	}{{
		name: "apiserver made by a clock 2h ahead",
		change: func(t *testing.T, n *pkitest.Node) time.Time {
			ca, caKey := n.CA(t, "ca")
			cert, _, err := pki.Store{Dir: n.CertDir()}.ReadCert("apiserver")
			if err != nil {
				t.Fatal(err)
			}
			tmpl := *cert
			tmpl.NotBefore = checkAt.Add(2 * time.Hour)
			der, err := x509.CreateCertificate(rand.Reader, &tmpl, ca, cert.PublicKey, caKey)
			if err != nil {
				t.Fatal(err)
			}
			signed, err := x509.ParseCertificate(der)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(n.Path("pki/apiserver.crt"), pki.EncodeCert(signed), 0o644); err != nil {
				t.Fatal(err)
			}
			return checkAt
		},
		want: []string{"apiserver"},
	}, {
		name: "this host's clock a day behind",
		change: func(*testing.T, *pkitest.Node) time.Time {
			return pkitest.Made.Add(-24 * time.Hour)
		},
		want: []string{"admin.conf", "apiserver", "apiserver-etcd-client", "apiserver-kubelet-client", "ca", "controller-manager.conf", "etcd-ca", "etcd-healthcheck-client", "etcd-peer", "etcd-server", "front-proxy-ca", "front-proxy-client", "kubelet.conf", "scheduler.conf", "super-admin.conf"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := pkitest.NewNode(t, nil)
			now := tt.change(t, n)
			o := Options{CertDir: n.CertDir(), KubeconfigDir: n.Dir, Now: now}
			info, err := Check(o)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range info.all() {
				for _, p := range c.Problems {
					if p.Type == NotYetValid {
						got = append(got, c.Name)
						if !strings.Contains(p.Message, c.File) || !strings.Contains(p.Message, "timedatectl") {
							t.Errorf("%s: message %q names neither its file nor what to do", c.Name, p.Message)
						}
					} else {
						t.Errorf("%s: unexpected problem %s: %s", c.Name, p.Type, p.Message)
					}
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("not-yet-valid rows %q, want %q", got, tt.want)
			}
			var metrics bytes.Buffer
			if err := WriteMetrics(&metrics, info); err != nil {
				t.Fatal(err)
			}
			if want := `certctl_certificate_problem{ca="ca",file="` + n.Path("pki/apiserver.crt") + `",kind="certificate",name="apiserver",type="not-yet-valid"} 1`; !strings.Contains(metrics.String(), want) {
				t.Errorf("metrics lack %s:\n%s", want, metrics.String())
			}
			var out bytes.Buffer
			err = Report(t.Context(), o, "text", &out, &out)
			if got := exitcode.Of(err); got != exitcode.Problems {
				t.Errorf("exit status %d (%v), want %d", got, err, exitcode.Problems)
			}
		})
	}
}
