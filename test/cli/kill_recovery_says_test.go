package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// recoverySaid is what the [recover] lines of a command said it did.
type recoverySaid struct {
	// finished holds, per transaction rolled forward, how many files it
	// said now hold the new content, and savedIn where it said their old
	// content is ("" when it named no folder); discarded counts those it
	// said it discarded before they changed a file.
	finished  []int
	savedIn   []string
	discarded int
	// kinds are what each finished or discarded transaction was called.
	kinds []string
	// removed are the files it said an interrupted write left.
	removed []string
}

var (
	finishedLine  = regexp.MustCompile(`^\[recover\] finished (\S+) \S+, which was interrupted after it committed: (\d+) file\(s\) now hold the new content(?:; the replaced ones are saved in (\S+))?$`)
	discardedLine = regexp.MustCompile(`^\[recover\] discarded (\S+) \S+, which was interrupted before it committed: no file had been changed$`)
	removedLine   = regexp.MustCompile(`^\[recover\] removed (.+), left by an interrupted write$`)
)

// parseRecovery reads the [recover] lines of out; a [recover] line of
// another form fails the test, so that a new message gets a check here.
func parseRecovery(t *testing.T, out string) recoverySaid {
	t.Helper()
	var s recoverySaid
	for _, l := range strings.Split(out, "\n") {
		if !strings.HasPrefix(l, "[recover]") {
			continue
		}
		if m := finishedLine.FindStringSubmatch(l); m != nil {
			n, _ := strconv.Atoi(m[2])
			s.finished = append(s.finished, n)
			s.savedIn = append(s.savedIn, m[3])
			s.kinds = append(s.kinds, m[1])
		} else if m := discardedLine.FindStringSubmatch(l); m != nil {
			s.discarded++
			s.kinds = append(s.kinds, m[1])
		} else if m := removedLine.FindStringSubmatch(l); m != nil {
			s.removed = append(s.removed, m[1])
		} else if !strings.HasPrefix(l, "[recover] skipped: ") {
			t.Errorf("a [recover] line no kill test checks: %q", l)
		}
	}
	return s
}

// checkRemovedSaid checks that each file recovery said an interrupted
// write left is a temporary file (internal/atomicfile's .NAME.tmp-*
// names), and is gone.
func checkRemovedSaid(t *testing.T, s recoverySaid) {
	t.Helper()
	for _, p := range s.removed {
		if b := filepath.Base(p); !strings.HasPrefix(b, ".") || !strings.Contains(b, ".tmp-") {
			t.Errorf("recovery said it removed %s, left by an interrupted write: that is not the name of a temporary file", p)
		}
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("recovery said it removed %s, but it is there", p)
		}
	}
}

// checkWriterRecovery checks that what check-expiration's recovery said
// (errOut) after a kill of tc is true of the files.
//
// A case that writes no transaction (init-phase and signer writes files one
// by one with atomicfile; --use-csr writes only the CSR folder) must have
// no transaction to finish or discard. A case whose command is one
// transaction (certs import and restore: renewal.Install) was interrupted
// either after its commit, when "finished" means that every certificate
// and kubeconfig is the one of an uninterrupted run, or before it, when
// "discarded ..., no file had been changed" means that every file of the
// node is byte for byte the one it started with and that no file was
// added (the CSR folder aside: `certs import` reads it, and what a
// --use-csr run leaves there is not the node's).
func checkWriterRecovery(t *testing.T, tc writerCase, w writerNode, start, end map[string][]byte, errOut string) {
	t.Helper()
	s := parseRecovery(t, errOut)
	checkRemovedSaid(t, s)
	checkSavedIn(t, s)
	if !tc.oneTxn {
		if len(s.finished) > 0 || s.discarded > 0 {
			t.Errorf("recovery finished %d and discarded %d transactions of %s, which writes none", len(s.finished), s.discarded, tc.name)
		}
		return
	}
	if len(s.finished)+s.discarded > 1 {
		t.Errorf("recovery finished %d and discarded %d transactions of %s, which writes one", len(s.finished), s.discarded, tc.name)
	}
	for _, k := range s.kinds {
		if k != tc.kind {
			t.Errorf("recovery calls the transaction of %s a %s, want %s", tc.name, k, tc.kind)
		}
	}
	for _, n := range s.finished {
		if n == 0 {
			t.Errorf("recovery finished a transaction that holds no file")
		}
		for _, rel := range certFiles() {
			if !bytes.Equal(read(t, filepath.Join(w.root, rel)), end[rel]) {
				t.Errorf("recovery said it finished the transaction of %s (%d files now hold the new content), but %s is not the one an uninterrupted run writes", tc.name, n, rel)
			}
		}
	}
	if s.discarded == 0 {
		return
	}
	node := func(rel string) bool {
		return !strings.HasPrefix(rel, "csr/") && filepath.Base(rel) != ".certctl.lock"
	}
	now := snapshotFiles(t, w.root)
	for rel, data := range now {
		if !node(rel) {
			continue
		}
		if old, ok := start[rel]; !ok {
			t.Errorf("recovery said it discarded the transaction of %s, which had changed no file, but %s is new", tc.name, rel)
		} else if !bytes.Equal(data, old) {
			t.Errorf("recovery said it discarded the transaction of %s, which had changed no file, but %s changed", tc.name, rel)
		}
	}
	for rel := range start {
		if _, ok := now[rel]; node(rel) && !ok {
			t.Errorf("recovery said it discarded the transaction of %s, which had changed no file, but %s is gone", tc.name, rel)
		}
	}
}

