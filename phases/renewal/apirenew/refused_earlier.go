package apirenew

// Refusal is a CSR that an earlier run found denied or failed.
type Refusal struct {
	CSR string // its name
	Why string // "was denied (reason \"...\")", "failed: ..."
}

// RefusedEarlier returns, by certificate name, the CSRs of the pending
// keys of names that an earlier run found denied or failed: Obtain
// reports those at once and waits for nothing, and only --new-request
// renews them. It only reads, for --dry-run: a key that cannot be read is
// Obtain's to report.
func RefusedEarlier(pendingDir, nodeName string, names []string) map[string]Refusal {
	p := pending{dir: pendingDir}
	out := map[string]Refusal{}
	for _, n := range names {
		k, err := p.load(n)
		if err != nil || k == nil {
			continue
		}
		csr, err := CSRName(nodeName, n, k.Public())
		if err != nil {
			continue
		}
		if why := p.refused(n, csr); why != "" {
			out[n] = Refusal{CSR: csr, Why: why}
		}
	}
	return out
}
