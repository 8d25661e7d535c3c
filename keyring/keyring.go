// Package keyring seals secrets at rest and computes the keyed digests
// that twofa stores instead of recovery codes, app passwords and tokens.
//
// A *Keyring implements twofa.Keyring; pass it as twofa.Config.Keyring.
// Package keyring does not import twofa, and twofa does not import it:
// an installation that keeps its keys elsewhere (a KMS, an HSM) writes its
// own twofa.Keyring instead.
//
// An installation usually loads its keyring from one environment
// variable holding every key (see Parse for the format):
//
//	keys, err := keyring.Parse(os.Getenv("TWOFA_KEYS"))
//
// and makes that string once with Generate, for example with
//
//	go run github.com/twofa-go/twofa/cmd/twofa@latest keygen
package keyring

import (
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/crypto/chacha20poly1305"
)

// Sizes and limits of a Keyring and of the blobs it seals.
const (
	// KeySize is the size of every key a Keyring takes, sealing or
	// digest: 256 bits, the XChaCha20-Poly1305 key size and the
	// HMAC-SHA-256 output size, so no key is weaker than the primitives
	// it feeds.
	KeySize = 32

	// MaxKeys bounds the sealing keys of one Keyring. A rotation needs two
	// at a time (the old key opens, the new one seals), a staged rollout
	// across replicas sometimes three; 16 leaves room for years of
	// rotations. A ring that keeps more is a ring nobody prunes, and every
	// retained key is one more key whose leak would open stored blobs.
	MaxKeys = 16

	// MaxBindingLen bounds, in bytes, the account and binding strings
	// that Seal, Open, Reseal and Digest bind into their output. Ids are
	// opaque bytes (an e-mail address is at most 254, a UUID 36); 1 KiB
	// admits any sensible id and fits the 16-bit length prefixes of the
	// binding.
	MaxBindingLen = 1024

	// MaxPlaintextSize bounds what Seal accepts: 4 KiB, room for a secret
	// with its parameters serialised alongside. The bound keeps what one
	// attacker-supplied blob can cost to Open to microseconds, and keeps
	// megabytes out of a secrets column.
	MaxPlaintextSize = 4096

	// SealedOverhead is how many bytes a sealed blob adds to its
	// plaintext: version (1), key id (4), nonce (24) and Poly1305 tag (16).
	SealedOverhead = sealedHeaderSize + chacha20poly1305.NonceSizeX + chacha20poly1305.Overhead

	// MaxSealedSize bounds the blobs Open accepts: a sealed
	// MaxPlaintextSize. Longer input is refused before any cryptography.
	MaxSealedSize = SealedOverhead + MaxPlaintextSize

	// DigestSize is the length of a Digest: one HMAC-SHA-256 output.
	DigestSize = sha256.Size

	// MACSize is the length of a tag MAC returns: version (1), key id
	// (4) and one HMAC-SHA-256 output (32).
	MACSize = macHeaderSize + sha256.Size

	// MaxPurposeLen bounds the length of a Digest's purpose label.
	MaxPurposeLen = 64
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

	// macInfo is the HKDF info of the record MAC key derived from each
	// sealing key.
	macInfo = "twofa/keyring/v1/mac"

	// macVersion is the first byte of every tag MAC writes.
	macVersion    = 0x01
	macHeaderSize = 1 + 4
)

// knownPurposes are the labels twofa digests under (twofa.PurposeRecoveryCode
// and the others). New prepares their HMAC states once; any other valid
// label is derived on first use, with the same result, and its states are
// kept for up to maxCachedPurposes such labels per Keyring.
var knownPurposes = [...]string{
	"recovery-code",
	"app-password",
	"browser-token",
	"oob-challenge",
}

// maxCachedPurposes bounds how many purposes outside knownPurposes a
// Keyring keeps the HMAC states of. Purposes come from code, so a handful
// is the most any installation uses; past the bound, a purpose's sub-key
// is derived again on each call, so that no input grows the cache.
const maxCachedPurposes = 64

