package twofa

import (
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/crypto/chacha20poly1305"
)

// Sizes and limits of a Keyring and of the blobs it seals.
const (
	// KeyringKeySize is the size of every key a Keyring takes, sealing
	// or digest: 256 bits, the XChaCha20-Poly1305 key size and the
	// HMAC-SHA-256 output size, so no key is weaker than the primitives
	// it feeds.
	KeyringKeySize = chacha20poly1305.KeySize

	// MaxKeys bounds the sealing keys of one Keyring. A rotation needs two
	// at a time (the old key opens, the new one seals), a staged rollout
	// across replicas sometimes three; 16 leaves room for years of
	// rotations. A ring that keeps more is a ring nobody prunes, and every
	// retained key is one more key whose leak would open stored blobs.
	MaxKeys = 16

	// MaxBindingLen bounds, in bytes, the account and device ids that
	// Seal, Open, Reseal and Digest bind into their output. Ids are opaque bytes
	// (an e-mail address is at most 254, a UUID 36); 1 KiB admits any
	// sensible id and fits the 16-bit length prefixes of the binding.
	MaxBindingLen = 1024

	// MaxPlaintextSize bounds what Seal accepts: 4 KiB, 32 times
	// MaxSecretSize, room for a secret with its parameters serialised
	// alongside. The bound keeps what one attacker-supplied blob can cost
	// to Open to microseconds, and keeps megabytes out of a secrets
	// column.
	MaxPlaintextSize = 4096

	// SealedOverhead is how many bytes a sealed blob adds to its
	// plaintext: version (1), key id (4), nonce (24) and Poly1305 tag (16).
	SealedOverhead = sealedHeaderSize + chacha20poly1305.NonceSizeX + chacha20poly1305.Overhead

	// MaxSealedSize bounds the blobs Open accepts: a sealed
	// MaxPlaintextSize. Longer input is refused before any cryptography.
	MaxSealedSize = SealedOverhead + MaxPlaintextSize

	// DigestSize is the length of a Digest: one HMAC-SHA-256 output.
	DigestSize = sha256.Size
)

const (
	// sealedVersion is the first byte of every blob this code writes. A
	// new format gets a new byte; old blobs keep opening.
	sealedVersion    = 0x01
	sealedHeaderSize = 1 + 4

	// sealADLabel starts the associated data of every seal. It separates
	// these blobs from any other use of the same key with XChaCha20-
	// Poly1305, and names the format version a second time, authenticated.
	sealADLabel = "twofa/keyring/v1/seal"

	// digestInfo prefixes the HKDF info of every digest sub-key; the
	// purpose's label follows.
	digestInfo = "twofa/keyring/v1/digest/"
)

// KeyID names one sealing key of a Keyring. It is stored, unencrypted and
// authenticated, in every blob the key seals, so that the right key opens
// it after a rotation. Ids are not secret.
//
// Zero is reserved: an unset KeyID is a configuration mistake, never a
// key. Any other value works; a date such as 20260115 makes a good id,
// since it says how old the key is.
type KeyID uint32

// Purpose is what a Digest is for. Each purpose has its own HMAC sub-key,
// derived from the digest key with HKDF, so a digest computed for one
// purpose never matches a lookup for another (an app password can never
// pass as a recovery code, even if the strings were equal).
//
// The zero Purpose is invalid.
type Purpose uint8

// The purposes twofa digests. Their labels are part of the derivation:
// renaming one would change every digest computed for it.
const (
	// PurposeRecoveryCode: single-use recovery codes.
	PurposeRecoveryCode Purpose = 1 + iota
	// PurposeAppPassword: app-specific passwords.
	PurposeAppPassword
	// PurposeBrowserToken: "remember this browser" tokens.
	PurposeBrowserToken
	// PurposeOOBChallenge: out-of-band challenges (a code sent by SMS or
	// voice call, see Phones).
	PurposeOOBChallenge

	numPurposes = iota
)

