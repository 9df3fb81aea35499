package carotate

import "github.com/certctl/certctl/phases/carotate/castage"

// signingProblem says what is wrong with kube-controller-manager's signing
// flags in manifestDir at a stage of the rotation of k that is under way
// (castage.SigningProblem, which check-expiration reports too); "" for a
// CA kube-controller-manager does not sign with.
func signingProblem(k kind, p paths, rec *Record, manifestDir string) string {
	if !k.signing {
		return ""
	}
	return castage.SigningProblem(p.f, rec, manifestDir)
}
