package staticpods

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/certctl/certctl/internal/atomicfile"
	"github.com/certctl/certctl/internal/certdir"
	"github.com/certctl/certctl/pki"
)

// PendingFileName is the file that remembers the restarts still owed after
// a renewal, in the parent of the certificate folder, like certctl's lock
// (/etc/kubernetes/.certctl-restarts.json): a component that did not come
// back with its new certificates on the day of the renewal is restarted by
// the next run, even when that run has nothing to renew. Without it, the
// next daily run would have nothing to do and say so, while kube-apiserver
// kept its old client certificates until they expire.
//
// It is state, not a cache: nothing on the node tells whether
// kube-apiserver uses its renewed client certificates (it reloads its
// serving certificate by itself, so what it serves proves nothing), nor
// whether kube-controller-manager and kube-scheduler use their renewed
// kubeconfigs, whose certificates they serve to no one.
const PendingFileName = ".certctl-restarts.json"

// pendingVersion is the version of the file's format.
const pendingVersion = 1

// Pending is the restarts still owed, as kept in PendingFileName. Every
// change is written with Save, atomically, by a process that holds
// certctl's lock.
type Pending struct {
	Version    int                `json:"version"`
	Components []PendingComponent `json:"components"` // in Order

	path string
	// found are the records read beside the folder's other names
	// (LoadPending's also), merged into this one: Save removes them.
	found []string
}

// PendingComponent is a component that must still be restarted to use
// renewed files.
type PendingComponent struct {
	Component string `json:"component"`
	// Manifest is its static pod manifest, when the restart was owed.
	Manifest string `json:"manifest"`
	// Files are the replaced host files it reads.
	Files []string `json:"files"`
	// Since is when its first owed restart was recorded (after the
	// renewal committed).
	Since time.Time `json:"since"`
	// OldPID is a process seen on its port with the old files, by a run
	// that tried or skipped the restart; 0 when unknown. A later run that
	// finds another process there, serving the files on disk, knows that
	// the component was restarted since (by the kubelet, late, or by a
	// person), and does not restart it again.
	OldPID int `json:"oldPID,omitempty"`
	// Reason is why the last attempt did not succeed; "" before one.
	Reason string `json:"reason,omitempty"`
}

// PendingPath returns the PendingFileName that goes with certDir.
func PendingPath(certDir string) (string, error) {
	return certdir.Beside(certDir, PendingFileName)
}

// LoadPending reads the restarts owed from path; none when the file does
// not exist. also are the records beside the other names of the same
// certificate folder (/data/pki for /etc/kubernetes/pki, a link to it:
// node.LoadOwed), left by runs given that name: what they owe is merged
// into what path owes, and Save moves it beside path, so that a restart
// owed under one name is retried, reported and cleared under either.
func LoadPending(path string, also ...string) (*Pending, error) {
	p, err := loadPendingFile(path)
	if err != nil {
		return nil, err
	}
	for _, a := range also {
		q, err := loadPendingFile(a)
		if err != nil {
			return nil, err
		}
		if _, err := os.Lstat(a); err == nil {
			p.found = append(p.found, a)
		}
		for _, c := range q.Components {
			p.merge(c)
		}
	}
	return p, nil
}

// loadPendingFile is LoadPending of path alone.
func loadPendingFile(path string) (*Pending, error) {
	p := &Pending{Version: pendingVersion, path: path}
	// A FIFO is refused, not waited on (pki.ReadFile too); this file can
	// simply be removed.
	if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("read the restarts still owed from %s: not a regular file but a %s: remove it, then restart the control-plane components if in doubt", path, pki.FileKind(fi.Mode()))
	}
	data, err := pki.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return p, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the restarts still owed from %s: %w", path, err)
	}
	if err := json.Unmarshal(data, p); err != nil || p.Version != pendingVersion {
		if err == nil {
			err = fmt.Errorf("version %d, want %d", p.Version, pendingVersion)
		}
		return nil, fmt.Errorf("parse the restarts still owed in %s: %w: check that the control-plane components run with their current certificates (restart them if in doubt), then remove the file", path, err)
	}
	return p, nil // json.Unmarshal leaves the unexported path as it was
}

// merge adds c, owed according to another record, to p: the earliest
// Since, every file, and p's own process and reason when it has them.
func (p *Pending) merge(c PendingComponent) {
	have := p.Get(c.Component)
	if have == nil {
		p.Components = append(p.Components, c)
		p.sort()
		return
	}
	if c.Since.Before(have.Since) {
		have.Since = c.Since
	}
	for _, f := range c.Files {
		if !slices.Contains(have.Files, f) {
			have.Files = append(have.Files, f)
		}
	}
	have.Manifest = cmp.Or(have.Manifest, c.Manifest)
	have.OldPID = cmp.Or(have.OldPID, c.OldPID)
	have.Reason = cmp.Or(have.Reason, c.Reason)
}

