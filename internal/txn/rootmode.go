package txn

import "github.com/certctl/certctl/internal/certdir"

// checkRoot refuses a transaction folder (Root) that another user may
// write (certdir.CheckPrivate): Begin makes it 0700, and one opened since
// (a chmod, a folder another tool made) would let anyone who may write it
// put a committed transaction there, which recovery installs into the
// certificate folders with the mode and owner its manifest says (a new
// ca.key).
func checkRoot(root string) error {
	return certdir.CheckPrivate(root, "transaction folder", "a transaction that certctl would install into the certificate folders")
}
