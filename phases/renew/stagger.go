package renew

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The nodes of a cluster each run the renewal timer; when several renew
// together, they restart their kube-apiservers and etcd members together,
// which costs availability or etcd's quorum. install-timer therefore
// shifts each node's schedule by an offset within a window (--stagger):
// the SHA-256 of the node's name modulo the window, in whole minutes,
// the same offset at every install on the same node. systemd's
// RandomizedDelaySec draws a new delay at every boot and lets two nodes
// land in the same minute as easily; a hash keeps a node's time known
// (docs/cron.md) and --offset sets it by hand, e.g. by node index as
// kubespray does.

// shorthands are systemd's calendar shorthands install-timer can shift
// (systemd.time(7), "Calendar Events"), as their normalized form.
var shorthands = map[string]string{
	"hourly":  "*-*-* *:00:00",
	"daily":   "*-*-* 00:00:00",
	"weekly":  "Mon *-*-* 00:00:00",
	"monthly": "*-*-01 00:00:00",
}

// ScheduleShorthands are the calendar shorthands --schedule accepts, for
// its completion.
func ScheduleShorthands() []string { return slices.Sorted(maps.Keys(shorthands)) }

// The parts of a calendar event install-timer accepts: optional weekdays,
// an optional date and a time of day whose minutes and seconds are plain
// numbers (the offset is added to them). systemd's full syntax has more
// (ranges and repetitions of minutes, time zones); such a schedule is
// refused with the forms that work.
var (
	// Weekdays are separated by "," (a list) or ".." (a range): systemd
	// refuses a single "." or a doubled ",".
	weekdaysRE = regexp.MustCompile(`^(Mon|Tue|Wed|Thu|Fri|Sat|Sun)((,|\.\.)(Mon|Tue|Wed|Thu|Fri|Sat|Sun))*$`)
	dateRE     = regexp.MustCompile(`^(\*|\d{4}(,\d{4})*)-(\*|\d{1,2}(,\d{1,2})*)-(\*|\d{1,2}(,\d{1,2})*)$`)
	timeRE     = regexp.MustCompile(`^(\*|\d{1,2}):(\d{1,2})(:(\d{1,2}))?$`)
)

// Offset is the node's offset within window: the first 8 bytes of the
// SHA-256 of name, modulo the window's whole minutes. (FNV-1a put cp-2
// and cp-3 a minute apart.)
func Offset(name string, window time.Duration) time.Duration {
	minutes := int64(window / time.Minute)
	if minutes <= 0 || name == "" {
		return 0
	}
	sum := sha256.Sum256([]byte(name))
	return time.Duration(binary.BigEndian.Uint64(sum[:8])%uint64(minutes)) * time.Minute
}

// Stagger returns schedule (an OnCalendar value, DefaultSchedule when
// empty) shifted later by offset, or an error that says which schedules
// work. An hourly schedule takes offsets under an hour; a daily one must
// not be moved past midnight.
func Stagger(schedule string, offset time.Duration) (string, error) {
	schedule = cmp.Or(schedule, DefaultSchedule)
	usage := "use daily, weekly, monthly, hourly or [WEEKDAYS] [YYYY-MM-DD] HH:MM[:SS] as in systemd.time(7), e.g. \"Mon..Fri *-*-* 02:30\""
	if strings.ContainsAny(schedule, "\n\r\\\"'%") {
		return "", fmt.Errorf("invalid --schedule %q: %s", schedule, usage)
	}
	if n, ok := shorthands[strings.ToLower(strings.TrimSpace(schedule))]; ok {
		schedule = n
	}
	fields := strings.Fields(schedule)
	if len(fields) == 0 || len(fields) > 3 {
		return "", fmt.Errorf("invalid --schedule %q: %s", schedule, usage)
	}
	clock := fields[len(fields)-1]
	m := timeRE.FindStringSubmatch(clock)
	if m == nil {
		return "", fmt.Errorf("invalid --schedule %q: the time of day %q is not HH:MM[:SS] with plain minutes and seconds: %s", schedule, clock, usage)
	}
	prefix := fields[:len(fields)-1]
	switch len(prefix) {
	case 2:
		if !weekdaysRE.MatchString(prefix[0]) || !dateRE.MatchString(prefix[1]) {
			return "", fmt.Errorf("invalid --schedule %q: %s", schedule, usage)
		}
	case 1:
		if !weekdaysRE.MatchString(prefix[0]) && !dateRE.MatchString(prefix[0]) {
			return "", fmt.Errorf("invalid --schedule %q: %q is neither weekdays (Mon..Fri) nor a date (*-*-*): %s", schedule, prefix[0], usage)
		}
	}
	if len(prefix) > 0 {
		if date := prefix[len(prefix)-1]; dateRE.MatchString(date) {
			if err := dateInRange(date); err != nil {
				return "", fmt.Errorf("invalid --schedule %q: %w", schedule, err)
			}
		}
	}
	minute, _ := strconv.Atoi(m[2])
	second, _ := strconv.Atoi(m[4]) // 0 when the seconds are left out
	if minute > 59 || second > 59 {
		return "", fmt.Errorf("invalid --schedule %q: minutes and seconds go from 0 to 59", schedule)
	}
	total := minute*60 + second + int(offset/time.Second)
	hour := m[1]
	if hour == "*" {
		// Every hour: past the hour is the same minute of each hour.
		if offset >= time.Hour {
			return "", fmt.Errorf("--schedule %q runs every hour: the node's offset %v must be under an hour; pass a --stagger under 1h or --offset", schedule, offset)
		}
	} else {
		h, _ := strconv.Atoi(hour)
		if h > 23 {
			return "", fmt.Errorf("invalid --schedule %q: hours go from 0 to 23", schedule)
		}
		h += total / 3600
		if h > 23 {
			return "", fmt.Errorf("--schedule %q plus the node's offset %v passes midnight, which would move the day: pick an earlier time, a smaller --stagger or --offset", schedule, offset)
		}
		hour = fmt.Sprintf("%02d", h)
	}
	total %= 3600
	clock = fmt.Sprintf("%s:%02d:%02d", hour, total/60, total%60)
	return strings.Join(append(prefix, clock), " "), nil
}

