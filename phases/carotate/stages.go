package carotate

import (
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/certctl/certctl/internal/output"
	"github.com/certctl/certctl/internal/txn"
	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/pki"
	"github.com/certctl/certctl/pki/policy"
)

// readGiven reads and checks the new CA given with NewCACert and
// NewCAKey: a CA (pki.CAProblem), valid now, its key matching and strong
// enough (policy.Key), and not the old CA.
func (r *run) readGiven() (side, error) {
	o := r.o
	var s side
	if r.k.sa {
		if o.NewCACert != "" {
			return s, fmt.Errorf("sa is a key pair: give its new private key with --new-ca-key alone")
		}
		key, err := pki.ReadKeyFile(o.NewCAKey)
		if err != nil {
			if hint := derGiven("", o.NewCAKey); hint != "" {
				return s, fmt.Errorf("%w: %s", err, hint)
			}
			return s, err
		}
		s.key = key
	} else {
		if o.NewCACert == "" || o.NewCAKey == "" {
			return s, fmt.Errorf("give the new CA's certificate and key together: --new-ca-cert and --new-ca-key")
		}
		ca, err := pki.LoadCA(o.NewCACert, o.NewCAKey, r.now)
		if err != nil {
			switch hint := derGiven(o.NewCACert, o.NewCAKey); {
			case hint != "" && errors.Is(err, pki.ErrNotPEM):
				// LoadCA's advice converts the file in place; a file
				// given is converted beside it, as hint says.
				return s, errors.New(hint)
			case hint != "":
				return s, fmt.Errorf("%w: %s", err, hint)
			case pki.SaysWhatToDo(err):
				return s, err
			}
			return s, fmt.Errorf("%w: give a CA certificate (CA:TRUE, cert sign), valid now, and its key", err)
		}
		if len(ca.Bundle) > 1 {
			return s, fmt.Errorf("%s holds %d certificates: give the new CA's certificate alone (the file kube-controller-manager signs with must hold one)", o.NewCACert, len(ca.Bundle))
		}
		s.cert, s.key = ca.Cert, ca.Key
	}
	if err := policy.Key("the new key "+o.NewCAKey, s.key.Public(), false); err != nil {
		return s, err
	}
	if s.id() == r.m.old.id() || pki.SamePublicKey(s.key.Public(), r.m.old.key.Public()) {
		return s, fmt.Errorf("%s is the key of the current %s CA: a rotation needs a new key", o.NewCAKey, r.k.name)
	}
	return s, nil
}

// derGiven says which of the given files holds DER, not the PEM that
// certctl and the components read (a CA on Windows hands out .cer files
// in DER), and the command that converts it; "" when neither does.
func derGiven(certFile, keyFile string) string {
	q := output.ShellQuote
	if data, err := pki.ReadFile(certFile); err == nil && pki.IsDERCertificate(data) {
		return fmt.Sprintf("%s holds a DER certificate, not PEM: convert it with `openssl x509 -inform der -in %s -out %s`, and give that", certFile, q(certFile), q(certFile+".pem"))
	}
	if data, err := pki.ReadFile(keyFile); err == nil && pki.IsDERKey(data) {
		return fmt.Sprintf("%s holds a DER private key, not PEM: convert it with `openssl pkey -inform der -in %s -out %s && chmod 600 %s`, and give that", keyFile, q(keyFile), q(keyFile+".pem"), q(keyFile+".pem"))
	}
	return ""
}

// generate makes the new CA: a key of the configured algorithm (the old
// key's when none is) and, but for sa, a self-signed certificate with the
// CA's profile (kubeadm's CN) and the CA validity.
func (r *run) generate() error {
	alg := r.o.KeyAlgorithm
	if alg == "" {
		if alg = pki.AlgorithmOf(r.m.old.key.Public()); alg == "" {
			alg = pki.RSA2048
		}
	}
	key, err := pki.GenerateKey(r.o.Rand, alg)
	if err != nil {
		return fmt.Errorf("generate the new %s key: %w", r.k.name, err)
	}
	r.m.new = side{key: key}
	if r.k.sa {
		return nil
	}
	r.m.new.cert, err = pki.NewSelfSignedCA(r.o.Rand, pki.Node{}.Profile(r.k.entry), key, r.newCAValidity())
	return err
}

