package renew

import (
	"strings"
	"testing"
	"time"
)

// TestStaggerHourlyPastTheHour: an hourly schedule at minute 30 with an
// offset of 54m was refused because "the node's offset 54m0s must be under
// an hour", which it is (docs/cron.md: an hourly schedule takes offsets
// under an hour). Every hour, 30m plus 54m is minute 24 of each hour.
func TestStaggerHourlyPastTheHour(t *testing.T) {
	if got, err := Stagger("*-*-* *:30", 54*time.Minute); err != nil || got != "*-*-* *:24:00" {
		t.Errorf("Stagger(*:30, 54m) = %q, %v; want *-*-* *:24:00", got, err)
	}
	if _, err := Stagger("*-*-* *:30", time.Hour); err == nil || !strings.Contains(err.Error(), "must be under an hour") {
		t.Errorf("Stagger(*:30, 1h): %v, want the offset refused", err)
	}
	if got, err := Stagger("*-*-* *:05", 54*time.Minute); err != nil || got != "*-*-* *:59:00" {
		t.Errorf("Stagger(*:05, 54m) = %q, %v; want *-*-* *:59:00", got, err)
	}
}
