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

// ChangeCount is the number of changes UnifiedDiff shows from a to b: a
// changed, added or removed line counts once, so a run of k removed lines
// replaced by m added ones counts max(k, m).
func ChangeCount(a, b []byte) int {
	n := 0
	for _, op := range difflib.NewMatcher(difflib.SplitLines(string(a)), difflib.SplitLines(string(b))).GetOpCodes() {
		if op.Tag != 'e' {
			n += max(op.I2-op.I1, op.J2-op.J1)
		}
	}
	return n
}
