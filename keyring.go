package twofa

// Keyring is what twofa needs from the keys of an installation: sealing
// device secrets at rest and keyed digests of the recovery codes, app
// passwords, browser tokens and out-of-band codes it stores instead of
// their plaintext. Package keyring implements it (keyring.Parse loads one
// from a single environment variable); an installation that keeps its
// keys in a KMS or an HSM may implement it itself.
//
// Implementations must be safe for concurrent use, and no error they
// return may hold a key, a plaintext or a blob.
type Keyring interface {
	// Seal encrypts and authenticates plaintext under the current
	// (primary) key, bound to account and binding, and returns the blob
	// to store. twofa passes the account id and, as binding, the
	// device's id and the parameters its codes depend on; both are
	// non-empty. Sealing the same input twice gives different blobs.
	Seal(account, binding string, plaintext []byte) ([]byte, error)

	// Open authenticates blob and appends its plaintext to dst (which may
	// be nil), so that a caller can open into a reusable buffer. It must
	// succeed only for a blob that Seal returned, under a key the
	// Keyring still holds, for exactly the same account and binding; any
	// change to a byte of the blob, or another account or binding, must
	// fail. On failure it returns nil. twofa reports every Open error as
	// ErrInvalidSealed.
	Open(dst []byte, account, binding string, blob []byte) ([]byte, error)

	// Reseal opens blob as Open does and, unless it is already under
	// the primary key, seals its plaintext again under the primary key
	// for the same account and binding. changed reports whether it did;
	// if not, newBlob is blob. On failure newBlob is nil and changed
	// false; twofa reports every Reseal error as ErrInvalidSealed.
	Reseal(account, binding string, blob []byte) (newBlob []byte, changed bool, err error)

	// Digest returns a keyed digest (a MAC) of data under a key of its
	// own for purpose, one of the Purpose constants, and bound to
	// account. It must be deterministic per (purpose, account, data),
	// because stores index it and look it up; must never match across
	// two purposes or two accounts; and must not change when sealing
	// keys rotate, because what it digests is never stored and cannot
	// be digested again.
	Digest(purpose, account string, data []byte) ([]byte, error)

	// MAC returns a tag authenticating data, bound to account, under a
	// key of its own derived from the primary sealing key, and naming
	// that key, so that CheckMAC still verifies it after a rotation.
	// twofa stores it beside every record's mutable security state (a
	// device's counter, a browser's revocation, a challenge's state) and
	// passes, as data, a label naming the kind of record, the record's
	// id and that state. It must be deterministic per (primary key,
	// account, data), because stores compare it as the record's version
	// in their compare-and-set steps; it must never match across two
	// accounts or two data; and it must differ from every Digest.
	MAC(account string, data []byte) ([]byte, error)

	// CheckMAC verifies a tag that MAC returned for the same account and
	// data, under any key the Keyring still holds, in constant time; it
	// reports whether that key is the primary one (if not, Reseal gives
	// the record a tag under the primary). Any other tag, account or data
	// must fail. twofa reports every CheckMAC error as ErrTampered.
	CheckMAC(account string, data, tag []byte) (primary bool, err error)
}

// The purposes twofa passes to Keyring.Digest (packages browser and phone
// name their own: "browser-token", "oob-challenge"). package keyring
// derives one HMAC sub-key per label (HKDF info
// "twofa/keyring/v1/digest/" + label), so the labels are part of every
// stored digest: renaming one would invalidate them all.
const (
	PurposeRecoveryCode = "recovery-code" // single-use recovery codes
	PurposeAppPassword  = "app-password"  // app-specific passwords
)

// sealedError wraps a Keyring's Open or Reseal error so that it matches
// ErrInvalidSealed, keeping the Keyring's message.
type sealedError struct{ err error }

func (e *sealedError) Error() string        { return e.err.Error() }
func (e *sealedError) Unwrap() error        { return e.err }
func (e *sealedError) Is(target error) bool { return target == ErrInvalidSealed }

// sealSecret seals a device's Secret for account and binding.
func sealSecret(kr Keyring, account, binding string, s Secret) ([]byte, error) {
	if s.IsZero() {
		return nil, &SecretError{Reason: ErrSecretTooShort, Offset: -1}
	}
	return kr.Seal(account, binding, s.bytes())
}

// openSecret opens a blob that sealSecret returned for the same account
// and binding. Besides ErrInvalidSealed, it returns a *SecretError if the
// blob opened but does not hold a valid secret.
func openSecret(kr Keyring, account, binding string, blob []byte) (Secret, error) {
	var buf [MaxSecretSize]byte
	pt, err := openKey(kr, &buf, account, binding, blob)
	if err != nil {
		return Secret{}, err
	}
	s, err := SecretFromBytes(pt)
	clear(pt)
	clear(buf[:])
	return s, err
}

// openKey opens a blob as openSecret does, into buf, and returns the key,
// checked as SecretFromBytes checks it. The caller clears the key and buf
// (which may differ, should the Keyring not have appended in place) once
// it is done with them; on error both are cleared already.
func openKey(kr Keyring, buf *[MaxSecretSize]byte, account, binding string, blob []byte) ([]byte, error) {
	pt, err := kr.Open(buf[:0], account, binding, blob)
	if err != nil {
		clear(pt)
		clear(buf[:])
		return nil, &sealedError{err}
	}
	if err := checkSize(len(pt)); err != nil {
		clear(pt)
		clear(buf[:])
		return nil, err
	}
	return pt, nil
}

// resealSecret reseals a device's blob under the primary key.
func resealSecret(kr Keyring, account, binding string, blob []byte) ([]byte, bool, error) {
	nb, changed, err := kr.Reseal(account, binding, blob)
	if err != nil {
		return nil, false, &sealedError{err}
	}
	return nb, changed, nil
}
