package carotate

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/pki"
)

// TestDamagedRecordSaysWhatRecovers: a record that does not parse said
// "restore it from the last backup in certctl-backups", but each stage's
// backup holds the record from before that stage: put back, it names the
// wrong stage. The error must say that no backup holds it and point at
// docs/ca-rotation.md's "A damaged record", whose steps this test follows
// at reissue (the newest copy, its stage set) and at trust (none of this
// rotation: written from the fingerprints); ca status then finds the node
// as the stage left it, and the rotation goes on.
func TestDamagedRecordSaysWhatRecovers(t *testing.T) {
	for _, stages := range []int{1, 2} {
		t.Run([]string{"", StageTrust, StageReissue}[stages], func(t *testing.T) {
			f := newFixture(t)
			for range stages {
				f.rotate(t, pki.CAName, nil)
				f.now = f.now.Add(time.Minute)
			}
			p := k(t, pki.CAName).paths(f.node.CertDir())
			good, err := ReadRecord(p.Record)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p.Record, []byte("{\"version\": 1, \"stage\": \"tru"), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err = ReadRecord(p.Record)
			if err == nil {
				t.Fatal("a damaged record parsed")
			}
			if strings.Contains(err.Error(), "restore it from the last backup") || !strings.Contains(err.Error(), "no backup holds it") || !strings.Contains(err.Error(), "A damaged record") || !strings.Contains(err.Error(), p.Record) {
				t.Fatalf("damaged record: %q, want that no backup holds it and the document's section", err)
			}

			// The document's steps. The stage of the files: NAME.new.key
			// at trust, NAME.old.key at reissue.
			stage := StageTrust
			if !missing(p.OldKey) {
				stage = StageReissue
			}
			copies, _ := filepath.Glob(filepath.Join(f.node.Dir, "certctl-backups", "*", "pki", filepath.Base(p.Record)))
			slices.Sort(copies)
			rec := map[string]any{}
			if len(copies) > 0 {
				data := mustReadFile(t, copies[len(copies)-1])
				if err := json.Unmarshal(data, &rec); err != nil {
					t.Fatal(err)
				}
			}
			if s := rec["stage"]; s != StageTrust && s != StageReissue {
				// Trust wrote the damaged record: no copy of this rotation.
				oldCA, _, err := pki.ReadCertFile(p.OldCert)
				if err != nil {
					t.Fatal(err)
				}
				newCA, _, err := pki.ReadCertFile(p.NewCert)
				if err != nil {
					t.Fatal(err)
				}
				rec = map[string]any{"version": 1, "ca": pki.CAName, "oldCA": fingerprint(oldCA), "newCA": fingerprint(newCA),
					"restart": []string{"kube-apiserver", "kube-controller-manager", "kube-scheduler"}}
			}
			rec["stage"], rec["restarted"] = stage, false
			data, err := json.Marshal(rec)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p.Record, data, 0o600); err != nil {
				t.Fatal(err)
			}

			st := statusOf(t, f, pki.CAName)
			if st.Stage != good.Stage || len(st.Problems) > 0 || st.Restarted {
				t.Fatalf("ca status after the record was written again: stage %s, problems %q, restarted %v; want stage %s, none, restarts owed", st.Stage, st.Problems, st.Restarted, good.Stage)
			}
			// Finish (from reissue), or reissue then finish.
			for range 3 - stages {
				f.rotate(t, pki.CAName, func(o *Options) { o.Restarted = true })
			}
			if st := statusOf(t, f, pki.CAName); st.Stage != StageFinished || len(st.Problems) > 0 {
				t.Errorf("after the rotation went on: stage %s, problems %q", st.Stage, st.Problems)
			}
		})
	}
}
