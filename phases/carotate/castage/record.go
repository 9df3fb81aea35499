package castage

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/certctl/certctl/pki"
)

// The stages of a rotation, as the record spells them.
const (
	StageTrust    = "trust"    // OLD and NEW trusted, OLD signs
	StageReissue  = "reissue"  // NEW and OLD trusted, NEW signs and signed every leaf
	StageFinished = "finished" // NEW only
	StageAborted  = "aborted"  // OLD only, NEW dropped
)

// RecordPrefix starts the name of the stage record in the certificate
// folder: .certctl-rotation-NAME.json. A dot-file: kubeadm and the
// components never read it.
const RecordPrefix = ".certctl-rotation-"

// RecordVersion is the version of the record this certctl reads and writes.
const RecordVersion = 1

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
	// ReissuedAt is when the new CA (or sa key) started signing: written
	// by reissue, and again when the restarts after it are recorded (the
	// components sign with the old key until they restart). For sa,
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

// Trusted are the fingerprints the trust file holds at the record's
// stage, in order: the CA that signs first. nil without a record.
func (r *Record) Trusted() []string {
	if r == nil {
		return nil
	}
	return map[string][]string{StageTrust: {r.OldCA, r.NewCA}, StageReissue: {r.NewCA, r.OldCA},
		StageFinished: {r.NewCA}, StageAborted: {r.OldCA}}[r.Stage]
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
	if r.Version != RecordVersion {
		return nil, fmt.Errorf("rotation record %s has version %d, this certctl reads %d: use the certctl that started the rotation", path, r.Version, RecordVersion)
	}
	return &r, nil
}

// Fingerprint is the SHA-256 of a certificate's DER, as a record holds it.
func Fingerprint(c *x509.Certificate) string {
	return fmt.Sprintf("%x", sha256.Sum256(c.Raw))
}
