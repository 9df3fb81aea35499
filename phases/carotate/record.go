package carotate

import (
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"time"

	"github.com/certctl/certctl/internal/txn"
	"github.com/certctl/certctl/phases/carotate/castage"
)

// The stages of a rotation, as the record spells them (castage).
const (
	StageTrust    = castage.StageTrust
	StageReissue  = castage.StageReissue
	StageFinished = castage.StageFinished
	StageAborted  = castage.StageAborted
)

// Stages are the forward stages, in order, as --to takes them.
var Stages = []string{StageTrust, StageReissue, "finish"}

// RecordPrefix starts the name of the stage record in the certificate
// folder: .certctl-rotation-NAME.json.
const RecordPrefix = castage.RecordPrefix

const recordVersion = castage.RecordVersion

// Record is a rotation's persisted stage (castage.Record, which
// check-expiration and signer enable read too).
type Record = castage.Record

// Step is one stage reached.
type Step = castage.Step

// ReadRecord reads the record at path; nil, nil when there is none.
func ReadRecord(path string) (*Record, error) { return castage.ReadRecord(path) }

// recordFile is the record r as a file of a transaction.
func recordFile(r *Record, path string) (txn.File, error) {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return txn.File{}, fmt.Errorf("encode rotation record %s: %w", path, err)
	}
	return txn.File{Target: path, Data: append(data, '\n'), Mode: 0o600, UID: -1, GID: -1}, nil
}

// nextRecord is a copy of r at stage, reached at now, with restarts owed.
func nextRecord(r Record, stage string, now time.Time, restart []string) *Record {
	r.Stage = stage
	r.History = append(append([]Step{}, r.History...), Step{Stage: stage, At: now.UTC()})
	r.Restart, r.Restarted = restart, len(restart) == 0
	return &r
}

// fingerprint is the SHA-256 of a certificate's DER.
func fingerprint(c *x509.Certificate) string { return castage.Fingerprint(c) }

// keyFingerprint is the SHA-256 of a public key's PKIX DER.
func keyFingerprint(pub crypto.PublicKey) string {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return ""
	}
	return fmt.Sprintf("%x", sha256.Sum256(der))
}
