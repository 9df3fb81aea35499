package cmd

import (
	"time"

	"github.com/spf13/pflag"

	"github.com/certctl/certctl/internal/lock"
)

// lockFlags is --lock-timeout, for the commands that write.
type lockFlags struct {
	timeout time.Duration
}

func (f *lockFlags) addTo(fs *pflag.FlagSet) {
	f.timeout = lock.DefaultTimeout
	fs.Var((*lock.TimeoutValue)(&f.timeout), "lock-timeout", "how long to wait for another certctl command working on the same folders before giving up (0: do not wait)")
}