var purposeLabels = [numPurposes]string{
	"recovery-code",
	"app-password",
	"browser-token",
	"oob-challenge",
}

// String returns the purpose's label, as used in the HKDF info
// "twofa/keyring/v1/digest/<label>": "recovery-code", "app-password",
// "browser-token" or "oob-challenge".
func (p Purpose) String() string {
	if !p.valid() {
		return "Purpose(" + strconv.Itoa(int(p)) + ")"
	}
	return purposeLabels[p-1]
}

func (p Purpose) valid() bool { return p >= 1 && int(p) <= numPurposes }

// Errors about keyrings and sealed blobs.
var (
	// ErrInvalidKeyring is matched by every error NewKeyring,
	// ParseKeyringKeys and ParseKeyringKey return about their input;
	// through errors.As it is a *KeyringError.
	ErrInvalidKeyring = errors.New("twofa: invalid keyring")

	// ErrInvalidBinding: the account or device id passed to Seal, Open,
	// Reseal or Digest is empty or longer than MaxBindingLen. Nothing was
	// sealed, opened or digested.
	ErrInvalidBinding = errors.New("twofa: invalid account or device id")

	// ErrPlaintextTooLarge: Seal was given more than MaxPlaintextSize
	// bytes.
	ErrPlaintextTooLarge = errors.New("twofa: plaintext too large to seal")

	// ErrInvalidSealed is matched by every error Open, OpenSecret, Reseal
	// and SealedKeyID return about the blob; through errors.As it is a
	// *SealedError whose Reason is ErrSealedFormat, ErrUnknownKey or
	// ErrSealedTampered.
	ErrInvalidSealed = errors.New("twofa: invalid sealed blob")

	// ErrSealedFormat: the blob is not a sealed blob this version can
	// read: empty, truncated, too large, or of an unknown version.
	ErrSealedFormat = errors.New("malformed")

	// ErrUnknownKey: the blob names a key id the Keyring does not hold,
	// usually a key dropped before every blob was resealed.
	ErrUnknownKey = errors.New("unknown key id")

	// ErrSealedTampered: the blob failed authentication under its key. A
	// byte of it changed, it was sealed for another account or device, or
	// it was sealed by a different key that carried the same id.
	ErrSealedTampered = errors.New("authentication failed")
)

// KeyringError says why keys were refused. It names the key by id when one
// is at fault, and never holds key material.
type KeyringError struct {
	KeyID   KeyID  // the key at fault, or 0 when none is (or none parsed)
	Problem string // what is wrong, e.g. "key is 16 bytes, want 32"
}

// Error returns "twofa: invalid keyring: ", the key id if any, and the
// problem.
func (e *KeyringError) Error() string {
	if e.KeyID != 0 {
		return fmt.Sprintf("twofa: invalid keyring: key %d: %s", e.KeyID, e.Problem)
	}
	return "twofa: invalid keyring: " + e.Problem
}

// Is reports whether target is ErrInvalidKeyring.
func (e *KeyringError) Is(target error) bool { return target == ErrInvalidKeyring }

// SealedError says why a blob did not open. It never holds the blob, the
// plaintext or a key.
type SealedError struct {
	Reason error // ErrSealedFormat, ErrUnknownKey or ErrSealedTampered
	KeyID  KeyID // the blob's key id, or 0 if the blob is too malformed to name one
	detail string
}

// Error returns "twofa: invalid sealed blob: ", the reason, any detail
// (such as "truncated") and the key id if known.
func (e *SealedError) Error() string {
	msg := "twofa: invalid sealed blob: " + e.Reason.Error()
	if e.detail != "" {
		msg += ": " + e.detail
	}
	if e.KeyID != 0 {
		msg += " (key " + strconv.FormatUint(uint64(e.KeyID), 10) + ")"
	}
	return msg
}

// Unwrap returns the reason.
func (e *SealedError) Unwrap() error { return e.Reason }

// Is reports whether target is ErrInvalidSealed.
func (e *SealedError) Is(target error) bool { return target == ErrInvalidSealed }