// dateInRange checks the numbers of a date that dateRE matched as
// systemd.time(7) reads them: years 1970 to 2199, months 1 to 12, days 1
// to 31. systemd refuses a timer whose OnCalendar has another ("Timer
// unit lacks value setting"), which would never renew.
func dateInRange(date string) error {
	parts := strings.SplitN(date, "-", 3)
	for i, r := range []struct {
		what     string
		min, max int
	}{{"years", 1970, 2199}, {"months", 1, 12}, {"days", 1, 31}} {
		if parts[i] == "*" {
			continue
		}
		for _, n := range strings.Split(parts[i], ",") {
			if v, _ := strconv.Atoi(n); v < r.min || v > r.max {
				return fmt.Errorf("%s go from %d to %d in systemd's calendar, not %s", r.what, r.min, r.max, n)
			}
		}
	}
	return nil
}

// offset is the node's offset and the comment that explains it.
func (t Timer) offset() (time.Duration, string, error) {
	if t.Offset != nil {
		if *t.Offset < 0 || *t.Offset%time.Second != 0 {
			return 0, "", fmt.Errorf("invalid --offset %v: give whole seconds, 0 or more (20m)", *t.Offset)
		}
		return *t.Offset, fmt.Sprintf("Offset %s (--offset); docs/cron.md", short(*t.Offset)), nil
	}
	if t.Stagger < 0 {
		return 0, "", fmt.Errorf("invalid --stagger %v: give a window (1h), or 0 for none", t.Stagger)
	}
	if t.Stagger == 0 {
		return 0, "No offset (--stagger 0); docs/cron.md", nil
	}
	if strings.IndexFunc(t.NodeName, isControl) >= 0 {
		// It is written in the timer's comment, which a newline would end.
		return 0, "", fmt.Errorf("the node name %q contains a control character, which the timer's comment cannot hold on its line: pass --node-name with the node's name, or --offset", t.NodeName)
	}
	off := Offset(t.NodeName, t.Stagger)
	return off, fmt.Sprintf("Node %s: offset %s within --stagger %s, from its name; docs/cron.md", t.NodeName, short(off), short(t.Stagger)), nil
}

// short writes d as a person would: 1h, 12m, 1h5m, 0s.
func short(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// unitArg quotes one ExecStart argument for systemd (systemd.service(5),
// "Command lines"): "%" is a specifier, written "%%"; "$" starts a
// variable, written "$$"; a word with a space, a quote or a backslash is
// written in double quotes with C-style escapes.
func unitArg(s string) string {
	s = strings.NewReplacer("%", "%%", "$", "$$").Replace(s)
	if !strings.ContainsAny(s, " \t;\"'\\") {
		return s
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// unitPath writes a path for a unit setting such as ConditionPathExists,
// which takes the rest of the line and specifiers only.
func unitPath(s string) string { return strings.ReplaceAll(s, "%", "%%") }
