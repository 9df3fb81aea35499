package carotate

import (
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/certctl/certctl/internal/txn"
	"github.com/certctl/certctl/pki"
)

// The stages of a rotation, as the record spells them.
const (
	StageTrust    = "trust"    // OLD and NEW trusted, OLD signs
	StageReissue  = "reissue"  // NEW and OLD trusted, NEW signs and signed every leaf
	StageFinished = "finished" // NEW only
	StageAborted  = "aborted"  // OLD only, NEW dropped
)

// Stages are the forward stages, in order, as --to takes them.
var Stages = []string{StageTrust, StageReissue, "finish"}

// RecordPrefix starts the name of the stage record in the certificate
// folder: .certctl-rotation-NAME.json. A dot-file: kubeadm and the
// components never read it.
const RecordPrefix = ".certctl-rotation-"

const recordVersion = 1

// Record is a rotation's persisted stage. It is written in the same
// transaction as the stage's files, so it always says what the files are.
type Record struct {
	Version int    `json:"version"`
	CA      string `json:"ca"`
	Stage   string `json:"stage"`
	// Aborting is set once --abort went back from reissue to trust: the
	// leaves are the old CA's again; the next --abort drops the new CA.
	Aborting bool `json:"aborting,omitempty"`
	// OldCA and NewCA are SHA-256 fingerprints: of the CA certificate's
	// DER, of the public key's PKIX DER for sa.
	OldCA string `json:"oldCA"`
	NewCA string `json:"newCA"`
	// History has one line per stage reached, with its time.
	History []Step `json:"history"`
	// ReissuedAt is when the new CA (or sa key) started signing: for sa,
	// tokens signed by the old key may be used until ReissuedAt plus their
	// lifetime.
	ReissuedAt *time.Time `json:"reissuedAt,omitempty"`
	// Restart lists the components that must restart to read the files
	// of the last stage, before the next stage; Restarted says they did
	// (--restart-control-plane, or the user's --restarted).
	Restart   []string `json:"restart,omitempty"`
	Restarted bool     `json:"restarted"`
}

// Step is one stage reached.
type Step struct {
	Stage string    `json:"stage"`
	At    time.Time `json:"at"`
}

// Active reports whether a rotation is in progress.
func (r *Record) Active() bool {
	return r != nil && (r.Stage == StageTrust || r.Stage == StageReissue)
}

// ReadRecord reads the record at path; nil, nil when there is none.
func ReadRecord(path string) (*Record, error) {
	data, err := pki.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("read rotation record %s: %w", path, err)
	}
	var r Record
	if err := json.Unmarshal(data, &r); err != nil {
		// Each stage's backup holds the record from before that stage:
		// put back, it would name the wrong stage.
		return nil, fmt.Errorf("parse rotation record %s: %w: no backup holds it (each stage's backup in certctl-backups holds the record from before that stage): write it again from the files' stage as docs/ca-rotation.md says (\"A damaged record\")", path, err)
	}
	if r.Version != recordVersion {
		return nil, fmt.Errorf("rotation record %s has version %d, this certctl reads %d: use the certctl that started the rotation", path, r.Version, recordVersion)
	}
	return &r, nil
}

// file is the record as a file of a transaction.
func (r *Record) file(path string) (txn.File, error) {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return txn.File{}, fmt.Errorf("encode rotation record %s: %w", path, err)
	}
	return txn.File{Target: path, Data: append(data, '\n'), Mode: 0o600, UID: -1, GID: -1}, nil
}

// next is a copy of r at stage, reached at now, with restarts owed.
func (r Record) next(stage string, now time.Time, restart []string) *Record {
	r.Stage = stage
	r.History = append(append([]Step{}, r.History...), Step{Stage: stage, At: now.UTC()})
	r.Restart, r.Restarted = restart, len(restart) == 0
	return &r
}

// fingerprint is the SHA-256 of a certificate's DER.
func fingerprint(c *x509.Certificate) string {
	return fmt.Sprintf("%x", sha256.Sum256(c.Raw))
}

// keyFingerprint is the SHA-256 of a public key's PKIX DER.
func keyFingerprint(pub crypto.PublicKey) string {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return ""
	}
	return fmt.Sprintf("%x", sha256.Sum256(der))
}
