package carotate

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"time"

	"k8s.io/client-go/util/keyutil"

	"github.com/certctl/certctl/phases/carotate/castage"
	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/pki"
)

// State is one CA's rotation as found on disk: `certctl ca status`.
type State struct {
	CA string `json:"ca"`
	// Stage is the record's, "none" without a record.
	Stage    string `json:"stage"`
	Aborting bool   `json:"aborting,omitempty"`
	OldCA    string `json:"oldCA,omitempty"`
	NewCA    string `json:"newCA,omitempty"`
	// Trusted are the fingerprints in the trust file (ca.crt, sa.pub), in order.
	Trusted []string `json:"trusted"`
	// FromOldCA lists the files that still hold a certificate of the CA
	// the rotation drops: the old one, the new one while aborting.
	FromOldCA []string `json:"fromOldCA"`
	// Problems say where the files differ from what the stage says.
	Problems  []string `json:"problems"`
	Restart   []string `json:"restart,omitempty"`
	Restarted bool     `json:"restarted"`
	// Next is the command that makes the next step.
	Next string `json:"next"`
	// Cluster is the rotation's cluster record, when it was read and
	// there is one.
	Cluster *ClusterStatus `json:"cluster,omitempty"`
}

// inspect reads the files of the rotation of k and compares them with its
// record.
func inspect(k kind, externalEtcd bool, certDir, kubeconfigDir string, now time.Time, rerun string) (*State, error) {
	return inspectAfter("", k, externalEtcd, certDir, kubeconfigDir, now, rerun)
}

// inspectAfter is inspect of the files that step wrote, checked after it
// (verifyAfter): a key it dropped may be gone (readMaterial); also before
// a reissue that reads the new CA's lost key again from the cluster
// (checkTrusted, refetchNewKey).
func inspectAfter(step string, k kind, externalEtcd bool, certDir, kubeconfigDir string, now time.Time, rerun string) (*State, error) {
	p := k.paths(certDir)
	rec, err := ReadRecord(p.Record)
	if err != nil {
		return nil, err
	}
	st := &State{CA: k.name, Stage: "none", Trusted: []string{}, FromOldCA: []string{}, Problems: []string{}}
	if rec != nil {
		st.Stage, st.Aborting, st.OldCA, st.NewCA = rec.Stage, rec.Aborting, rec.OldCA, rec.NewCA
		st.Restart, st.Restarted = rec.Restart, rec.Restarted
	}
	if rec == nil {
		if err := p.lostRecord(k.name); err != nil {
			st.Problems = append(st.Problems, err.Error())
		}
	}
	if st.Trusted, err = trusted(k, p.Trust); err != nil {
		st.Problems = append(st.Problems, err.Error())
		return st, nil
	}
	hs, err := heldOf(k, externalEtcd, certDir, kubeconfigDir)
	if err != nil {
		st.Problems = append(st.Problems, err.Error())
		return st, nil
	}
	want := rec.Trusted() // the trust file's fingerprints at the stage
	if want != nil && !slices.Equal(st.Trusted, want) {
		st.Problems = append(st.Problems, fmt.Sprintf("%s holds %s, stage %s says %s", p.Trust, short(st.Trusted), rec.Stage, short(want)))
	}
	if rec.Active() {
		// The old and new CA files of the stage, as ca rotate reads them
		// before the next stage or an abort, which refuse the same.
		if _, err := readMaterial(k, p, rec, step); err != nil {
			st.Problems = append(st.Problems, err.Error())
		}
	}
	if len(st.Trusted) > 0 {
		if rec == nil && !k.sa && missing(p.Key) {
			// An external CA: its key is elsewhere by design.
			st.Next = "none: " + p.Key + " is not on this node (an external CA, docs/external-ca.md): certctl does not rotate it"
			return st, nil
		}
		st.checkKey(k, p)
	}
	st.checkHeld(k, p, rec, hs, want, now, config.FolderFlags(certDir, kubeconfigDir))
	st.Next = nextOf(rotateCommand(k.name, rerun), rec, st, k.kubeconfigs)
	return st, nil
}

// missing reports whether path does not exist (a link counts as existing).
func missing(path string) bool {
	_, err := os.Lstat(path)
	return errors.Is(err, fs.ErrNotExist)
}

