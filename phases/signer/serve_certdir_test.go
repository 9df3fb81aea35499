package signer

import (
	"crypto/x509"
	"io"
	"math/big"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/pki"
)

// certDirCAs are three CAs for the certificate folder, and CAs made from
// them that a folder must not hold beside them.
type certDirCAs struct {
	cluster, front, etcd *CA
	clusterKeyFront      *CA // a CA of its own name, with the cluster CA's key
	notCA                *CA // the cluster CA's key in a CA:FALSE certificate
	fresh                *CA // a rotation's new cluster CA
}

func newCertDirCAs(t *testing.T) certDirCAs {
	t.Helper()
	later := time.Now().Add(24 * time.Hour)
	c := certDirCAs{cluster: newTestCA(t, "kubernetes", later), front: newTestCA(t, "front-proxy-ca", later),
		etcd: newTestCA(t, "etcd-ca", later), fresh: newTestCA(t, "kubernetes-2", later)}
	reissue := func(cn string, isCA bool) *CA {
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(9), BasicConstraintsValid: true, IsCA: isCA, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
			NotBefore: time.Now().Add(-time.Hour), NotAfter: later}
		tmpl.Subject.CommonName = cn
		return &CA{Cert: pkitest.SelfSigned(t, c.cluster.Key, tmpl), Key: c.cluster.Key}
	}
	c.clusterKeyFront, c.notCA = reissue("front-proxy-ca", true), reissue("kubernetes", false)
	return c
}

// writeCertDir writes the CA pairs of a certificate folder, by CA name.
func writeCertDir(t *testing.T, dir string, pairs map[string]*CA) {
	t.Helper()
	for name, ca := range pairs {
		s := pki.Store{Dir: dir}
		base := pki.Kubeadm().BaseName(name)
		if err := s.WriteCert(base, ca.Cert); err != nil {
			t.Fatal(err)
		}
		if err := s.WriteKey(base, ca.Key); err != nil {
			t.Fatal(err)
		}
	}
}

// inDir spells the file names of mention (those ending in .crt or .key)
// as paths in dir, so that "ca.crt" is no part of "etcd/ca.crt".
func inDir(dir string, mention []string) []string {
	var out []string
	for _, m := range mention {
		if strings.HasSuffix(m, ".crt") || strings.HasSuffix(m, ".key") {
			m = filepath.Join(dir, m)
		}
		out = append(out, m)
	}
	return out
}

