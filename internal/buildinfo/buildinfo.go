// Package buildinfo says which certctl this is: `certctl version` and the
// User-Agent of every API request.
package buildinfo

import (
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// Version returns certctl's version: stamped, the one set at build time
// (cmd.version), unless it is "dev"; else the module version Go recorded;
// else "dev".
func Version(stamped string) string {
	if stamped != "dev" {
		return stamped
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return stamped
}

// Print writes version with Go's version and the platform in format: ""
// (one line), "short" (the version alone) or "json".
func Print(w io.Writer, version, format string) error {
	info := map[string]string{"version": version, "goVersion": runtime.Version(), "platform": runtime.GOOS + "/" + runtime.GOARCH}
	var err error
	switch format {
	case "":
		_, err = fmt.Fprintf(w, "certctl %s (%s, %s)\n", info["version"], info["goVersion"], info["platform"])
	case "short":
		_, err = fmt.Fprintln(w, info["version"])
	case "json":
		b, _ := json.MarshalIndent(info, "", "  ")
		_, err = fmt.Fprintln(w, string(b))
	default:
		return fmt.Errorf("unknown output format %q: use short or json", format)
	}
	if err != nil {
		return fmt.Errorf("write the version: %w", err) // a full disk, a closed pipe: not exit 0
	}
	return nil
}