// stageFiles collects the files of a stage, keeping the first error.
type stageFiles struct {
	files []txn.File
	err   error
}

func (s *stageFiles) add(f txn.File, err error) {
	if s.err == nil {
		s.files, s.err = append(s.files, f), err
	}
}

// buildTrust builds the trust stage: the bundle OLD then NEW, the new CA
// beside the old one (ca.new.crt, ca.new.key, and ca.old.crt, the single
// certificate kube-controller-manager signs with meanwhile), every
// kubeconfig's CA data, and the record.
func (r *run) buildTrust() error {
	old, nw := r.m.old, r.m.new
	var files stageFiles
	files.add(trustFile(r.k, r.p, old, nw))
	files.add(keyFile(r.p.NewKey, nw))
	if !r.k.sa {
		files.add(certFile(r.p.OldCert, old))
		files.add(certFile(r.p.NewCert, nw))
	}
	if files.err != nil {
		return files.err
	}
	r.to = nextRecord(Record{Version: recordVersion, CA: r.k.name, OldCA: old.id(), NewCA: nw.id()}, StageTrust, r.now, r.restarts())
	return r.finishFiles(files.files, []side{old, nw})
}

// buildReissue builds the stages that switch the signing CA: reissue
// (signer NEW, bundle NEW then OLD, ca.old.key keeping the old key), and
// abort-reissue (signer OLD again, bundle OLD then NEW, ca.new.key), and
// the renewal of every leaf and kubeconfig by signer.
func (r *run) buildReissue(signer, other side, stage string) error {
	var files stageFiles
	otherKey := r.p.OldKey
	if stage == StageTrust {
		otherKey = r.p.NewKey
	}
	files.add(trustFile(r.k, r.p, signer, other))
	files.add(keyFile(r.p.Key, signer))
	if other.key != nil {
		files.add(keyFile(otherKey, other))
	} // else the new CA's key, gone when --abort goes back from reissue without it (readMaterial): stage trust lacks it, as after its loss at trust, and the next --abort drops the new CA
	if files.err != nil {
		return files.err
	}
	r.to = nextRecord(*r.rec, stage, r.now, r.restarts())
	if stage == StageReissue {
		at := r.now
		r.to.ReissuedAt, r.to.Aborting = &at, false
	} else {
		r.to.Aborting = true
	}
	r.remove = r.p.stray(stage)
	if !r.k.sa {
		r.targets = r.reissued()
		r.reissuer = &pki.LoadedCA{CertFile: r.p.Trust, KeyFile: r.p.Key, Cert: signer.cert, Bundle: []*x509.Certificate{signer.cert, other.cert}, Key: signer.key}
	}
	return r.finishFiles(files.files, []side{signer, other})
}

// buildEnd builds finish (keep NEW) and abort from trust (keep OLD): the
// bundle holds kept alone, the kubeconfigs' CA data too,
// kube-controller-manager signs with ca.crt and ca.key again, and the
// extra files go once the record says so.
func (r *run) buildEnd(kept side, stage string) error {
	if err := r.readyToEnd(kept, stage); err != nil {
		return err
	}
	f, err := trustFile(r.k, r.p, kept)
	if err != nil {
		return err
	}
	r.to = nextRecord(*r.rec, stage, r.now, r.restarts())
	r.to.Aborting = false
	r.remove = r.p.stray(stage)
	return r.finishFiles([]txn.File{f}, []side{kept})
}