// KeyID names one sealing key of a Keyring. It is stored, unencrypted and
// authenticated, in every blob the key seals, so that the right key opens
// it after a rotation. Ids are not secret.
//
// Zero is reserved: an unset KeyID is a configuration mistake, never a
// key. Any other value works; a date such as 20260115 makes a good id,
// since it says how old the key is.
type KeyID uint32

// Errors about keyrings and sealed blobs.
var (
	// ErrInvalidKeyring is matched by every error New and Parse return
	// about their input; through errors.As it is an *Error.
	ErrInvalidKeyring = errors.New("keyring: invalid keyring")

	// ErrInvalidBinding: the account or binding passed to Seal, Open,
	// Reseal or Digest is empty or longer than MaxBindingLen. Nothing was
	// sealed, opened or digested.
	ErrInvalidBinding = errors.New("keyring: invalid account or binding")

	// ErrInvalidPurpose: the purpose passed to Digest is empty, longer
	// than MaxPurposeLen, or holds a byte outside printable ASCII (space
	// excluded). Nothing was digested.
	ErrInvalidPurpose = errors.New("keyring: invalid digest purpose")

	// ErrInvalidMAC is matched by every error CheckMAC returns about a
	// tag: malformed, under a key id the Keyring does not hold, or not
	// the tag of this account and data. Through errors.As it is a
	// *SealedError whose Reason says which (ErrSealedFormat,
	// ErrUnknownKey, ErrSealedTampered).
	ErrInvalidMAC = errors.New("keyring: invalid record MAC")

	// ErrPlaintextTooLarge: Seal was given more than MaxPlaintextSize
	// bytes.
	ErrPlaintextTooLarge = errors.New("keyring: plaintext too large to seal")

	// ErrInvalidSealed is matched by every error Open, Reseal and
	// SealedKeyID return about the blob; through errors.As it is a
	// *SealedError whose Reason is ErrSealedFormat, ErrUnknownKey or
	// ErrSealedTampered.
	ErrInvalidSealed = errors.New("keyring: invalid sealed blob")

	// ErrSealedFormat: the blob is not a sealed blob this version can
	// read: empty, truncated, too large, or of an unknown version.
	ErrSealedFormat = errors.New("malformed")

	// ErrUnknownKey: the blob names a key id the Keyring does not hold,
	// usually a key dropped before every blob was resealed.
	ErrUnknownKey = errors.New("unknown key id")

	// ErrSealedTampered: the blob failed authentication under its key. A
	// byte of it changed, it was sealed for another account or binding,
	// or it was sealed by a different key that carried the same id.
	ErrSealedTampered = errors.New("authentication failed")
)

// Error says why New or Parse refused keys. It names the key by id when
// one is at fault, and never holds key material or quotes the input.
type Error struct {
	KeyID   KeyID  // the key at fault, or 0 when none is (or none parsed)
	Problem string // what is wrong, e.g. "key is 16 bytes, want 32"
}

// Error returns "keyring: invalid keyring: ", the key id if any, and the
// problem.
func (e *Error) Error() string {
	if e.KeyID != 0 {
		return fmt.Sprintf("keyring: invalid keyring: key %d: %s", e.KeyID, e.Problem)
	}
	return "keyring: invalid keyring: " + e.Problem
}

// Is reports whether target is ErrInvalidKeyring.
func (e *Error) Is(target error) bool { return target == ErrInvalidKeyring }

// SealedError says why a blob did not open. It never holds the blob, the
// plaintext or a key.
type SealedError struct {
	Reason error // ErrSealedFormat, ErrUnknownKey or ErrSealedTampered
	KeyID  KeyID // the blob's key id, or 0 if the blob is too malformed to name one
	detail string
	mac    bool // about a record MAC (CheckMAC), not a sealed blob
}

