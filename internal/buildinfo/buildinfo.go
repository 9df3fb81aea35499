// Package buildinfo says which certctl this is: `certctl version` and the
// User-Agent of every API request.
package buildinfo

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/certctl/certctl/internal/output"
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

// Info is `certctl version -o json|yaml|jsonpath`.
type Info struct {
	Version   string `json:"version"`
	GoVersion string `json:"goVersion"`
	Platform  string `json:"platform"` // GOOS/GOARCH
}

// Print writes version with Go's version and the platform in format: one
// of output.Formats, as every printing command takes them (text and wide:
// one line; json, yaml and jsonpath: Info), or "short" (the version
// alone).
func Print(w io.Writer, version, format string) error {
	f, err := output.Parse(format, "short")
	if err != nil {
		return err
	}
	info := Info{Version: version, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if f.Name == "short" {
		_, err = fmt.Fprintln(w, info.Version)
	} else {
		err = f.Print(w, info, func(w io.Writer, _ bool) error {
			_, err := fmt.Fprintf(w, "certctl %s (%s, %s)\n", info.Version, info.GoVersion, info.Platform)
			return err
		})
	}
	if err != nil {
		return fmt.Errorf("write the version: %w", err) // a full disk, a closed pipe: not exit 0
	}
	return nil
}
