package storetest

import (
	"bytes"
	"context"

	"sync/atomic"
	"testing"

	"github.com/twofa-go/twofa"
)

func recoveryTests() []testCase[twofa.Store] {
	return append([]testCase[twofa.Store]{
		{"RecoveryStore/ReplaceRecoveryCodes/Replaces", testReplaceCodes},
		{"RecoveryStore/ReplaceRecoveryCodes/Empty", testReplaceEmpty},
		{"RecoveryStore/ReplaceRecoveryCodes/Binary", testReplaceBinary},
		{"RecoveryStore/ReplaceRecoveryCodes/Isolation", testReplaceIsolation},
		{"RecoveryStore/ReplaceRecoveryCodes/NoAliasing", testReplaceNoAliasing},
		{"RecoveryStore/ConsumeRecoveryCode/Once", testConsumeOnce},
		{"RecoveryStore/ConsumeRecoveryCode/Unknown", testConsumeUnknown},
		{"RecoveryStore/ConsumeRecoveryCode/OtherAccount", testConsumeOtherAccount},
		{"RecoveryStore/ConsumeRecoveryCode/Concurrent", testConsumeConcurrent},
		{"RecoveryStore/ConsumeRecoveryCode/ConcurrentDistinct", testConsumeConcurrentDistinct},
		{"RecoveryStore/DeleteRecoveryCodes/Deletes", testDeleteCodes},
	}, append(unknownTests("RecoveryStore", codesLeft,
		unknownCase[twofa.Store]{"RecoveryCodesLeft", func(ctx context.Context, s twofa.Store, account string) ([]any, error) {
			return zeroed(s.RecoveryCodesLeft(ctx, account))
		}},
		unknownCase[twofa.Store]{"DeleteRecoveryCodes", func(ctx context.Context, s twofa.Store, account string) ([]any, error) {
			return res(s.DeleteRecoveryCodes(ctx, account))
		}},
	), recoveryCancelTests()...)...)
}

// newDigests returns n random 32-byte digests, like HMAC-SHA-256 outputs.
func newDigests(n int) [][]byte {
	ds := make([][]byte, n)
	for i := range ds {
		ds[i] = randomBytes(32)
	}
	return ds
}

func replace(t *testing.T, s twofa.Store, account string, digests [][]byte) {
	t.Helper()
	if err := s.ReplaceRecoveryCodes(t.Context(), account, digests, t0); err != nil {
		t.Fatalf("ReplaceRecoveryCodes: %v", err)
	}
}

func consume(t *testing.T, s twofa.Store, account string, digest []byte) bool {
	t.Helper()
	left, ok, err := s.ConsumeRecoveryCode(t.Context(), account, digest, t0)
	if err != nil {
		t.Fatalf("ConsumeRecoveryCode: %v", err)
	}
	n, err := s.RecoveryCodesLeft(t.Context(), account)
	if err != nil {
		t.Fatalf("RecoveryCodesLeft: %v", err)
	}
	if left != n {
		t.Errorf("ConsumeRecoveryCode reported %d codes left, RecoveryCodesLeft says %d", left, n)
	}
	return ok
}

func codesLeft(t *testing.T, s twofa.Store, account string) any {
	t.Helper()
	n, err := s.RecoveryCodesLeft(t.Context(), account)
	if err != nil {
		t.Fatalf("RecoveryCodesLeft: %v", err)
	}
	return n
}

func wantLeft(t *testing.T, s twofa.Store, account string, want int) {
	t.Helper()
	n, err := s.RecoveryCodesLeft(t.Context(), account)
	if n != want || err != nil {
		t.Errorf("RecoveryCodesLeft = %d, %v; want %d, nil", n, err, want)
	}
}