func keyringError(id KeyID, format string, args ...any) error {
	return &KeyringError{KeyID: id, Problem: fmt.Sprintf(format, args...)}
}

// Keyring seals device secrets at rest and derives the keys of the digests
// that twofa stores instead of recovery codes, app passwords and tokens.
//
// A Keyring is immutable after NewKeyring and safe for concurrent use by
// multiple goroutines. To add or drop a key, build a new Keyring.
//
// A Keyring never reveals its keys: String, GoString, every fmt verb and
// slog show only the key ids.
//
// # Sealing
//
// Seal encrypts with XChaCha20-Poly1305 under the primary key and a fresh
// random 192-bit nonce (random nonces of that size never collide in
// practice, whatever the number of blobs). The account and device id are
// bound as associated data: a blob copied to another device's or another
// account's row does not open. A sealed blob is:
//
//	offset  size  field
//	0       1     version, 0x01
//	1       4     key id, unsigned big-endian
//	5       24    nonce
//	29      n+16  ciphertext of the n-byte plaintext, then the Poly1305 tag
//
// and its associated data is the concatenation of
//
//	"twofa/keyring/v1/seal"          21 bytes, a domain label
//	blob[0:5]                        the version and key id
//	uint16 big-endian len(account)   then the account id's bytes
//	uint16 big-endian len(device)    then the device id's bytes
//
// The length prefixes keep ("ab", "c") and ("a", "bc") apart; the header
// in the associated data means the version and key id cannot be changed
// without failing authentication.
//
// # Rotation
//
// A Keyring holds up to MaxKeys sealing keys. The primary one seals; all
// of them open. To rotate, across a fleet of replicas:
//
//  1. Generate a key with a new id and deploy it everywhere as a
//     non-primary key. Now every replica can open what any replica will
//     seal under it.
//  2. Make it primary everywhere. New blobs are sealed under it.
//  3. Run Reseal over every stored blob (SealedKeyID tells which key a
//     blob is under without opening it) until none uses the old key.
//  4. Drop the old key. Blobs still under it now fail with ErrUnknownKey.
//
// # Digests
//
// Digest computes HMAC-SHA-256 under a sub-key derived with HKDF-SHA-256
// (RFC 5869) from the digest key, one sub-key per Purpose. The digest key
// is separate from the sealing keys, and does not rotate with them, for a
// reason: a digest cannot be migrated. The plaintext of a recovery code or
// app password is never stored, so nothing can recompute its digest under
// a new key; if the digest key followed the primary, every recovery code
// and app password would stop working at the first sealing-key rotation,
// or at the latest when the old key is dropped. Keep the digest key for
// the lifetime of the digests (like a pepper); replacing it invalidates
// them all, which is a deliberate, separate decision (reissue recovery
// codes, revoke app passwords).
type Keyring struct {
	s *keyringState
}

// keyringState keeps every key two pointers away from Keyring, because fmt
// dereferences a pointer it meets with an unsupported verb: a Keyring
// value printed with %s through reflection (say, in an unexported field)
// shows "%!s(*twofa.keyringState=&{...})", one level deep. Anything a
// level deeper prints as an address.
type keyringState struct {
	primary KeyID
	ids     []KeyID               // sorted
	aeads   map[KeyID]cipher.AEAD // the AEADs hold copies of the sealing keys
	sub     *[numPurposes][sha256.Size]byte
}

// GenerateKeyringKey returns a new random key of KeyringKeySize bytes from
// crypto/rand, for NewKeyring as a sealing key or as the digest key. (It
// has nothing to do with Key, the otpauth:// URI.) Store it in a secret
// manager, e.g. base64-encoded for ParseKeyringKeys and ParseKeyringKey.
func GenerateKeyringKey() ([]byte, error) {
	k := make([]byte, KeyringKeySize)
	if _, err := rand.Read(k); err != nil {
		return nil, fmt.Errorf("twofa: reading random key: %w", err)
	}
	return k, nil
}

