// Command gendocs regenerates the command reference: go run ./hack/gendocs docs/reference
package main

import (
	"fmt"
	"os"

	"github.com/certctl/certctl/cmd"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gendocs DIR")
		os.Exit(2)
	}
	if err := cmd.GenerateReference(os.Args[1]); err != nil {
		fmt.Fprintf(os.Stderr, "error: %v\n", err)
		os.Exit(1)
	}
}
