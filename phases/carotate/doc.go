// Package carotate rotates one CA of a control-plane node (ca,
// front-proxy-ca, etcd-ca) or the service-account key pair (sa) in
// stages, so that every component trusts the new CA before anything is
// signed by it, and the old CA is dropped only when nothing uses it:
//
//	trust    a new CA; every trust file holds OLD then NEW; OLD still signs
//	reissue  every leaf and kubeconfig of the CA re-issued by NEW; bundles
//	         NEW then OLD; NEW signs
//	finish   bundles NEW only; the extra files removed
//
// and --abort, before finish, back to the old CA the same way.
//
// Each stage is one run of the phase runner (phases.Run: a check pass that
// reads, verifies and plans, then the real pass) and writes its files and
// the stage record (Record, kept in the certificate folder) in one
// transaction (internal/txn): a kill at any instant leaves either the
// stage before or the stage after, and the next call, which recovers the
// transaction under certctl's lock, resumes from the record. The files a
// stage no longer needs (the key of the CA that does not sign) are removed
// after the commit; every call removes them again first, so a kill in
// between leaves nothing behind.
//
// In every stage the first certificate of the bundle (ca.crt) is the one
// that ca.key matches, so kubeadm, which reads the first certificate of
// ca.crt with ca.key, and certctl's own readers (pki.LoadCA) keep working.
// docs/ca-rotation.md says what each stage changes and why.
package carotate