// checkRotationRecovery checks that what check-expiration's recovery said
// (rec) after a kill of `ca rotate` is true of the files: node holds the
// files of the node before the kill (snapshotFiles of its folder), recPath
// the rotation's record, moved whether its stage changed.
//
// One run may write two transactions, one after the other: the record
// alone, marked restarted (--restarted), then the stage, which holds the
// record, the trust and key files and the backup. A kill leaves at most
// one of them to recover. So a "finished" transaction of more than one
// file is the stage's, and then the stage moved; one of a single file may
// be the mark alone, and proves nothing on the stage. "Discarded" is true
// of either only if the stage did not move and every file of the node
// but the record (which the first may have changed, committed before the
// second began) is byte for byte the one before the kill, none added.
//
// Each ca rotate first removes what a kill after the last stage's commit
// left of the files that stage no longer needs (stray, below), before any
// transaction of its own: such a file may be gone after a discard.
func checkRotationRecovery(t *testing.T, rec string, root, recPath string, before map[string][]byte, moved bool, stray []string) {
	t.Helper()
	s := parseRecovery(t, rec)
	checkRemovedSaid(t, s)
	if len(s.finished)+s.discarded > 1 {
		t.Errorf("recovery finished %d and discarded %d transactions: one run of ca rotate leaves one at most", len(s.finished), s.discarded)
	}
	for _, k := range s.kinds {
		if k != "rotation" {
			t.Errorf("recovery calls a transaction of ca rotate a %s, want rotation", k)
		}
	}
	for _, n := range s.finished {
		if n > 1 && !moved {
			t.Errorf("recovery said it finished a transaction of %d files, the stage's, but the record names the same stage as before", n)
		}
	}
	if s.discarded == 0 {
		return
	}
	if moved {
		t.Errorf("recovery said it discarded a transaction that had changed no file, but the record names another stage than before")
	}
	relRec, _ := filepath.Rel(root, recPath)
	skip := func(rel string) bool { return rel == relRec || filepath.Base(rel) == ".certctl.lock" }
	now := snapshotFiles(t, root)
	for rel, data := range now {
		if old, ok := before[rel]; skip(rel) {
			continue
		} else if !ok {
			t.Errorf("recovery said it discarded a transaction that had changed no file, but %s is new", rel)
		} else if !bytes.Equal(data, old) {
			t.Errorf("recovery said it discarded a transaction that had changed no file, but %s changed", rel)
		}
	}
	for rel := range before {
		if _, ok := now[rel]; !ok && !skip(rel) && !slices.Contains(stray, rel) {
			t.Errorf("recovery said it discarded a transaction that had changed no file, but %s is gone", rel)
		}
	}
}

// checkSavedIn checks that each transaction recovery said it finished
// with a backup replaced as many files as its backup.json lists, there.
func checkSavedIn(t *testing.T, s recoverySaid) {
	t.Helper()
	for i, dir := range s.savedIn {
		if dir == "" {
			continue
		}
		var m struct{ Files []json.RawMessage }
		if err := json.Unmarshal(read(t, filepath.Join(dir, "backup.json")), &m); err != nil {
			t.Errorf("recovery said the replaced files are saved in %s: %v", dir, err)
		} else if len(m.Files) != s.finished[i] {
			t.Errorf("recovery said %d file(s) now hold the new content, the replaced ones saved in %s, which lists %d", s.finished[i], dir, len(m.Files))
		}
	}
}