func testReplaceCodes(t *testing.T, s twofa.Store) {
	acct := NewAccount()
	first, second := newDigests(10), newDigests(5)
	replace(t, s, acct, first)
	wantLeft(t, s, acct, 10)
	if !consume(t, s, acct, first[3]) {
		t.Fatal("ConsumeRecoveryCode of a stored digest reported false")
	}
	wantLeft(t, s, acct, 9)

	replace(t, s, acct, second)
	wantLeft(t, s, acct, 5)
	for i, d := range first {
		if consume(t, s, acct, d) {
			t.Errorf("ConsumeRecoveryCode of replaced digest #%d reported true", i)
		}
	}
	wantLeft(t, s, acct, 5)
	for i, d := range second {
		if !consume(t, s, acct, d) {
			t.Errorf("ConsumeRecoveryCode of new digest #%d reported false", i)
		}
	}
	wantLeft(t, s, acct, 0)

	// Digests that were used may be stored again.
	replace(t, s, acct, second)
	wantLeft(t, s, acct, 5)
}

func testReplaceEmpty(t *testing.T, s twofa.Store) {
	for _, empty := range [][][]byte{nil, {}} {
		acct := NewAccount()
		old := newDigests(3)
		replace(t, s, acct, old)
		replace(t, s, acct, empty)
		wantLeft(t, s, acct, 0)
		for _, d := range old {
			if consume(t, s, acct, d) {
				t.Errorf("after ReplaceRecoveryCodes(%#v), an old digest was consumed", empty)
			}
		}
	}
}

func testReplaceBinary(t *testing.T, s twofa.Store) {
	acct := NewAccount()
	ds := [][]byte{
		{0}, {0, 0}, {0, 0, 0, 1},
		[]byte("abc"), []byte("ABC"), []byte("abc "),
		bytes.Repeat([]byte{0xff}, 32), allBytes(),
	}
	replace(t, s, acct, ds)
	wantLeft(t, s, acct, len(ds))
	for i, d := range ds {
		if !consume(t, s, acct, d) {
			t.Errorf("ConsumeRecoveryCode(%x) (#%d) reported false", d, i)
		}
		wantLeft(t, s, acct, len(ds)-i-1)
	}
	if consume(t, s, acct, []byte{}) {
		t.Error("ConsumeRecoveryCode of an empty digest reported true")
	}
}

func testReplaceIsolation(t *testing.T, s twofa.Store) {
	a, b := NewAccount(), NewAccount()
	da, db := newDigests(4), newDigests(6)
	replace(t, s, a, da)
	replace(t, s, b, db)
	replace(t, s, a, newDigests(2))
	wantLeft(t, s, a, 2)
	wantLeft(t, s, b, 6)
	if !consume(t, s, b, db[0]) {
		t.Error("another account's ReplaceRecoveryCodes voided a code")
	}
}

func testReplaceNoAliasing(t *testing.T, s twofa.Store) {
	acct := NewAccount()
	ds := newDigests(3)
	kept := make([][]byte, len(ds))
	for i, d := range ds {
		kept[i] = bytes.Clone(d)
	}
	replace(t, s, acct, ds)
	for _, d := range ds {
		d[0] ^= 0xff
	}
	ds[1] = nil
	for i, d := range kept {
		if !consume(t, s, acct, d) {
			t.Errorf("after the caller changed its slices, digest #%d was no longer stored", i)
		}
	}
}

func testConsumeOnce(t *testing.T, s twofa.Store) {
	acct := NewAccount()
	ds := newDigests(10)
	replace(t, s, acct, ds)
	for i, d := range ds {
		if !consume(t, s, acct, d) {
			t.Errorf("first ConsumeRecoveryCode of #%d reported false", i)
		}
		if consume(t, s, acct, d) {
			t.Errorf("second ConsumeRecoveryCode of #%d reported true", i)
		}
		wantLeft(t, s, acct, len(ds)-i-1)
	}
}

func testConsumeUnknown(t *testing.T, s twofa.Store) {
	acct := NewAccount()
	ds := newDigests(3)
	replace(t, s, acct, ds)
	for _, d := range [][]byte{randomBytes(32), ds[0][:31], append(bytes.Clone(ds[0]), 0), nil} {
		if consume(t, s, acct, d) {
			t.Errorf("ConsumeRecoveryCode(%x), not a stored digest, reported true", d)
		}
	}
	wantLeft(t, s, acct, 3)
	if consume(t, s, NewAccount(), ds[0]) {
		t.Error("ConsumeRecoveryCode of an unknown account reported true")
	}
}

