package renew

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/pki"
)

// TestThresholdRenewsNotYetValid: a certificate valid only from a time
// after this host's clock (renewed while the clock was a day ahead, then
// set right by NTP) is rejected by every client, as an expired one is.
// --if-expires-within skipped it as "valid until ..., not within the
// window", so cron left the control plane broken and exited 2 ("nothing
// to do"); it is now renewed, and the run says why.
func TestThresholdRenewsNotYetValid(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	now := pkitest.Made.Add(24 * time.Hour)
	ahead := now.Add(36 * time.Hour) // the clock of the renewal that made it
	caCert, caKey := n.CA(t, "ca")
	key, err := pki.ParsePrivateKey(mustReadFile(t, n.Path("pki/apiserver.key")))
	if err != nil {
		t.Fatal(err)
	}
	old, _, err := pki.ReadCertFile(n.Path("pki/apiserver.crt"))
	if err != nil {
		t.Fatal(err)
	}
	p := pki.ProfileFromCert("apiserver", "apiserver", "ca", old)
	cert, err := pki.Sign(rand.Reader, p, key.Public(), caCert, caKey, pki.NewValidity(ahead, 5*time.Minute, 365*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(n.Path("pki/apiserver.crt"), pki.EncodeCert(cert), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	o := Options{Cluster: n.Cluster, KubeconfigDir: n.Dir, Args: []string{"all"}, Threshold: true, IfExpiresWithin: 720 * time.Hour,
		Now: func() time.Time { return now }, Rand: rand.Reader, Out: &out, ErrOut: &errOut}
	if err := Run(context.Background(), o); err != nil {
		t.Fatalf("run: %v\n%s%s", err, out.String(), errOut.String())
	}
	got, _, err := pki.ReadCertFile(n.Path("pki/apiserver.crt"))
	if err != nil {
		t.Fatal(err)
	}
	if got.SerialNumber.Cmp(cert.SerialNumber) == 0 || now.Before(got.NotBefore) {
		t.Errorf("apiserver.crt valid from %v at %v: the certificate not valid yet was not renewed\n%s", got.NotBefore, now, out.String())
	}
	if want := "apiserver: valid only from " + cert.NotBefore.UTC().Format(time.RFC3339) + " (35h55m0s after this host's clock)"; !strings.Contains(out.String(), want) {
		t.Errorf("output does not say %q:\n%s", want, out.String())
	}
	if !strings.Contains(out.String(), "[skip] front-proxy-client: valid until") {
		t.Errorf("the others are not skipped as not due:\n%s", out.String())
	}
}

// TestThresholdRefusesAClockBehind: a node without a battery-backed clock,
// booted before NTP set it, runs the timer's catch-up renewal on a clock
// two years behind: every certificate is valid only from a time after it,
// and so due. Renewed, each would have ended a year before it was made,
// and the restarted components would have served expired certificates.
// The run refuses, says to set the clock, and changes nothing.
func TestThresholdRefusesAClockBehind(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	now := pkitest.Made.Add(24 * time.Hour)
	made := now.Add(2 * 365 * 24 * time.Hour) // the clock of the renewal that made it: right
	caCert, caKey := n.CA(t, "ca")
	key, err := pki.ParsePrivateKey(mustReadFile(t, n.Path("pki/apiserver.key")))
	if err != nil {
		t.Fatal(err)
	}
	old, _, err := pki.ReadCertFile(n.Path("pki/apiserver.crt"))
	if err != nil {
		t.Fatal(err)
	}
	p := pki.ProfileFromCert("apiserver", "apiserver", "ca", old)
	cert, err := pki.Sign(rand.Reader, p, key.Public(), caCert, caKey, pki.NewValidity(made, 5*time.Minute, 365*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(n.Path("pki/apiserver.crt"), pki.EncodeCert(cert), 0o644); err != nil {
		t.Fatal(err)
	}
	before := treetest.Snapshot(t, n.Dir)
	var out, errOut bytes.Buffer
	o := Options{Cluster: n.Cluster, KubeconfigDir: n.Dir, Args: []string{"all"}, Threshold: true, IfExpiresWithin: 720 * time.Hour,
		Now: func() time.Time { return now }, Rand: rand.Reader, Out: &out, ErrOut: &errOut}
	err = Run(context.Background(), o)
	treetest.ErrMentions(t, err, n.Path("pki/apiserver.crt")+" is valid from "+cert.NotBefore.UTC().Format(time.RFC3339), "this host's clock is behind", "set the clock right", "nothing was changed")
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("error on several lines: %q", err)
	}
	after := treetest.Snapshot(t, n.Dir)
	delete(after, n.Path(".certctl.lock")) // taken before the plan, as by every run that writes
	treetest.AssertSame(t, before, after)
}
