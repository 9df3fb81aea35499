// Package debuglog is certctl's -v: klog's verbosity level, which also
// turns on client-go's own lines, and certctl's debug lines on stderr.
package debuglog

import (
	"flag"
	"fmt"
	"strconv"

	"k8s.io/klog/v2"
)

// Verbosity levels of certctl's own debug lines, klog's convention: 2 what
// a command reads and decides, 4 each file, 6 and up client-go's API
// requests (6 the URLs, 8 the bodies).
const (
	Decisions = 2
	Files     = 4
)

// Level is -v as a flag value (pflag.Value): a level, applied to klog when
// it is parsed, so that it applies before any client is made.
type Level struct {
	fs    *flag.FlagSet
	level int
}

// NewLevel returns a Level at 0 bound to klog's flags.
func NewLevel() *Level {
	fs := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(fs)
	return &Level{fs: fs}
}

func (l *Level) String() string { return strconv.Itoa(l.level) }
func (l *Level) Type() string   { return "int" }
func (l *Level) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return fmt.Errorf("%q is not a verbosity level: use a number from 0 (the default) to 10", s)
	}
	l.level = n
	return l.fs.Set("v", s)
}

// Debugf prints a debug line on stderr, through klog, when -v is at least
// level; klog names the caller's file and line.
func Debugf(level klog.Level, format string, args ...any) {
	if v := klog.V(level); v.Enabled() {
		v.InfoSDepth(1, fmt.Sprintf(format, args...))
	}
}
