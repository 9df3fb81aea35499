package txn

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// checkRoot refuses a transaction folder (Root) that another user may
// write: group- or other-writable, or owned by another user than the one
// running certctl. Begin makes it 0700; one opened since (a chmod, a folder
// another tool made) would let anyone who may write it put a committed
// transaction there, which recovery installs into the certificate folders
// with the mode and owner its manifest says (a new ca.key). A folder that
// does not exist is no error.
func checkRoot(root string) error {
	st, err := os.Stat(root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("check transaction folder %s: %w", root, err)
	}
	if perm := st.Mode().Perm(); perm&0o022 != 0 {
		return fmt.Errorf("transaction folder %s is mode %04o, writable by other users, who could put a transaction there that certctl would install into the certificate folders: check that it holds only certctl's transactions (remove any other), run chmod 700 %s, then run certctl again", root, perm, root)
	}
	if uid, ok := ownerOf(st); ok && uid != os.Geteuid() {
		return fmt.Errorf("transaction folder %s is owned by uid %d, not by the user running certctl (uid %d), who could put a transaction there that certctl would install into the certificate folders: check that it holds only certctl's transactions (remove any other), run chown %d %s and chmod 700 %s, then run certctl again", root, uid, os.Geteuid(), os.Geteuid(), root, root)
	}
	return nil
}