// TestServeCertDirCAsChecked: signer run with its CAs from --cert-dir (no
// --*-ca-cert flag) checked nothing between the folder's CA files, at start
// or on a reload (the flags are checked: TestServeCAFlagsSignWithTheirCA,
// TestServeReloadChecksCAs): a ca.crt/ca.key replaced by front-proxy-ca's
// pair signed certctl's cluster names with the front-proxy CA. One CA (its
// certificate, or its key) may not serve two roles: at start signer run
// refuses it with one line naming both files; on a reload the changed CA's
// names stop being signed, as for the flags. Each file must hold a CA
// whose key is its key, as before.
func TestServeCertDirCAsChecked(t *testing.T) {
	c := newCertDirCAs(t)
	t.Run("start", func(t *testing.T) {
		for _, tc := range []struct {
			name    string
			pairs   map[string]*CA
			mention []string // nil: accepted
		}{
			{"each CA its own pair", map[string]*CA{pki.CAName: c.cluster, pki.FrontProxyCAName: c.front, pki.EtcdCAName: c.etcd}, nil},
			{"ca.crt replaced by front-proxy-ca's pair", map[string]*CA{pki.CAName: c.front, pki.FrontProxyCAName: c.front, pki.EtcdCAName: c.etcd},
				[]string{"ca.crt", "front-proxy-ca.crt", `"front-proxy-ca"`, "put back"}},
			{"etcd/ca.crt holds the cluster CA, front-proxy-ca absent", map[string]*CA{pki.CAName: c.cluster, pki.EtcdCAName: c.cluster},
				[]string{"ca.crt", "etcd/ca.crt", `"kubernetes"`}},
			{"front-proxy-ca with the cluster CA's key", map[string]*CA{pki.CAName: c.cluster, pki.FrontProxyCAName: c.clusterKeyFront, pki.EtcdCAName: c.etcd},
				[]string{"ca.crt", "front-proxy-ca.crt", "key"}},
			{"ca.crt not a CA", map[string]*CA{pki.CAName: c.notCA, pki.FrontProxyCAName: c.front}, []string{"ca.crt", "CA:FALSE"}},
			{"ca.key not ca.crt's", map[string]*CA{pki.CAName: {Cert: c.cluster.Cert, Key: c.front.Key}, pki.FrontProxyCAName: c.front}, []string{"ca.key", "ca.crt"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				dir := t.TempDir()
				writeCertDir(t, dir, tc.pairs)
				o := ServeOptions{Cluster: &config.Cluster{CertificatesDir: dir}, CertDirSet: true, Out: io.Discard, ErrOut: io.Discard}
				cas, _, _, err := o.loadSources(CASourceOptions{})
				if tc.mention == nil {
					if err != nil || len(cas) != len(tc.pairs) {
						t.Fatalf("loadSources: %d CA(s), %v; want %d", len(cas), err, len(tc.pairs))
					}
					return
				}
				treetest.ErrMentions(t, err, inDir(dir, tc.mention)...)
			})
		}
	})

	t.Run("reload", func(t *testing.T) {
		for _, tc := range []struct {
			name    string
			source  string // the CA whose files are replaced
			replace *CA
			bundle  *CA      // written after replace in its certificate file, as a rotation's
			mention []string // nil: taken
		}{
			{"ca.crt replaced by front-proxy-ca's pair", pki.CAName, c.front, nil, []string{"ca.crt", "front-proxy-ca.crt", `"front-proxy-ca"`}},
			{"etcd/ca.crt replaced by the cluster CA's pair", pki.EtcdCAName, c.cluster, nil, []string{"etcd/ca.crt", "ca.crt", `"kubernetes"`}},
			{"front-proxy-ca replaced by a CA with the cluster CA's key", pki.FrontProxyCAName, c.clusterKeyFront, nil, []string{"front-proxy-ca.crt", "ca.crt", "key"}},
			{"ca.crt replaced by a rotation's new CA", pki.CAName, c.fresh, c.cluster, nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				dir := t.TempDir()
				writeCertDir(t, dir, map[string]*CA{pki.CAName: c.cluster, pki.FrontProxyCAName: c.front, pki.EtcdCAName: c.etcd})
				metrics := NewMetrics()
				o := ServeOptions{Cluster: &config.Cluster{CertificatesDir: dir}, Out: io.Discard, ErrOut: io.Discard}
				_, _, sources, err := o.loadSources(CASourceOptions{Metrics: metrics})
				if err != nil {
					t.Fatal(err)
				}
				var src *CASource
				for _, s := range sources {
					if s.name == tc.source {
						src = s
					}
				}
				was := src.Current()
				writeCertDir(t, dir, map[string]*CA{tc.source: tc.replace})
				if tc.bundle != nil {
					store := pki.Store{Dir: dir}
					if err := store.WriteCert(pki.Kubeadm().BaseName(tc.source), tc.replace.Cert, tc.bundle.Cert); err != nil {
						t.Fatal(err)
					}
				}
				_, err = src.Check()
				if tc.mention == nil {
					if got, serr := src.Signing(); err != nil || serr != nil || !got.Cert.Equal(tc.replace.Cert) {
						t.Fatalf("reload of %s: %v, %v; want it taken", tc.source, err, serr)
					}
					return
				}
				treetest.ErrMentions(t, err, inDir(dir, tc.mention)...)
				if _, serr := src.Signing(); serr == nil {
					t.Errorf("still signing for %s after its files came to hold another role's CA", tc.source)
				}
				if !src.Current().Cert.Equal(was.Cert) {
					t.Errorf("the refused CA became current")
				}
				assertSamples(t, metrics, `certctl_signer_ca_reload_failures_total{ca="`+tc.source+`"} 1`)
				// The files back to the last good pair: signing again.
				writeCertDir(t, dir, map[string]*CA{tc.source: was})
				if _, err := src.Check(); err != nil {
					t.Fatal(err)
				}
				if _, serr := src.Signing(); serr != nil {
					t.Errorf("the last good pair back: %v", serr)
				}
			})
		}
	})

	// ca's and front-proxy-ca's pairs swapped between two checks: each file
	// then holds its own CA alone, but each CA's key is the one the other
	// source signs with. Neither is taken.
	t.Run("reload of two swapped pairs", func(t *testing.T) {
		dir := t.TempDir()
		writeCertDir(t, dir, map[string]*CA{pki.CAName: c.cluster, pki.FrontProxyCAName: c.front, pki.EtcdCAName: c.etcd})
		o := ServeOptions{Cluster: &config.Cluster{CertificatesDir: dir}, Out: io.Discard, ErrOut: io.Discard}
		_, _, sources, err := o.loadSources(CASourceOptions{})
		if err != nil {
			t.Fatal(err)
		}
		writeCertDir(t, dir, map[string]*CA{pki.CAName: c.front, pki.FrontProxyCAName: c.cluster})
		for _, src := range sources {
			_, err := src.Check()
			if src.name == pki.EtcdCAName {
				continue
			}
			other := map[string]string{pki.CAName: "front-proxy-ca.crt", pki.FrontProxyCAName: "ca.crt"}[src.name]
			treetest.ErrMentions(t, err, inDir(dir, []string{pki.Kubeadm().BaseName(src.name) + ".crt", other, "key"})...)
			if _, serr := src.Signing(); serr == nil {
				t.Errorf("%s: signing with the pair swapped in", src.name)
			}
		}
	})
}
