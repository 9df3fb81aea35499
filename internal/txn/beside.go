package txn

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/certctl/certctl/internal/atomicfile"
)

// A target on another file system or mount than the transaction folder
// (a certificate folder that is a mount point of its own, a bind mount,
// or a link to a folder on another mount, /etc/kubernetes/pki ->
// /data/pki) cannot be renamed into from the staged file: rename(2)
// fails with EXDEV. Copying
// it over after the commit point, as certctl did, fails there when that
// file system is full, with the change committed and every later write
// refused until space is freed. So Commit, before its commit point, also
// writes each such staged file into a temporary file in its target's own
// folder (stageBeside), and apply renames that one over the target.

// tempsName, in a transaction's folder, lists the temporary files
// stageBeside writes beside targets, before it writes them: discarding the
// transaction, even by RecoverIn after a kill, removes them.
const tempsName = "temps.json"

// tempName is the name of the temporary file beside target of the
// entry i of transaction id. It has atomicfile's form (".NAME.tmp-..."),
// so that atomicfile.IsTemp knows it: a certctl that knows no such files
// removes one left by a discarded transaction as a killed write's
// (atomicfile.CleanTemp), and the kubelet ignores dot-files.
func tempName(id string, i int, target string) string {
	return atomicfile.TempPrefix + filepath.Base(target) + ".tmp-" + id + "-" + strconv.Itoa(i)
}

// isTempOf reports whether name (a base name) may be a temporary file
// that stageBeside wrote beside target.
func isTempOf(name, target string) bool {
	return name == filepath.Base(name) && atomicfile.IsTemp(name) &&
		strings.HasPrefix(name, atomicfile.TempPrefix+filepath.Base(target)+".tmp-")
}

// mountID is a mount (device): a rename works within one only.
type mountID struct{ dev, mnt uint64 }

// stageBeside writes, for each entry whose target's folder is on another
// file system or mount than the transaction folder, the staged content with the
// entry's mode and owner into a temporary file in that folder, and names
// it in the entry (entry.Beside). They are fsynced with the staged files,
// before the commit point, and their folders too. A lack of space there
// fails the transaction before its commit point.
func (t *Txn) stageBeside() error {
	dev, ok := device(t.dir)
	if !ok {
		return nil
	}
	id := filepath.Base(t.dir)
	var idx []int
	var temps []string
	for i, e := range t.m.Entries {
		if e.Remove {
			continue
		}
		if d, ok := device(filepath.Dir(e.Target)); !ok || d == dev {
			continue
		}
		idx = append(idx, i)
		temps = append(temps, filepath.Join(filepath.Dir(e.Target), tempName(id, i, e.Target)))
	}
	if len(temps) == 0 {
		return nil
	}
	if err := t.writeList(tempsName, "the list of temporary files", temps); err != nil {
		return err
	}
	// The list must be durable before any file it names exists: a power
	// loss could otherwise keep a temporary file and lose its list.
	t.sync.start(t.dir)
	if err := t.sync.wait(); err != nil {
		return err
	}
	t.temps = temps
	var synced []string
	for n, i := range idx {
		e := t.m.Entries[i]
		data, err := readStaged(filepath.Join(t.dir, e.Staged))
		if err != nil {
			return err
		}
		if err := writeStaged(temps[n], data, e); err != nil {
			return err
		}
		t.sync.start(temps[n])
		if d := filepath.Dir(temps[n]); !slices.Contains(synced, d) {
			synced = append(synced, d)
			t.sync.start(d)
		}
		t.m.Entries[i].Beside = filepath.Base(temps[n])
	}
	return nil
}

// removeTemps removes the temporary files of a transaction that was not
// committed, and returns those it removed.
func removeTemps(temps []string) []string {
	var removed []string
	for _, p := range temps {
		if os.Remove(p) == nil {
			removed = append(removed, p)
		}
	}
	return removed
}

// placeBeside renames e's temporary file (stageBeside) over its target,
// then removes the staged file, whose absence tells a later apply that e
// is in place. It reports false when the temporary file is gone (or, with
// verify, damaged) and the target does not hold the new content: the
// caller then copies the staged file over (copyOver).
func placeBeside(staged string, e entry, verify bool) (bool, error) {
	temp := filepath.Join(filepath.Dir(e.Target), e.Beside)
	var err error
	if verify && !holds(temp, e.SHA256) {
		err = fs.ErrNotExist // missing or damaged: the same to the caller
	} else {
		err = os.Rename(temp, e.Target)
	}
	if errors.Is(err, fs.ErrNotExist) {
		// Renamed by an earlier, interrupted apply, or removed since.
		if !holds(e.Target, e.SHA256) {
			return false, nil
		}
	} else if err != nil {
		return false, explainReplace(e.Target, err)
	}
	if err := os.Remove(staged); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, fmt.Errorf("remove staged file %s: %w", staged, err)
	}
	return true, nil
}