func testConsumeOtherAccount(t *testing.T, s twofa.Store) {
	a, b := NewAccount(), NewAccount()
	da := newDigests(3)
	shared := randomBytes(32)
	replace(t, s, a, append(da, shared))
	replace(t, s, b, [][]byte{shared})
	for i, d := range da {
		if consume(t, s, b, d) {
			t.Errorf("account b consumed account a's digest #%d", i)
		}
	}
	wantLeft(t, s, a, 4)
	if !consume(t, s, a, shared) {
		t.Fatal("ConsumeRecoveryCode of a digest both accounts hold reported false")
	}
	wantLeft(t, s, b, 1)
	if !consume(t, s, b, shared) {
		t.Error("consuming account a's copy of a digest consumed account b's")
	}
	wantLeft(t, s, a, 3)
}

func testConsumeConcurrent(t *testing.T, s twofa.Store) {
	const n = 200
	acct := NewAccount()
	ds := newDigests(3)
	replace(t, s, acct, ds)
	wins := count(n, func(int) bool {
		left, ok, err := s.ConsumeRecoveryCode(t.Context(), acct, ds[1], t0)
		if err != nil {
			t.Errorf("ConsumeRecoveryCode: %v", err)
		}
		if ok && left != 2 {
			t.Errorf("the winning ConsumeRecoveryCode reported %d codes left, want 2", left)
		}
		return ok
	})
	if wins != 1 {
		t.Errorf("%d concurrent ConsumeRecoveryCode calls of one digest: %d reported true, want exactly 1", n, wins)
	}
	wantLeft(t, s, acct, 2)
}

func testConsumeConcurrentDistinct(t *testing.T, s twofa.Store) {
	const codes, each = 10, 5
	acct := NewAccount()
	ds := newDigests(codes)
	replace(t, s, acct, ds)
	wins := make([]atomic.Int32, codes)
	lefts := make([]atomic.Int32, codes) // how many winners reported each count
	parallel(codes*each, func(i int) {
		left, ok, err := s.ConsumeRecoveryCode(t.Context(), acct, ds[i%codes], t0)
		if err != nil {
			t.Errorf("ConsumeRecoveryCode: %v", err)
		}
		if ok {
			wins[i%codes].Add(1)
			if left < 0 || left >= codes {
				t.Errorf("ConsumeRecoveryCode reported %d codes left of %d", left, codes)
				return
			}
			lefts[left].Add(1)
		}
	})
	for n := range lefts {
		if w := lefts[n].Load(); w != 1 {
			t.Errorf("%d winning ConsumeRecoveryCode calls reported %d codes left, want exactly 1 (the count right after each)", w, n)
		}
	}
	for i := range wins {
		if w := wins[i].Load(); w != 1 {
			t.Errorf("digest #%d, consumed by %d concurrent calls: %d reported true, want 1", i, each, w)
		}
	}
	wantLeft(t, s, acct, 0)
}

func testDeleteCodes(t *testing.T, s twofa.Store) {
	a, b := NewAccount(), NewAccount()
	da := newDigests(4)
	replace(t, s, a, da)
	replace(t, s, b, newDigests(3))
	if err := s.DeleteRecoveryCodes(t.Context(), a); err != nil {
		t.Fatalf("DeleteRecoveryCodes: %v", err)
	}
	wantLeft(t, s, a, 0)
	wantLeft(t, s, b, 3)
	for i, d := range da {
		if consume(t, s, a, d) {
			t.Errorf("ConsumeRecoveryCode of deleted digest #%d reported true", i)
		}
	}
	if err := s.DeleteRecoveryCodes(t.Context(), a); err != nil {
		t.Errorf("DeleteRecoveryCodes again: %v", err)
	}
	// The account can get a new set afterwards.
	replace(t, s, a, da[:2])
	wantLeft(t, s, a, 2)
}
