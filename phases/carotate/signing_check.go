package carotate

import "github.com/certctl/certctl/phases/carotate/castage"

// signingProblem says what is wrong with kube-controller-manager's signing
// flags in manifestDir at a stage of the rotation of k that is under way
// (castage.SigningProblem, which check-expiration reports too); "" for a
// CA kube-controller-manager does not sign with.
func signingProblem(k kind, p paths, rec *Record, manifestDir string) string {
	problem, _ := signingCheck(k, p, rec, manifestDir)
	return problem
}

// signingCheck is signingProblem and the command that fixes it.
func signingCheck(k kind, p paths, rec *Record, manifestDir string) (problem, fix string) {
	if !k.signing {
		return "", ""
	}
	return castage.SigningCheck(p.Files, rec, manifestDir)
}
