package cmd

import (
	"time"

	"github.com/spf13/pflag"

	"github.com/certctl/certctl/internal/lock"
)

// addLockFlag adds --lock-timeout into timeout, for the commands that
// write. Their --dry-run takes no lock and accepts the flag all the same,
// as it accepts every flag of the run it tries (docs/renew.md).
func addLockFlag(fs *pflag.FlagSet, timeout *time.Duration) {
	*timeout = lock.DefaultTimeout
	fs.Var((*lock.TimeoutValue)(timeout), "lock-timeout", "how long to wait for another certctl command working on the same folders before giving up (0: do not wait); --dry-run takes no lock and ignores it")
}
