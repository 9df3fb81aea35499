package manifests

import (
	"fmt"

	"github.com/pmezard/go-difflib/difflib"
)

// UnifiedDiff returns the changes from a to b as a unified diff with three
// lines of context, "" when they are equal. The names label the two sides.
func UnifiedDiff(nameA, nameB string, a, b []byte) (string, error) {
	if string(a) == string(b) {
		return "", nil
	}
	d, err := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A:        difflib.SplitLines(string(a)),
		B:        difflib.SplitLines(string(b)),
		FromFile: nameA,
		ToFile:   nameB,
		Context:  3,
	})
	if err != nil {
		return "", fmt.Errorf("manifests: diff %s: %w", nameA, err)
	}
	return d, nil
}
