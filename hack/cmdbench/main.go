// Command cmdbench runs a command several times and prints its median and
// best wall time and its peak resident memory (from rusage, so no external
// `time` tool is needed):
//
//	go run ./hack/cmdbench -n 15 -name "certctl init" -setup "rm -rf /tmp/x" -- certctl init-phase certs all ...
//
// -setup runs through sh before every run, outside the measurement, so that
// each run starts from the same state.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"syscall"
	"time"
)

func main() {
	n := flag.Int("n", 10, "runs")
	name := flag.String("name", "", "label printed with the figures")
	setup := flag.String("setup", "", "shell command run before each run, not measured")
	flag.Parse()
	args := flag.Args()
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: cmdbench [-n N] [-name LABEL] [-setup SH] -- CMD ARGS...")
		os.Exit(2)
	}
	if *name == "" {
		*name = args[0]
	}
	var walls []time.Duration
	var maxRSS int64
	for i := 0; i < *n; i++ {
		if *setup != "" {
			if out, err := exec.Command("sh", "-c", *setup).CombinedOutput(); err != nil {
				fmt.Fprintf(os.Stderr, "setup: %v\n%s", err, out)
				os.Exit(1)
			}
		}
		cmd := exec.Command(args[0], args[1:]...)
		start := time.Now()
		out, err := cmd.CombinedOutput()
		wall := time.Since(start)
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n%s", *name, err, out)
			os.Exit(1)
		}
		walls = append(walls, wall)
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok && ru.Maxrss > maxRSS {
			maxRSS = ru.Maxrss // KiB on Linux
		}
	}
	sort.Slice(walls, func(i, j int) bool { return walls[i] < walls[j] })
	median := walls[len(walls)/2]
	fmt.Printf("%-40s wall time median %8.1f ms  best %8.1f ms  peak RSS %6.1f MiB  (%d runs)\n",
		*name, ms(median), ms(walls[0]), float64(maxRSS)/1024, *n)
	if f := os.Getenv("CMDBENCH_RESULT"); f != "" {
		// One line "median_ms peak_kib" for scripts that compare figures.
		if err := os.WriteFile(f, []byte(fmt.Sprintf("%.3f %d\n", ms(median), maxRSS)), 0o644); err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", *name, err) // the script would read the last run's figures
			os.Exit(1)
		}
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
