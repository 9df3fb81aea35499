package renew

import (
	"os/exec"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/treetest"
)

// TestStaggerRefusesWhatSystemdRefuses: a --schedule that systemd cannot
// parse is refused when the units are written, not turned into a timer
// that systemd refuses to load ("Failed to parse calendar specification",
// "Timer unit lacks value setting. Refusing."), which never runs a
// renewal. A single "." between weekdays (a typo of ".."), a doubled ",",
// a month or day out of range and a year systemd does not take were all
// written as they were.
func TestStaggerRefusesWhatSystemdRefuses(t *testing.T) {
	for _, s := range []string{
		"Mon.Tue 02:30",
		"Mon,,Tue 02:30",
		"Mon.,Tue 02:30",
		"Mon..Fri.Sat 02:30",
		"2026-13-01 02:30",
		"*-00-01 02:30",
		"*-*-32 02:30",
		"*-*-0 02:30",
		"*-*-00 02:30",
		"*-1,13-* 02:30",
		"1969-01-01 02:30",
		"2200-01-01 02:30",
		"Mon 0000-01-01 02:30",
	} {
		t.Run(s, func(t *testing.T) {
			got, err := Stagger(s, 10*time.Minute)
			treetest.ErrMentions(t, err, "invalid --schedule", s)
			if err == nil {
				t.Errorf("Stagger(%q) = %q, which systemd refuses", s, got)
			}
		})
	}
	// What systemd reads still works.
	for s, want := range map[string]string{
		"Mon..Wed,Fri 02:30":  "Mon..Wed,Fri 02:40:00",
		"Mon,Wed..Fri 02:30":  "Mon,Wed..Fri 02:40:00",
		"*-*-1,15 02:30":      "*-*-1,15 02:40:00",
		"*-12-31 02:30":       "*-12-31 02:40:00",
		"1970-01-01 02:30":    "1970-01-01 02:40:00",
		"2026,2199-*-* 1:00":  "2026,2199-*-* 01:10:00",
		"Sun 2027-02-28 2:30": "Sun 2027-02-28 02:40:00",
	} {
		got, err := Stagger(s, 10*time.Minute)
		if err != nil || got != want {
			t.Errorf("Stagger(%q) = %q, %v; want %q", s, got, err, want)
		}
	}
}

// TestStaggerAsSystemdReads checks, where systemd-analyze is installed,
// that every schedule Stagger accepts is one systemd parses, and that the
// forms it refuses are ones systemd refuses too or that install-timer
// refuses on purpose (documented in docs/cron.md).
func TestStaggerAsSystemdReads(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed")
	}
	for _, s := range []string{
		"daily", "weekly", "monthly", "hourly", "Mon..Fri *-*-* 02:30", "Sat,Sun 23:10:30",
		"Mon.Tue 02:30", "Mon,,Tue 02:30", "2026-13-01 02:30", "*-*-32 02:30", "*-*-0 02:30",
		"*-00-01 02:30", "1969-01-01 02:30", "2200-01-01 02:30", "*-*-1,15 02:30", "1970-01-01 02:30",
	} {
		got, err := Stagger(s, 5*time.Minute)
		if err != nil {
			continue
		}
		if out, err := exec.Command(analyze, "calendar", got).CombinedOutput(); err != nil {
			t.Errorf("Stagger(%q) = %q, which systemd-analyze calendar refuses: %v\n%s", s, got, err, out)
		}
	}
}
