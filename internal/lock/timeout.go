package lock

import (
	"fmt"
	"time"
)

// DefaultTimeout bounds the wait of a writing command for another certctl
// working on the same folders. A renewal takes about a second, but one with
// --restart-control-plane holds the lock while the components restart, a
// few minutes at worst: long enough for cron runs that overlap, short
// enough that a stuck run is reported the same day (docs/cron.md).
const DefaultTimeout = 5 * time.Minute

// TimeoutValue is --lock-timeout as a flag value (pflag.Value): a duration
// that is refused, when it is parsed, if it is negative.
type TimeoutValue time.Duration

func (d *TimeoutValue) String() string { return time.Duration(*d).String() }
func (d *TimeoutValue) Type() string   { return "duration" }
func (d *TimeoutValue) Set(s string) error {
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	if v < 0 {
		return fmt.Errorf("must not be negative (0: do not wait)")
	}
	*d = TimeoutValue(v)
	return nil
}
