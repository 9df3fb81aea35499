package apirenew

import "github.com/certctl/certctl/pki"

// Refusal is a CSR that an earlier run found denied or failed.
type Refusal struct {
	CSR string // its name
	Why string // "was denied (reason \"...\")", "failed: ..."
}

// RefusedEarlier returns, by certificate name, the CSRs of the pending
// keys of the certificates algs names that an earlier run found denied
// or failed: Obtain reports those at once and waits for nothing, and only
// --new-request renews them. algs gives, by name, the algorithm of the
// key the renewal wants: a pending key of another one (the configuration's
// encryptionAlgorithm changed since) is not resumed, Obtain makes a new
// key and CSR (see keys), so its refusal does not matter. It only reads,
// for --dry-run: a key that cannot be read is Obtain's to report.
func RefusedEarlier(pendingDir, nodeName string, algs map[string]pki.KeyAlgorithm) map[string]Refusal {
	p := pending{dir: pendingDir}
	out := map[string]Refusal{}
	for n, alg := range algs {
		k, err := p.load(n)
		if err != nil || k == nil || pki.AlgorithmOf(k.Public()) != alg {
			continue
		}
		csr, err := CSRName(nodeName, n, k.Public())
		if err != nil {
			continue
		}
		if _, why, ok := p.refused(n, csr); ok {
			out[n] = Refusal{CSR: csr, Why: why}
		}
	}
	return out
}
