//go:build !linux

package txn

// attrs reports no flags: certctl manages Linux nodes, and elsewhere the
// rename is the test (see attrs_linux.go).
func attrs(path string) (immutable, appendOnly bool) { return false, false }

// writable reports nothing: see attrs.
func writable(dir string) error { return nil }