// readyToEnd refuses to drop a CA that something on disk still uses: a
// certificate of the other CA, or (sa, finish) a token of the old key that
// may still be valid; Force overrides.
func (r *run) readyToEnd(kept side, stage string) error {
	if r.o.Force {
		return nil
	}
	if r.k.sa && stage == StageFinished {
		if at, where := r.lastReissue(); at != nil {
			if until := at.Add(r.o.MaxTokenLifetime); r.now.Before(until) {
				return fmt.Errorf("tokens signed by the old service-account key may be valid until %s (the new key signs%s since %s, when the restarts after reissue began or were recorded, plus --max-token-lifetime %s): finish after that, or with --force if no pod uses a token older than that", until.Format(time.RFC3339), where, at.Format(time.RFC3339), r.o.MaxTokenLifetime)
			}
		}
		return nil
	}
	var left, renew []string
	kubelet := false // a kubeconfig naming the kubelet's own rotated file
	for _, h := range r.hs {
		if h.cert != nil && !h.signedBy(kept.cert, r.now) {
			left = append(left, h.file)
			if h.entry.Kind != pki.KindKubeconfig || h.embedded {
				renew = append(renew, h.entry.CertName())
			} else {
				kubelet = true
			}
		}
	}
	if len(left) == 0 {
		return nil
	}
	what, by, step, them := "the old", "the new", "finish", "them"
	if stage == StageAborted {
		what, by, step = "the new", "the old", "the abort"
	}
	if len(left) == 1 {
		them = "it"
	}
	var how []string
	if len(renew) > 0 {
		// renew signs with the CA that signs at the stage: the one kept.
		which := "them"
		if len(renew) == 1 {
			which = "it"
		}
		how = append(how, fmt.Sprintf("`certctl renew %s%s` re-issues %s by %s %s CA", strings.Join(renew, " "), config.FolderFlags(r.o.CertDir, r.o.KubeconfigDir), which, by, r.k.name))
	}
	if kubelet {
		how = append(how, "a kubelet's client certificate: wait for the kubelet to rotate it, or restart it after `kubeadm kubeconfig user`")
	}
	return fmt.Errorf("%s a certificate of %s %s CA, which %s would stop trusting: re-issue %s (%s), then run again; --force drops the CA anyway", stillHold(left), what, r.k.name, step, them, strings.Join(how, "; "))
}

// finishFiles adds the CA data of the kubeconfigs, the manifest edit that
// points kube-controller-manager at the certificate of the stage it goes
// to (castage.Files.SigningCert) and the key file, and the
// record, and keeps the stage's files. The stage writes the CA data of
// every kubeconfig itself but, when the renewal engine re-issues (and so
// writes the CA data of) the embedded ones, of the others: those whose
// client certificate is not certctl's to re-issue.
func (r *run) finishFiles(files []txn.File, order []side) error {
	if r.k.kubeconfigs {
		kcs := slices.DeleteFunc(slices.Clone(r.hs), func(h held) bool { return len(r.targets) > 0 && h.embedded })
		fs, err := caDataFiles(kcs, order...)
		if err != nil {
			return err
		}
		files = append(files, fs...)
	}
	mf, err := r.signingFiles(r.to.Stage)
	if err != nil {
		return err
	}
	if r.k.signing && r.o.ManifestDir == "" {
		return fmt.Errorf("rotating the %s CA changes the files kube-controller-manager signs with, and it reads no bundle: pass --manifest-dir, the kubelet's staticPodPath, for certctl to edit its manifest", r.k.name)
	}
	files = append(files, mf...)
	rf, err := recordFile(r.to, r.p.Record)
	if err != nil {
		return err
	}
	r.files = append(files, rf)
	return nil
}

// listFiles joins files for a message: "a, b and 3 more".
func listFiles(files []string) string {
	if len(files) > 3 {
		return fmt.Sprintf("%s and %d more", strings.Join(files[:3], ", "), len(files)-3)
	}
	return strings.Join(files, ", ")
}

// restarts lists the components that must restart after a stage.
func (r *run) restarts() []string {
	return slices.DeleteFunc(slices.Clone(r.k.entry.Restart), func(c string) bool { return c == pki.Kubelet })
}

// stillHold is "FILE still holds", or "FILES still hold" for several.
func stillHold(files []string) string {
	if len(files) == 1 {
		return files[0] + " still holds"
	}
	return listFiles(files) + " still hold"
}
