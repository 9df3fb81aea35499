package cmd

import (
	"fmt"
	"time"

	"github.com/spf13/pflag"
)

// defaultLockTimeout bounds the wait of a writing command for another
// certctl working on the same folders. A renewal takes about a second, but
// one with --restart-control-plane holds the lock while the components
// restart, a few minutes at worst: long enough for cron runs that overlap,
// short enough that a stuck run is reported the same day (docs/cron.md).
const defaultLockTimeout = 5 * time.Minute

// lockFlags is --lock-timeout, for the commands that write.
type lockFlags struct {
	timeout time.Duration
}

func (f *lockFlags) addTo(fs *pflag.FlagSet) {
	f.timeout = defaultLockTimeout
	fs.Var((*nonNegativeDuration)(&f.timeout), "lock-timeout", "how long to wait for another certctl command working on the same folders before giving up (0: do not wait)")
}

// nonNegativeDuration is a duration flag that refuses a negative value
// when it is parsed, in every command that has it.
type nonNegativeDuration time.Duration

func (d *nonNegativeDuration) String() string { return time.Duration(*d).String() }
func (d *nonNegativeDuration) Type() string   { return "duration" }
func (d *nonNegativeDuration) Set(s string) error {
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	if v < 0 {
		return fmt.Errorf("must not be negative (0: do not wait)")
	}
	*d = nonNegativeDuration(v)
	return nil
}