// checkKey checks that the signing key matches the first entry of the
// trust file, as kubeadm reads them.
func (st *State) checkKey(k kind, p paths) {
	key, err := pki.ReadKeyFile(p.Key)
	if err != nil {
		st.Problems = append(st.Problems, err.Error())
		return
	}
	if k.sa {
		if keyFingerprint(key.Public()) != st.Trusted[0] {
			st.Problems = append(st.Problems, fmt.Sprintf("%s does not match the first key of %s", p.Key, p.Trust))
		}
		return
	}
	cert, _, err := pki.ReadCertFile(p.Trust)
	if err == nil && pki.KeyMatches(cert, key) != nil {
		st.Problems = append(st.Problems, fmt.Sprintf("%s does not match the first certificate of %s", p.Key, p.Trust))
	}
}

// checkHeld checks each certificate of the CA: signed by the CA that
// signs at the stage (the first of want), kubeconfigs trusting want.
func (st *State) checkHeld(k kind, p paths, rec *Record, hs []held, want []string, now time.Time, renewFlags string) {
	dropped := ""
	if rec != nil {
		dropped = rec.OldCA
		if rec.Aborting || rec.Stage == StageAborted {
			dropped = rec.NewCA
		}
	}
	byID := map[string]*x509.Certificate{}
	for _, path := range []string{p.OldCert, p.NewCert, p.Trust} {
		if path == "" { // sa: no certificate
			continue
		}
		if certs, err := readCerts(path); err == nil {
			for _, c := range certs {
				byID[fingerprint(c)] = c
			}
		}
	}
	for _, h := range hs {
		if h.cert == nil {
			continue
		}
		if ca := byID[dropped]; ca != nil && h.signedBy(ca, now) {
			st.FromOldCA = append(st.FromOldCA, h.file)
		}
		if len(want) > 0 && (h.entry.Kind != pki.KindKubeconfig || h.embedded) {
			if ca := byID[want[0]]; ca == nil || !h.signedBy(ca, now) {
				// renew signs with the CA that signs at the stage (the
				// certificate of the trust file that the key matches).
				st.Problems = append(st.Problems, fmt.Sprintf("%s is not signed by the CA that signs at stage %s (%s): `certctl renew %s%s` re-issues it by that CA", h.file, rec.Stage, short(want[:1]), h.entry.CertName(), renewFlags))
			}
		}
		if h.entry.Kind == pki.KindKubeconfig {
			if msg := castage.CADataProblem(h.file, mapped(h.caData, fingerprint), rec, p.Trust, h.embedded, "certctl renew "+h.entry.CertName()+renewFlags); msg != "" {
				st.Problems = append(st.Problems, msg)
			}
		}
	}
}

// Verify checks that the files of the rotation of the CA called name are
// what its record's stage says: the trust file's order, the key, every
// certificate's signer and every kubeconfig's CA data.
func Verify(certDir, kubeconfigDir, name string, externalEtcd bool, now time.Time) error {
	return verifyAfter("", certDir, kubeconfigDir, name, externalEtcd, now)
}

// verifyAfter is Verify of the files that step wrote: the key of the CA it
// dropped may be gone (the new one, when --abort went back from reissue
// without it).
func verifyAfter(step, certDir, kubeconfigDir, name string, externalEtcd bool, now time.Time) error {
	k, err := kindOf(name)
	if err != nil {
		return err
	}
	st, err := inspectAfter(step, k, externalEtcd, certDir, kubeconfigDir, now, "")
	if err != nil {
		return err
	}
	if len(st.Problems) > 0 {
		return fmt.Errorf("the %s CA's files are not those of stage %s: %s", name, st.Stage, strings.Join(st.Problems, "; "))
	}
	return nil
}

// trusted lists the fingerprints of the trust file's certificates (sa: keys).
func trusted(k kind, path string) ([]string, error) {
	if k.sa {
		keys, err := pki.ReadParsed(path, "public keys", keyutil.ParsePublicKeysPEM)
		return mapped(keys, func(key any) string { return keyFingerprint(key) }), err
	}
	certs, err := readCerts(path)
	return mapped(certs, fingerprint), err
}

func readCerts(path string) ([]*x509.Certificate, error) {
	return pki.ReadCerts(path)
}

// mapped is f of each of xs, in order; nil when xs is empty.
func mapped[T, U any](xs []T, f func(T) U) []U {
	var out []U
	for _, x := range xs {
		out = append(out, f(x))
	}
	return out
}

// short abbreviates fingerprints for messages.
func short(ids []string) string { return castage.Short(ids) }