// NewKeyring returns a Keyring that seals under the key with id primary,
// opens blobs sealed under any of keys, and derives digest sub-keys from
// digestKey.
//
// Every key must be KeyringKeySize bytes, not all zero, and distinct from
// every other (the digest key included): the same key under two ids, or
// used for both sealing and digests, is a configuration mistake. There must be one
// to MaxKeys sealing keys, none with id 0, and primary must be one of
// them. Errors are *KeyringError values matching ErrInvalidKeyring.
//
// NewKeyring copies the keys; the caller may clear its slices afterwards.
func NewKeyring(primary KeyID, keys map[KeyID][]byte, digestKey []byte) (*Keyring, error) {
	if len(keys) == 0 {
		return nil, keyringError(0, "no sealing keys")
	}
	if len(keys) > MaxKeys {
		return nil, keyringError(0, "%d sealing keys, at most %d allowed", len(keys), MaxKeys)
	}
	ids := make([]KeyID, 0, len(keys))
	for id := range keys {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for i, id := range ids {
		if id == 0 {
			return nil, keyringError(0, "key id 0 is reserved")
		}
		if err := checkKey(keys[id]); err != nil {
			return nil, keyringError(id, "%s", err)
		}
		for _, prev := range ids[:i] {
			if subtle.ConstantTimeCompare(keys[id], keys[prev]) == 1 {
				return nil, keyringError(id, "same key as key %d", prev)
			}
		}
	}
	if _, ok := keys[primary]; !ok {
		return nil, keyringError(primary, "primary key not among the keys")
	}
	if err := checkKey(digestKey); err != nil {
		return nil, keyringError(0, "digest key: %s", err)
	}
	for _, id := range ids {
		if subtle.ConstantTimeCompare(digestKey, keys[id]) == 1 {
			return nil, keyringError(id, "same key as the digest key")
		}
	}

	s := &keyringState{
		primary: primary,
		ids:     ids,
		aeads:   make(map[KeyID]cipher.AEAD, len(ids)),
		sub:     new([numPurposes][sha256.Size]byte),
	}
	for _, id := range ids {
		a, err := chacha20poly1305.NewX(keys[id]) // copies the key
		if err != nil {
			// Not about the key (it was checked): FIPS 140-only mode.
			return nil, fmt.Errorf("twofa: keyring: %w", err)
		}
		s.aeads[id] = a
	}
	for i, label := range purposeLabels {
		// The digest key is uniformly random, so HKDF needs no salt
		// (RFC 5869 Section 3.1).
		sub, err := hkdf.Key(sha256.New, digestKey, nil, digestInfo+label, sha256.Size)
		if err != nil {
			return nil, fmt.Errorf("twofa: keyring: deriving sub-key: %w", err)
		}
		copy(s.sub[i][:], sub)
		clear(sub)
	}
	return &Keyring{s}, nil
}

func checkKey(k []byte) error {
	if len(k) != KeyringKeySize {
		return fmt.Errorf("key is %d bytes, want %d", len(k), KeyringKeySize)
	}
	var zero [KeyringKeySize]byte
	if subtle.ConstantTimeCompare(k, zero[:]) == 1 {
		return errors.New("key is all zero")
	}
	return nil
}

// Primary returns the id of the key that seals.
func (k *Keyring) Primary() KeyID { return k.s.primary }

// KeyIDs returns the ids of the keys that open, in increasing order.
func (k *Keyring) KeyIDs() []KeyID { return slices.Clone(k.s.ids) }

// Seal encrypts plaintext under the primary key, bound to account and
// device, and returns the blob described in the Keyring documentation:
// SealedOverhead bytes longer than plaintext. account and device must be 1
// to MaxBindingLen bytes (ErrInvalidBinding), plaintext at most
// MaxPlaintextSize bytes (ErrPlaintextTooLarge).
func (k *Keyring) Seal(account, device string, plaintext []byte) ([]byte, error) {
	if err := checkBinding(account, device); err != nil {
		return nil, err
	}
	if len(plaintext) > MaxPlaintextSize {
		return nil, ErrPlaintextTooLarge
	}
	return k.seal(account, device, plaintext), nil
}

func (k *Keyring) seal(account, device string, plaintext []byte) []byte {
	const prefix = sealedHeaderSize + chacha20poly1305.NonceSizeX
	blob := make([]byte, prefix, len(plaintext)+SealedOverhead)
	blob[0] = sealedVersion
	binary.BigEndian.PutUint32(blob[1:5], uint32(k.s.primary))
	nonce := blob[sealedHeaderSize:prefix]
	_, _ = rand.Read(nonce) // never fails (it crashes the program instead)
	ad := sealAD(blob[:sealedHeaderSize], account, device)
	return k.s.aeads[k.s.primary].Seal(blob, nonce, plaintext, ad)
}

// Open authenticates and decrypts a blob that Seal returned for the same
// account and device. On failure it returns nil and an error: a
// *SealedError (matching ErrInvalidSealed, and ErrSealedFormat,
// ErrUnknownKey or ErrSealedTampered) about the blob, or ErrInvalidBinding
// about account or device.
func (k *Keyring) Open(account, device string, blob []byte) ([]byte, error) {
	pt, _, err := k.open(account, device, blob)
	return pt, err
}

func (k *Keyring) open(account, device string, blob []byte) ([]byte, KeyID, error) {
	if err := checkBinding(account, device); err != nil {
		return nil, 0, err
	}
	id, err := SealedKeyID(blob)
	if err != nil {
		return nil, 0, err
	}
	if len(blob) < SealedOverhead {
		return nil, id, &SealedError{Reason: ErrSealedFormat, KeyID: id, detail: "truncated"}
	}
	a, ok := k.s.aeads[id]
	if !ok {
		return nil, id, &SealedError{Reason: ErrUnknownKey, KeyID: id}
	}
	const prefix = sealedHeaderSize + chacha20poly1305.NonceSizeX
	ad := sealAD(blob[:sealedHeaderSize], account, device)
	ct := blob[prefix:]
	// A non-nil dst, so that an empty plaintext opens as an empty, not a
	// nil, slice.
	pt, err := a.Open(make([]byte, 0, len(ct)-chacha20poly1305.Overhead), blob[sealedHeaderSize:prefix], ct, ad)
	if err != nil {
		return nil, id, &SealedError{Reason: ErrSealedTampered, KeyID: id}
	}
	return pt, id, nil
}

// SealedKeyID returns the id of the key a blob is sealed under, without
// opening it, for a migration job that looks for blobs still under an old
// key. The id is not authenticated until the blob opens. It checks only
// the version and the length; errors are *SealedError values matching
// ErrSealedFormat.
func SealedKeyID(blob []byte) (KeyID, error) {
	switch {
	case len(blob) > MaxSealedSize:
		return 0, &SealedError{Reason: ErrSealedFormat, detail: "too large"}
	case len(blob) == 0:
		return 0, &SealedError{Reason: ErrSealedFormat, detail: "empty"}
	case blob[0] != sealedVersion:
		return 0, &SealedError{Reason: ErrSealedFormat, detail: "unknown version " + strconv.Itoa(int(blob[0]))}
	case len(blob) < sealedHeaderSize:
		return 0, &SealedError{Reason: ErrSealedFormat, detail: "truncated"}
	}
	return KeyID(binary.BigEndian.Uint32(blob[1:sealedHeaderSize])), nil
}

// Reseal opens blob and, unless it is already sealed under the primary
// key, seals its plaintext again under the primary key, for the same
// account and device. changed reports whether it did; if not, newBlob is
// blob itself, which was still authenticated. Errors are those of Open.
//
// A migration job runs Reseal over every stored blob after a rotation and
// writes back those that changed (with a compare-and-set on the old value,
// so that a concurrent re-enrolment is not overwritten).
func (k *Keyring) Reseal(account, device string, blob []byte) (newBlob []byte, changed bool, err error) {
	pt, id, err := k.open(account, device, blob)
	if err != nil {
		return nil, false, err
	}
	defer clear(pt)
	if id == k.s.primary {
		return blob, false, nil
	}
	// Open checked the binding, and the plaintext of a blob no larger than
	// MaxSealedSize is within MaxPlaintextSize.
	return k.seal(account, device, pt), true, nil
}

// SealSecret seals a device's Secret for account and device; see Seal.
func (k *Keyring) SealSecret(account, device string, s Secret) ([]byte, error) {
	if s.IsZero() {
		return nil, &SecretError{Reason: ErrSecretTooShort, Offset: -1}
	}
	return k.Seal(account, device, s.bytes())
}

// OpenSecret opens a blob that SealSecret returned for the same account
// and device. Besides Open's errors, it returns a *SecretError if the
// blob opened but does not hold a valid secret.
func (k *Keyring) OpenSecret(account, device string, blob []byte) (Secret, error) {
	pt, err := k.Open(account, device, blob)
	if err != nil {
		return Secret{}, err
	}
	s, err := SecretFromBytes(pt)
	clear(pt)
	return s, err
}

// Digest returns the HMAC-SHA-256 of data, bound to account, under the
// sub-key of purpose p:
//
//	sub    = HKDF-SHA-256(secret = digest key, salt = none,
//	                      info = "twofa/keyring/v1/digest/" + p.String(), 32 bytes)
//	digest = HMAC-SHA-256(sub, uint16 big-endian len(account) || account || data)
//
// It is deterministic, so that stores can index it and find a recovery
// code or app password with one lookup, and it binds the account, so a
// digest stored for one account never matches another account's lookup.
// It does not depend on the sealing keys: rotating them leaves digests
// valid. Normalise data first (case, separators) so that equivalent inputs
// digest alike; compare digests with hmac.Equal when not looking them up.
//
// account must be 1 to MaxBindingLen bytes (ErrInvalidBinding). Digest
// panics if p is not one of the Purpose constants: that is a programming
// error, never bad input.
func (k *Keyring) Digest(p Purpose, account string, data []byte) ([]byte, error) {
	if !p.valid() {
		panic("twofa: Digest with invalid " + p.String())
	}
	if err := checkID("account", account); err != nil {
		return nil, err
	}
	m := hmac.New(sha256.New, k.s.sub[p-1][:])
	var n [2]byte
	binary.BigEndian.PutUint16(n[:], uint16(len(account)))
	m.Write(n[:])
	_, _ = io.WriteString(m, account)
	m.Write(data)
	return m.Sum(make([]byte, 0, DigestSize)), nil
}

func checkBinding(account, device string) error {
	if err := checkID("account", account); err != nil {
		return err
	}
	return checkID("device", device)
}

func checkID(what, id string) error {
	if id == "" {
		return fmt.Errorf("%w: empty %s id", ErrInvalidBinding, what)
	}
	if len(id) > MaxBindingLen {
		return fmt.Errorf("%w: %s id longer than %d bytes", ErrInvalidBinding, what, MaxBindingLen)
	}
	return nil
}

// sealAD returns the associated data of a seal; see the Keyring doc.
// account and device have been checked to fit their uint16 prefixes.
func sealAD(header []byte, account, device string) []byte {
	ad := make([]byte, 0, len(sealADLabel)+len(header)+2+len(account)+2+len(device))
	ad = append(ad, sealADLabel...)
	ad = append(ad, header...)
	ad = binary.BigEndian.AppendUint16(ad, uint16(len(account)))
	ad = append(ad, account...)
	ad = binary.BigEndian.AppendUint16(ad, uint16(len(device)))
	ad = append(ad, device...)
	return ad
}

// String returns the primary and the key ids, never a key: for example
// "twofa.Keyring(primary=2 keys=[1 2] REDACTED)".
func (k *Keyring) String() string {
	if k == nil || k.s == nil {
		return "twofa.Keyring(nil)"
	}
	return fmt.Sprintf("twofa.Keyring(primary=%d keys=%v REDACTED)", k.s.primary, k.s.ids)
}

// GoString returns the same as String.
func (k *Keyring) GoString() string { return k.String() }

// Format prints String for every verb and flag.
func (k *Keyring) Format(f fmt.State, verb rune) { _, _ = io.WriteString(f, k.String()) }

// LogValue makes slog print the primary and the key ids, never a key.
func (k *Keyring) LogValue() slog.Value {
	if k == nil || k.s == nil {
		return slog.StringValue("twofa.Keyring(nil)")
	}
	return slog.GroupValue(
		slog.Uint64("primary", uint64(k.s.primary)),
		slog.String("keys", fmt.Sprint(k.s.ids)),
	)
}

// ParseKeyringKeys parses sealing keys from configuration text such as an
// environment variable: entries "id:key" separated by commas or white
// space, each id a decimal KeyID and each key as ParseKeyringKey reads it,
// for example
//
//	1:<base64 of key 1>,2:<base64 of key 2>
//
// Errors are *KeyringError values matching ErrInvalidKeyring; they name the
// entry (counted from 1) but never quote it. Pass the result, with the
// primary id, to NewKeyring.
func ParseKeyringKeys(s string) (map[KeyID][]byte, error) {
	entries := strings.FieldsFunc(s, func(r rune) bool {
		return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r'
	})
	keys := make(map[KeyID][]byte, len(entries))
	fail := func(id KeyID, format string, args ...any) (map[KeyID][]byte, error) {
		for _, k := range keys {
			clear(k)
		}
		return nil, keyringError(id, format, args...)
	}
	if len(entries) == 0 {
		return fail(0, "no keys")
	}
	if len(entries) > MaxKeys {
		return fail(0, "%d keys, at most %d allowed", len(entries), MaxKeys)
	}
	for i, e := range entries {
		idText, keyText, ok := strings.Cut(e, ":")
		if !ok {
			return fail(0, "entry %d: want id:key", i+1)
		}
		n, err := strconv.ParseUint(idText, 10, 32)
		if err != nil || n == 0 {
			return fail(0, "entry %d: key id must be a decimal number, not 0, that fits in 32 bits", i+1)
		}
		id := KeyID(n)
		if _, dup := keys[id]; dup {
			return fail(id, "entry %d: duplicate key id", i+1)
		}
		k, err := ParseKeyringKey(keyText)
		if err != nil {
			var ke *KeyringError
			if errors.As(err, &ke) {
				return fail(id, "entry %d: %s", i+1, ke.Problem)
			}
			return fail(id, "entry %d: bad key", i+1)
		}
		keys[id] = k
	}
	return keys, nil
}

// ParseKeyringKey decodes one key of KeyringKeySize bytes from base64
// (RFC 4648), with or without padding, in the standard or the URL-safe
// alphabet, with surrounding white space ignored: the form
// base64.StdEncoding.EncodeToString(key) writes. Errors are *KeyringError
// values matching ErrInvalidKeyring; they never quote the input.
func ParseKeyringKey(s string) ([]byte, error) {
	s = strings.TrimRight(strings.TrimSpace(s), "=")
	enc := base64.RawStdEncoding.Strict()
	if strings.ContainsAny(s, "-_") {
		enc = base64.RawURLEncoding.Strict()
	}
	if enc.DecodedLen(len(s)) != KeyringKeySize {
		return nil, keyringError(0, "key is not %d bytes of base64", KeyringKeySize)
	}
	k := make([]byte, KeyringKeySize)
	in := []byte(s)
	n, err := enc.Decode(k, in)
	clear(in)
	if err != nil || n != KeyringKeySize {
		clear(k)
		return nil, keyringError(0, "key is not %d bytes of base64", KeyringKeySize)
	}
	return k, nil
}