// Error returns "keyring: invalid sealed blob: ", the reason, any detail
// (such as "truncated") and the key id if known.
func (e *SealedError) Error() string {
	msg := "keyring: invalid sealed blob: " + e.Reason.Error()
	if e.mac {
		msg = "keyring: invalid record MAC: " + e.Reason.Error()
	}
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

// Is reports whether target is ErrInvalidSealed, or ErrInvalidMAC for an
// error of CheckMAC.
func (e *SealedError) Is(target error) bool {
	if e.mac {
		return target == ErrInvalidMAC
	}
	return target == ErrInvalidSealed
}

func keyringError(id KeyID, format string, args ...any) error {
	return &Error{KeyID: id, Problem: fmt.Sprintf(format, args...)}
}

// Keyring seals secrets at rest and derives the keys of the digests
// that twofa stores instead of recovery codes, app passwords and tokens.
// It implements twofa.Keyring.
//
// A Keyring is immutable after New or Parse and safe for concurrent use
// by multiple goroutines. To add or drop a key, build a new Keyring.
//
// A Keyring never reveals its keys: String, GoString, every fmt verb and
// slog show only the key ids. It keeps no copy of the raw sealing keys
// either (only the ciphers built from them), so it cannot be turned back
// into the string Parse read. It keeps the digest key, to derive the
// sub-keys of purposes outside twofa's own, and the HMAC-SHA-256 states
// prepared from the sub-keys it has derived.
//
// # Sealing
//
// Seal encrypts with XChaCha20-Poly1305 under the primary key and a fresh
// random 192-bit nonce (random nonces of that size never collide in
// practice, whatever the number of blobs). The account and the binding
// (twofa binds a device's id and code parameters) are authenticated as
// associated data: a blob copied to another row does not open. A sealed
// blob is:
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
//	uint16 big-endian len(account)   then the account's bytes
//	uint16 big-endian len(binding)   then the binding's bytes
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
//  1. Add a key with a new id everywhere as a non-primary key (take the
//     key of a fresh Generate string). Now every replica can open what
//     any replica will seal under it.
//  2. Make it primary everywhere. New blobs are sealed under it.
//  3. Run Reseal over every stored blob (twofa's TwoFA.Reseal does;
//     SealedKeyID tells which key a blob is under without opening it)
//     until none uses the old key.
//  4. Drop the old key. Blobs still under it now fail with ErrUnknownKey.
//
// # Digests
//
// Digest computes HMAC-SHA-256 under a sub-key derived with HKDF-SHA-256
// (RFC 5869) from the digest key, one sub-key per purpose label. The
// digest key is separate from the sealing keys, and does not rotate with
// them, for a reason: a digest cannot be migrated. The plaintext of a
// recovery code or app password is never stored, so nothing can recompute
// its digest under a new key; if the digest key followed the primary,
// every recovery code and app password would stop working at the first
// sealing-key rotation, or at the latest when the old key is dropped.
// Keep the digest key for the lifetime of the digests (like a pepper);
// replacing it invalidates them all, which is a deliberate, separate
// decision (reissue recovery codes, revoke app passwords).
type Keyring struct {
	s *state
}

// state keeps every key two pointers away from Keyring, because fmt
// dereferences a pointer it meets with an unsupported verb: a Keyring
// value printed with %s through reflection (say, in an unexported field)
// shows "%!s(*keyring.state=&{...})", one level deep. Anything a level
// deeper prints as an address.
type state struct {
	primary KeyID
	ids     []KeyID               // sorted
	aeads   map[KeyID]cipher.AEAD // the AEADs hold copies of the sealing keys
	digest  *[KeySize]byte        // for purposes outside knownPurposes
	known   *[len(knownPurposes)]hmacKey
	macs    map[KeyID]*hmacKey // the record MAC key of each sealing key
	pmac    *hmacKey           // macs[primary]
	paead   cipher.AEAD        // aeads[primary]

	// extra maps purposes outside knownPurposes to their *hmacKey;
	// nExtra counts its entries, at most maxCachedPurposes.
	extra  sync.Map
	nExtra atomic.Int32
}

// New returns a Keyring that seals under the key with id primary, opens
// blobs sealed under any of keys, and derives digest sub-keys from
// digestKey.
//
// Every key must be KeySize bytes, not all zero, and distinct from every
// other (the digest key included): the same key under two ids, or used
// for both sealing and digests, is a configuration mistake. There must be
// one to MaxKeys sealing keys, none with id 0, and primary must be one of
// them. Errors are *Error values matching ErrInvalidKeyring.
//
// New copies the keys; the caller may clear its slices afterwards.
func New(primary KeyID, keys map[KeyID][]byte, digestKey []byte) (*Keyring, error) {
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

	s := &state{
		primary: primary,
		ids:     ids,
		aeads:   make(map[KeyID]cipher.AEAD, len(ids)),
		macs:    make(map[KeyID]*hmacKey, len(ids)),
		digest:  new([KeySize]byte),
		known:   new([len(knownPurposes)]hmacKey),
	}
	copy(s.digest[:], digestKey)
	for _, id := range ids {
		a, err := chacha20poly1305.NewX(keys[id]) // copies the key
		if err != nil {
			// Not about the key (it was checked): FIPS 140-only mode.
			return nil, fmt.Errorf("keyring: %w", err)
		}
		s.aeads[id] = a
		hk, err := deriveMAC(keys[id])
		if err != nil {
			return nil, err
		}
		s.macs[id] = hk
	}
	s.pmac, s.paead = s.macs[primary], s.aeads[primary]
	for i, label := range knownPurposes {
		if err := s.derive(&s.known[i], label); err != nil {
			return nil, err
		}
	}
	return &Keyring{s}, nil
}

// derive derives the digest sub-key of purpose and prepares its HMAC
// states into hk.
func (s *state) derive(hk *hmacKey, purpose string) error {
	var sub [sha256.Size]byte
	defer clear(sub[:])
	if err := s.deriveSub(&sub, purpose); err != nil {
		return err
	}
	return hk.init(sub[:])
}

// hmacKey returns the prepared HMAC states of purpose, or
// ErrInvalidPurpose. A known purpose is valid and needs no check.
func (s *state) hmacKey(purpose string) (*hmacKey, error) {
	if i := slices.Index(knownPurposes[:], purpose); i >= 0 {
		return &s.known[i], nil
	}
	if err := checkPurpose(purpose); err != nil {
		return nil, err
	}
	if v, ok := s.extra.Load(purpose); ok {
		return v.(*hmacKey), nil
	}
	hk := new(hmacKey)
	if err := s.derive(hk, purpose); err != nil {
		return nil, err
	}
	// Reserve a slot before storing, so that concurrent first uses of
	// different purposes cannot overshoot the bound.
	for {
		n := s.nExtra.Load()
		if n >= maxCachedPurposes {
			return hk, nil
		}
		if s.nExtra.CompareAndSwap(n, n+1) {
			break
		}
	}
	if v, loaded := s.extra.LoadOrStore(strings.Clone(purpose), hk); loaded {
		s.nExtra.Add(-1) // another call stored the same states first
		return v.(*hmacKey), nil
	}
	return hk, nil
}

// deriveSub derives the digest sub-key of purpose into dst.
func (s *state) deriveSub(dst *[sha256.Size]byte, purpose string) error {
	// The digest key is uniformly random, so HKDF needs no salt (RFC 5869
	// Section 3.1).
	sub, err := hkdf.Key(sha256.New, s.digest[:], nil, digestInfo+purpose, sha256.Size)
	if err != nil {
		return fmt.Errorf("keyring: deriving sub-key: %w", err)
	}
	copy(dst[:], sub)
	clear(sub)
	return nil
}

func checkKey(k []byte) error {
	if len(k) != KeySize {
		return fmt.Errorf("key is %d bytes, want %d", len(k), KeySize)
	}
	var zero [KeySize]byte
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
// binding, and returns the blob described in the Keyring documentation:
// SealedOverhead bytes longer than plaintext. account and binding must be
// 1 to MaxBindingLen bytes (ErrInvalidBinding), plaintext at most
// MaxPlaintextSize bytes (ErrPlaintextTooLarge).
func (k *Keyring) Seal(account, binding string, plaintext []byte) ([]byte, error) {
	if err := checkBinding(account, binding); err != nil {
		return nil, err
	}
	if len(plaintext) > MaxPlaintextSize {
		return nil, ErrPlaintextTooLarge
	}
	return k.seal(account, binding, plaintext), nil
}

func (k *Keyring) seal(account, binding string, plaintext []byte) []byte {
	const prefix = sealedHeaderSize + chacha20poly1305.NonceSizeX
	blob := make([]byte, prefix, len(plaintext)+SealedOverhead)
	blob[0] = sealedVersion
	binary.BigEndian.PutUint32(blob[1:5], uint32(k.s.primary))
	nonce := blob[sealedHeaderSize:prefix]
	_, _ = rand.Read(nonce) // never fails (it crashes the program instead)
	ad := getAD()
	blob = k.s.paead.Seal(blob, nonce, plaintext, ad.build(blob[:sealedHeaderSize], account, binding))
	adPool.Put(ad)
	return blob
}

// Open authenticates and decrypts a blob that Seal returned for the same
// account and binding, and appends the plaintext to dst (which may be
// nil; an empty plaintext then opens as an empty, non-nil slice). blob
// must not overlap dst's spare capacity.
//
// On failure it returns nil and an error: a *SealedError (matching
// ErrInvalidSealed, and ErrSealedFormat, ErrUnknownKey or
// ErrSealedTampered) about the blob, or ErrInvalidBinding about account
// or binding. dst's spare capacity may then have been written to (and
// cleared again).
func (k *Keyring) Open(dst []byte, account, binding string, blob []byte) ([]byte, error) {
	pt, _, err := k.open(dst, account, binding, blob)
	return pt, err
}

func (k *Keyring) open(dst []byte, account, binding string, blob []byte) ([]byte, KeyID, error) {
	if err := checkBinding(account, binding); err != nil {
		return nil, 0, err
	}
	id, err := SealedKeyID(blob)
	if err != nil {
		return nil, 0, err
	}
	if len(blob) < SealedOverhead {
		return nil, id, &SealedError{Reason: ErrSealedFormat, KeyID: id, detail: "truncated"}
	}
	a, ok := k.s.paead, id == k.s.primary
	if !ok {
		a, ok = k.s.aeads[id]
	}
	if !ok {
		return nil, id, &SealedError{Reason: ErrUnknownKey, KeyID: id}
	}
	const prefix = sealedHeaderSize + chacha20poly1305.NonceSizeX
	ct := blob[prefix:]
	if dst == nil {
		// Non-nil, so that an empty plaintext opens as an empty slice.
		dst = make([]byte, 0, len(ct)-chacha20poly1305.Overhead)
	}
	ad := getAD()
	pt, err := a.Open(dst, blob[sealedHeaderSize:prefix], ct, ad.build(blob[:sealedHeaderSize], account, binding))
	adPool.Put(ad)
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
// account and binding. changed reports whether it did; if not, newBlob is
// blob itself, which was still authenticated. Errors are those of Open.
//
// A migration job runs Reseal over every stored blob after a rotation and
// writes back those that changed (with a compare-and-set on the old value,
// so that a concurrent re-enrolment is not overwritten).
func (k *Keyring) Reseal(account, binding string, blob []byte) (newBlob []byte, changed bool, err error) {
	pt, id, err := k.open(nil, account, binding, blob)
	if err != nil {
		return nil, false, err
	}
	defer clear(pt)
	if id == k.s.primary {
		return blob, false, nil
	}
	// Open checked the binding, and the plaintext of a blob no larger than
	// MaxSealedSize is within MaxPlaintextSize.
	return k.seal(account, binding, pt), true, nil
}

// Digest returns the HMAC-SHA-256 of data, bound to account, under the
// sub-key of purpose:
//
//	sub    = HKDF-SHA-256(secret = digest key, salt = none,
//	                      info = "twofa/keyring/v1/digest/" + purpose, 32 bytes)
//	digest = HMAC-SHA-256(sub, uint16 big-endian len(account) || account || data)
//
// It is deterministic, so that stores can index it and find a recovery
// code or app password with one lookup; it binds the account, so a digest
// stored for one account never matches another account's lookup; and each
// purpose has its own sub-key, so a digest computed for one purpose never
// matches a lookup for another. It does not depend on the sealing keys:
// rotating them leaves digests valid. The result is DigestSize bytes.
//
// account must be 1 to MaxBindingLen bytes (ErrInvalidBinding); purpose 1
// to MaxPurposeLen bytes of printable ASCII, no space (ErrInvalidPurpose).
func (k *Keyring) Digest(purpose, account string, data []byte) ([]byte, error) {
	if err := checkID("account", account); err != nil {
		return nil, err
	}
	hk, err := k.s.hmacKey(purpose)
	if err != nil {
		return nil, err
	}
	return hk.sum(make([]byte, 0, DigestSize), account, data), nil
}

// deriveMAC derives the record MAC key of one sealing key and prepares
// its HMAC states.
func deriveMAC(key []byte) (*hmacKey, error) {
	// A sealing key is uniformly random: HKDF needs no salt.
	sub, err := hkdf.Key(sha256.New, key, nil, macInfo, sha256.Size)
	if err != nil {
		return nil, fmt.Errorf("keyring: deriving MAC key: %w", err)
	}
	defer clear(sub)
	hk := new(hmacKey)
	if err := hk.init(sub); err != nil {
		return nil, err
	}
	return hk, nil
}

// MAC returns a tag that authenticates data, bound to account, under the
// record MAC key of the primary sealing key, for twofa to store beside a
// record's mutable state (a device's counter, a browser's revocation):
//
//	mac = HKDF-SHA-256(secret = sealing key, salt = none,
//	                   info = "twofa/keyring/v1/mac", 32 bytes)
//	tag = 0x01 || key id (uint32 big-endian) ||
//	      HMAC-SHA-256(mac, uint16 big-endian len(account) || account || data)
//
// MACSize bytes. Unlike Digest, the key follows the sealing keys: what a
// MAC authenticates is stored, so a rotation can compute it again under
// the new primary (twofa's TwoFA.Reseal does), and the key id in the tag
// tells CheckMAC which key to use meanwhile. It is deterministic per key,
// account and data, so that a store can compare tags as record versions.
//
// account must be 1 to MaxBindingLen bytes (ErrInvalidBinding).
func (k *Keyring) MAC(account string, data []byte) ([]byte, error) {
	if err := checkID("account", account); err != nil {
		return nil, err
	}
	tag := make([]byte, macHeaderSize, MACSize)
	tag[0] = macVersion
	binary.BigEndian.PutUint32(tag[1:macHeaderSize], uint32(k.s.primary))
	return k.s.pmac.sum(tag, account, data), nil
}

// CheckMAC reports whether tag is what MAC returned for account and data
// under one of the Keyring's sealing keys, comparing in constant time;
// primary reports whether that key is the primary one (if not, a rotation
// is under way and the record is due a new tag). Errors are *SealedError
// values matching ErrInvalidMAC, and ErrSealedFormat (not a tag),
// ErrUnknownKey (a dropped key) or ErrSealedTampered (the record or its
// tag changed); or ErrInvalidBinding about account.
func (k *Keyring) CheckMAC(account string, data, tag []byte) (primary bool, err error) {
	if err := checkID("account", account); err != nil {
		return false, err
	}
	if len(tag) != MACSize || tag[0] != macVersion {
		return false, &SealedError{Reason: ErrSealedFormat, mac: true, detail: "not a record MAC"}
	}
	id := KeyID(binary.BigEndian.Uint32(tag[1:macHeaderSize]))
	hk, ok := k.s.pmac, id == k.s.primary
	if !ok {
		hk, ok = k.s.macs[id]
	}
	if !ok {
		return false, &SealedError{Reason: ErrUnknownKey, KeyID: id, mac: true}
	}
	if !hk.verify(account, data, tag[macHeaderSize:]) {
		return false, &SealedError{Reason: ErrSealedTampered, KeyID: id, mac: true}
	}
	return id == k.s.primary, nil
}

func checkPurpose(p string) error {
	if p == "" || len(p) > MaxPurposeLen {
		return ErrInvalidPurpose
	}
	for i := range len(p) {
		if p[i] <= ' ' || p[i] > '~' {
			return ErrInvalidPurpose
		}
	}
	return nil
}

func checkBinding(account, binding string) error {
	if err := checkID("account", account); err != nil {
		return err
	}
	return checkID("binding", binding)
}

func checkID(what, id string) error {
	if id == "" {
		return fmt.Errorf("%w: empty %s", ErrInvalidBinding, what)
	}
	if len(id) > MaxBindingLen {
		return fmt.Errorf("%w: %s longer than %d bytes", ErrInvalidBinding, what, MaxBindingLen)
	}
	return nil
}

// adBuf holds the associated data of one seal: room for the longest
// account and binding. Buffers are pooled rather than on the stack because
// the AEAD is an interface value, so whatever is passed to its methods
// escapes to the heap.
type adBuf [len(sealADLabel) + sealedHeaderSize + 2 + MaxBindingLen + 2 + MaxBindingLen]byte

var adPool = sync.Pool{New: func() any { return new(adBuf) }}

func getAD() *adBuf { return adPool.Get().(*adBuf) }

// build returns the associated data of a seal in b; see the Keyring doc.
// header is the blob's first sealedHeaderSize bytes; account and binding
// have been checked to be at most MaxBindingLen bytes.
func (b *adBuf) build(header []byte, account, binding string) []byte {
	ad := append(b[:0], sealADLabel...)
	ad = append(ad, header...)
	ad = binary.BigEndian.AppendUint16(ad, uint16(len(account)))
	ad = append(ad, account...)
	ad = binary.BigEndian.AppendUint16(ad, uint16(len(binding)))
	ad = append(ad, binding...)
	return ad
}

// String returns the primary and the key ids, never a key: for example
// "keyring.Keyring(primary=2 keys=[1 2] REDACTED)".
func (k *Keyring) String() string {
	if k == nil || k.s == nil {
		return "keyring.Keyring(nil)"
	}
	return fmt.Sprintf("keyring.Keyring(primary=%d keys=%v REDACTED)", k.s.primary, k.s.ids)
}

// GoString returns the same as String.
func (k *Keyring) GoString() string { return k.String() }

// Format prints String for every verb and flag.
func (k *Keyring) Format(f fmt.State, verb rune) { _, _ = io.WriteString(f, k.String()) }

// LogValue makes slog print the primary and the key ids, never a key.
func (k *Keyring) LogValue() slog.Value {
	if k == nil || k.s == nil {
		return slog.StringValue("keyring.Keyring(nil)")
	}
	return slog.GroupValue(
		slog.Uint64("primary", uint64(k.s.primary)),
		slog.String("keys", fmt.Sprint(k.s.ids)),
	)
}
