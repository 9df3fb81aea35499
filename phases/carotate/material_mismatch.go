package carotate

import (
	"crypto/x509"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/certctl/certctl/phases/renewal"
	"github.com/certctl/certctl/pki"
)

// mismatch is the refusal when the CA files of rec's stage are not the
// CAs of the record (m, read from certFiles and keyFiles: old then new).
// Either the record is another rotation's (the trust file agrees with the
// files), or the files were changed: it names those that differ and where
// a true copy of each is. No backup holds the stage's CA files as such:
// each stage's backup holds the files from before it (reissue's ca.key is
// the old key), trust made NAME.old.crt, NAME.new.crt and NAME.new.key,
// and no step backs up a file it removes.
func mismatch(k kind, p paths, rec *Record, m material, certFiles, keyFiles [2]string) error {
	got, want := [2]string{m.old.id(), m.new.id()}, [2]string{rec.OldCA, rec.NewCA}
	trusted, _ := trusted(k, p.Trust)
	inOrder := func(ids [2]string) []string {
		if rec.Stage == StageReissue {
			return []string{ids[1], ids[0]}
		}
		return ids[:]
	}
	head := fmt.Sprintf("the %s CA files of stage %s are not the CAs of the rotation record %s", k.name, rec.Stage, p.Record)
	rewrite := "write the record again from the files as docs/ca-rotation.md says (\"A damaged record\")"
	if slices.Equal(trusted, inOrder(got)) {
		return fmt.Errorf("%s: %s and the files of the stage hold CAs %s, the record says %s: the record is another rotation's; %s; nothing was changed",
			head, p.Trust, short(inOrder(got)), short(inOrder(want)), rewrite)
	}
	copies := candidates(k, p)
	var diff, fix []string
	for i, what := range []string{"old", "new"} {
		if got[i] == want[i] {
			continue
		}
		files := keyFiles[i]
		if certFiles[i] != "" {
			files = certFiles[i] + " and " + keyFiles[i]
		}
		diff = append(diff, fmt.Sprintf("%s hold %s, the record's %s CA is %s", files, short(got[i:i+1]), what, short(want[i:i+1])))
		fix = append(fix, copies.restore(k, certFiles[i], keyFiles[i], want[i])...)
	}
	alt := ""
	if !slices.Equal(trusted, inOrder(want)) {
		alt = "; or, if the files are right and the record is another rotation's, " + rewrite
	}
	return fmt.Errorf("%s: %s: put back the record's CA: %s%s; nothing was changed", head, strings.Join(diff, "; "), strings.Join(fix, ", "), alt)
}

// copies are the files that may hold a rotation's CA certificates or
// keys: the node's own, then the copies of the backups, newest first.
type copies struct{ certs, keys []string }

func candidates(k kind, p paths) copies {
	var c copies
	names := func(files ...string) []string {
		return slices.DeleteFunc(files, func(f string) bool { return f == "" })
	}
	certs, keys := names(p.Trust, p.OldCert, p.NewCert), names(p.Key, p.OldKey, p.NewKey)
	c.certs, c.keys = slices.Clone(certs), slices.Clone(keys)
	if k.sa {
		c.certs = nil
	}
	certDir := filepath.Dir(p.Record)
	root, err := renewal.BackupRoot(certDir)
	if err != nil {
		return c
	}
	backups, _ := renewal.ListBackups(root)
	for _, b := range slices.Backward(backups) {
		in := func(files []string) []string {
			var out []string
			for _, f := range files {
				rel, err := filepath.Rel(certDir, f)
				if err == nil {
					out = append(out, filepath.Join(b.Dir, renewal.BackupCertDirName, rel))
				}
			}
			return out
		}
		if !k.sa {
			c.certs = append(c.certs, in(certs)...)
		}
		c.keys = append(c.keys, in(keys)...)
	}
	return c
}

// restore says where the certificate (certFile, "" for sa) and the key
// (keyFile) of the CA whose record fingerprint is id are: "FILE as
// certificate N of COPY", "FILE as COPY", or "FILE: no copy on this node".
func (c copies) restore(k kind, certFile, keyFile, id string) []string {
	var out []string
	var cert *x509.Certificate
	if !k.sa {
		where := ""
		for _, f := range c.certs {
			certs, err := readCerts(f)
			if err != nil {
				continue
			}
			if i := slices.IndexFunc(certs, func(c *x509.Certificate) bool { return fingerprint(c) == id }); i >= 0 {
				cert, where = certs[i], fmt.Sprintf("%s as certificate %d of %s", certFile, i+1, f)
				break
			}
		}
		if cert == nil {
			return []string{certFile + ": no copy on this node", keyFile + ": no copy on this node"}
		}
		out = append(out, where)
	}
	for _, f := range c.keys {
		if f == keyFile {
			continue
		}
		key, err := pki.ReadKeyFile(f)
		if err != nil {
			continue
		}
		if k.sa && keyFingerprint(key.Public()) == id || cert != nil && pki.KeyMatches(cert, key) == nil {
			return append(out, keyFile+" as "+f)
		}
	}
	return append(out, keyFile+": no copy on this node")
}
