//go:build !linux

package txn

// attrs reports no flags: certctl manages Linux nodes, and elsewhere the
// rename is the test (see attrs_linux.go).
func attrs(path string) (immutable, appendOnly bool) { return false, false }

// mountRoot reports nothing: see attrs.
func mountRoot(path string) bool { return false }

// writable reports nothing: see attrs.
func writable(dir string) error { return nil }

// device tells nothing: every target is then renamed, or copied when the
// rename fails with EXDEV (see stageBeside).
func device(path string) (mountID, bool) { return mountID{}, false }
