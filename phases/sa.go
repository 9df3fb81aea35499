package phases

import (
	"context"
	"crypto"
	"fmt"

	"github.com/certctl/certctl/pki"
	"github.com/certctl/certctl/pki/policy"
)

// runServiceAccount keeps or makes sa.key and sa.pub, the key pair that signs
// and verifies service account tokens. It is not a certificate: no CA.
func runServiceAccount(ctx context.Context, env *Env) error {
	if env.UseCSR {
		next := "run `certctl init-phase certs sa" + env.initFlags() + "` to make it in the cert dir"
		if env.Cluster.Joining {
			next = "a joining node uses the cluster's: run `" + env.downloadCommand() + "` (docs/ha.md)"
		}
		env.logf("[certs] Skipping %q: a key pair, not a certificate; %s", pki.SAName, next)
		return nil
	}
	s := env.store()
	keyPath, pubPath := s.KeyPath(pki.SAName), s.PublicKeyPath(pki.SAName)
	keyOK, pubOK, err := bothExist(keyPath, pubPath)
	if err != nil {
		return err
	}
	if !keyOK && env.Cluster.Joining {
		return errJoinNeeds(env, keyPath, "service-account key pair")
	}
	var key crypto.Signer
	switch {
	case keyOK:
		if key, err = s.ReadKey(pki.SAName); err != nil {
			return withFix(err, "restore it from a backup (the service-account tokens already issued depend on it)")
		}
		warnLooseKey(env, keyPath)
		// Kept, as a weak CA is: the tokens issued depend on it.
		if err := policy.Key("the service-account key "+keyPath, key.Public(), false); err != nil {
			env.warnf("%v: the tokens it signs are no stronger; rotate it (certctl ca rotate sa%s, docs/ca-rotation.md)", err, env.folderFlags())
		}
		if pubOK {
			pub, err := s.ReadPublicKey(pki.SAName)
			if err != nil {
				return withFix(err, fmt.Sprintf("restore it from a backup, or remove it to write it again from %s", keyPath))
			}
			if !pki.SamePublicKey(pub, key.Public()) {
				return fmt.Errorf("%s does not match %s: restore the matching pair (tokens signed with the key are checked with the public key)", pubPath, keyPath)
			}
			env.logf("[certs] Using the existing %q key", pki.SAName)
			return nil
		}
		if err := rotatingTrustFile(s.Dir, pki.SAName); err != nil {
			return err
		}
		if env.checking {
			env.planCreate(pubPath, false)
			return nil
		}
		env.logf("[certs] Writing %q public key for the existing key %s", pki.SAName, keyPath)
	case pubOK:
		return fmt.Errorf("%s exists but its private key %s is missing: restore the key (tokens already issued depend on it), or remove %s to make a new pair", pubPath, keyPath, pubPath)
	default:
		if env.checking {
			env.planCreate(keyPath, true)
			env.planCreate(pubPath, false)
			return nil
		}
		env.logf("[certs] Generating %q key and public key", pki.SAName)
		if key, err = env.keys.Get(ctx); err != nil {
			return fmt.Errorf("generate key for %s: %w", pki.SAName, err)
		}
		if err := s.WriteKey(pki.SAName, key); err != nil {
			return err
		}
	}
	return s.WritePublicKey(pki.SAName, key.Public())
}