// sort puts p's components in Order.
func (p *Pending) sort() {
	slices.SortFunc(p.Components, func(x, y PendingComponent) int {
		return slices.Index(Order, x.Component) - slices.Index(Order, y.Component)
	})
}

// Records are the files p was read from that exist: the one at its path,
// then those beside the folder's other names (LoadPending's also). A user
// who restarts the components by hand removes them all.
func (p *Pending) Records() []string {
	var out []string
	if _, err := os.Lstat(p.path); err == nil {
		out = append(out, p.path)
	}
	return append(out, p.found...)
}

// Len is the number of components owed a restart.
func (p *Pending) Len() int { return len(p.Components) }

// Get returns the entry of component, or nil.
func (p *Pending) Get(component string) *PendingComponent {
	i := slices.IndexFunc(p.Components, func(c PendingComponent) bool { return c.Component == component })
	if i < 0 {
		return nil
	}
	return &p.Components[i]
}

// Owe records that a must be restarted to read its changed files, merged
// with what was owed to it already, and a.OldPID as the process seen with
// the old files (AffectedWithPending's: 0 when files changed again).
func (p *Pending) Owe(a Affected, now time.Time) {
	c := p.Get(a.Component)
	if c == nil {
		p.Components = append(p.Components, PendingComponent{Component: a.Component, Since: now.UTC()})
		c = &p.Components[len(p.Components)-1]
	}
	c.Manifest, c.OldPID = a.Path, a.OldPID
	for _, f := range a.ChangedFiles() {
		if !slices.Contains(c.Files, f) {
			c.Files = append(c.Files, f)
		}
	}
	p.sort()
}

// Record applies the outcome of one restart: a component that uses its
// new files is no longer owed; otherwise the reason is kept, and the first
// process seen with the old files (none after NotReady: the one seen was
// restarted already, and is restarted again).
func (p *Pending) Record(r Result) {
	if r.Status.OK() {
		p.Forget(r.Component)
		return
	}
	c := p.Get(r.Component)
	if c == nil {
		return
	}
	c.Reason = r.Message
	switch {
	case r.Status == NotReady:
		// The process now on the port is a new one, with the new files:
		// a later run would take it for a restart made since, and drop
		// what is owed without asking whether it is ready.
		c.OldPID = 0
	case c.OldPID == 0:
		c.OldPID = r.OldPID
	}
}

// Forget drops component.
func (p *Pending) Forget(component string) {
	p.Components = slices.DeleteFunc(p.Components, func(c PendingComponent) bool { return c.Component == component })
}

// Save writes p atomically (mode 0600), or removes the file when nothing
// is owed; then it removes the records beside the folder's other names
// that LoadPending merged into p. A run killed in between leaves those
// beside both names, which the next LoadPending merges again.
func (p *Pending) Save() error {
	if err := p.save(); err != nil {
		return err
	}
	for _, a := range p.found {
		if err := os.Remove(a); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove %s, the restarts owed under another name of the certificate folder, now recorded in %s: %w; remove it yourself", a, p.path, err)
		}
	}
	p.found = nil
	return nil
}

func (p *Pending) save() error {
	if len(p.Components) == 0 {
		if err := os.Remove(p.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove %s, which lists no restart owed any more: %w", p.path, err)
		}
		return nil
	}
	data, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return fmt.Errorf("encode the restarts still owed: %w", err)
	}
	if err := atomicfile.WriteFile(p.path, append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("record the restarts still owed in %s: %w", p.path, err)
	}
	return nil
}

// AffectedWithPending returns, in Order, the components whose manifests
// name one of the changed files and those p owes a restart, each with its
// owed files added to the changed ones and, when none of its files
// changed now, with the process p saw reading the old files. dropped lists what p owes to components that can no
// longer be restarted here: without a manifest in the folder, or whose
// manifest names none of the files any more.
func (s *Set) AffectedWithPending(changed []string, p *Pending) (affected []Affected, dropped []PendingComponent) {
	clean := make([]string, len(changed))
	for i, f := range changed {
		clean[i] = filepath.Clean(f)
	}
	for _, name := range Order {
		files := changed
		owed := p.Get(name)
		if owed != nil {
			files = append(slices.Clone(changed), owed.Files...)
		}
		all := s.Affected(files)
		i := slices.IndexFunc(all, func(a Affected) bool { return a.Component == name })
		if i < 0 {
			if owed != nil {
				dropped = append(dropped, *owed)
			}
			continue
		}
		a := all[i]
		// A process seen with older files says nothing about the files
		// this run changed.
		if owed != nil && !slices.ContainsFunc(a.ChangedFiles(), func(f string) bool { return slices.Contains(clean, f) }) {
			a.OldPID = owed.OldPID
		}
		affected = append(affected, a)
	}
	return affected, dropped
}
