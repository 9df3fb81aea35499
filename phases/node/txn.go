package node

import "strings"

// Kinds of transaction that are not renewals, written at the end of their
// ID (txn.WriteAllKind) so that recovery says what it finishes or discards
// (printRecovery).
const (
	// TxnDownload is `certs download`'s.
	TxnDownload = "download"
)

// txnKind is what the transaction id recovers: the kind its ID ends with
// when it is one of the kinds above, else "renewal" (renew, and every
// other write, as before).
func txnKind(id string) string {
	if parts := strings.Split(id, "-"); len(parts) == 3 && parts[2] == TxnDownload {
		return parts[2]
	}
	return "renewal"
}
