package node

import (
	"slices"
	"strings"

	"github.com/certctl/certctl/internal/txn"
)

// TxnDownload is the kind of `certs download`'s transactions
// (txn.KindDownload).
const TxnDownload = txn.KindDownload

// txnKind is what the transaction id recovers: the kind its ID ends with
// (txn.Start) when it is one of txn's kinds, else "renewal" (renew, and a
// write of an older certctl).
func txnKind(id string) string {
	kinds := []string{txn.KindDownload, txn.KindImport, txn.KindRestore, txn.KindRotation}
	if parts := strings.Split(id, "-"); len(parts) == 3 && slices.Contains(kinds, parts[2]) {
		return parts[2]
	}
	return "renewal"
}
