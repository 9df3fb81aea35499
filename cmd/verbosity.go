package cmd

import (
	"flag"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"
	"k8s.io/klog/v2"
)

// Verbosity levels of certctl's own debug lines, klog's convention: 2 what
// a command reads and decides, 4 each file, 6 and up client-go's API
// requests (6 the URLs, 8 the bodies).
const (
	vDecisions = 2
	vFiles     = 4
)

// addVerbosity gives every command klog's -v N (--v N): raising it prints
// certctl's debug lines (debugf) and client-go's own, on stderr. The level
// is klog's, set when the flag is parsed, so that it applies before any
// client is made.
func addVerbosity(root *cobra.Command) {
	klogFlags := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(klogFlags)
	root.PersistentFlags().VarP(&klogLevel{fs: klogFlags}, "v", "v", "number for the log level verbosity: 2 what certctl reads and decides, 4 each file, 6 the API requests, 8 their bodies (klog's -v)")
}

// klogLevel is -v: a level, applied to klog when it is parsed.
type klogLevel struct {
	fs    *flag.FlagSet
	level int
}

func (l *klogLevel) String() string { return strconv.Itoa(l.level) }
func (l *klogLevel) Type() string   { return "int" }
func (l *klogLevel) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return fmt.Errorf("%q is not a verbosity level: use a number from 0 (the default) to 10", s)
	}
	l.level = n
	return l.fs.Set("v", s)
}

// debugf prints a debug line on stderr, through klog, when -v is at least
// level.
func debugf(level klog.Level, format string, args ...any) {
	if v := klog.V(level); v.Enabled() {
		v.InfoSDepth(1, fmt.Sprintf(format, args...))
	}
}
