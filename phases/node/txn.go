package node

import (
	"io"
	"strings"
	"time"

	"github.com/certctl/certctl/internal/txn"
)

// Kinds of transaction that are not renewals, written at the end of their
// ID so that recovery says what it finishes or discards (printRecovery).
const (
	// TxnDownload is `certs download`'s.
	TxnDownload = "download"
)

// WriteAll is txn.WriteAll with the transaction's ID ending in "-"+kind
// (TxnDownload): an interrupted one is then recovered as "download ID",
// not as a renewal. IDs still start with their UTC time, so recovery's
// time order stands.
func WriteAll(certDir, kind string, now time.Time, rand io.Reader, files []txn.File) error {
	t, err := begin(certDir, kind, now, rand)
	if err != nil {
		return err
	}
	defer t.Abort() // does nothing once committed
	for _, f := range files {
		if err := t.Add(f); err != nil {
			return err
		}
	}
	return t.Commit()
}

// begin starts the transaction of WriteAll.
func begin(certDir, kind string, now time.Time, rand io.Reader) (*txn.Txn, error) {
	root, err := txn.Root(certDir)
	if err != nil {
		return nil, err
	}
	id, err := txn.NewID(now, rand)
	if err != nil {
		return nil, err
	}
	return txn.Begin(root, id+"-"+kind, now)
}

// txnKind is what the transaction id recovers: the kind its ID ends with
// when it is one of the kinds above, else "renewal" (renew, and every
// other write, as before).
func txnKind(id string) string {
	if parts := strings.Split(id, "-"); len(parts) == 3 && parts[2] == TxnDownload {
		return parts[2]
	}
	return "renewal"
}
