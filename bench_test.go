package twofa_test

// Benchmarks, side by side with github.com/pquerna/otp v1.5.0:
//
//	go test -run='^$' -bench=. -benchmem -count=3 .
//
// Every pair uses the same secret (the RFC 4226 one), SHA-1, 6 digits and a
// 30 s period: pquerna's GenerateCode defaults. pquerna's ValidateCustom
// tries the current step first and stops at a match, so its "match" case is
// its best case; twofa computes the whole window whatever the outcome.

import (
	"testing"
	"time"

	photp "github.com/pquerna/otp/hotp"
	ptotp "github.com/pquerna/otp/totp"

	"github.com/twofa-go/twofa"
)

var benchAt = time.Unix(1_700_000_000, 0)

func benchTOTP(b *testing.B) (*twofa.TOTP, string, string) {
	b.Helper()
	tp := coreTOTP(b, twofa.Options{})
	code, err := tp.Code(benchAt)
	if err != nil {
		b.Fatal(err)
	}
	// A well-formed code outside the window.
	wrong := tp.CodeAt(12345)
	step, err := tp.Step(benchAt)
	if err != nil {
		b.Fatal(err)
	}
	for s := step - 1; s <= step+1; s++ {
		if tp.CodeAt(s) == wrong {
			b.Fatal("the failing code matches")
		}
	}
	return tp, code, wrong
}

func BenchmarkTOTPCode(b *testing.B) {
	b.Run("twofa", func(b *testing.B) {
		tp, _, _ := benchTOTP(b)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := tp.Code(benchAt); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("pquerna", func(b *testing.B) {
		secret := coreRFCSecret(b).Base32()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ptotp.GenerateCode(secret, benchAt); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkTOTPAppendCode(b *testing.B) {
	b.Run("twofa", func(b *testing.B) {
		tp, _, _ := benchTOTP(b)
		buf := make([]byte, 0, twofa.MaxDigits)
		b.ReportAllocs()
		for b.Loop() {
			var err error
			if buf, err = tp.AppendCode(buf[:0], benchAt); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkTOTPVerifySkew1(b *testing.B) {
	tp, code, wrong := benchTOTP(b)
	secret := coreRFCSecret(b).Base32()
	opts := ptotp.ValidateOpts{Period: 30, Skew: 1, Digits: 6}
	for _, c := range []struct {
		name string
		code string
		ok   bool
	}{{"match", code, true}, {"fail", wrong, false}} {
		b.Run("twofa/"+c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := tp.Verify(c.code, benchAt, 1); (err == nil) != c.ok {
					b.Fatal(err)
				}
			}
		})
		b.Run("pquerna/"+c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if ok, err := ptotp.ValidateCustom(c.code, secret, benchAt, opts); ok != c.ok || err != nil {
					b.Fatal(ok, err)
				}
			}
		})
	}
}

func BenchmarkHOTPCode(b *testing.B) {
	b.Run("twofa", func(b *testing.B) {
		h := coreHOTP(b, twofa.Options{})
		b.ReportAllocs()
		var c uint64
		for b.Loop() {
			_ = h.Code(c)
			c++
		}
	})
	b.Run("pquerna", func(b *testing.B) {
		secret := coreRFCSecret(b).Base32()
		b.ReportAllocs()
		var c uint64
		for b.Loop() {
			if _, err := photp.GenerateCode(secret, c); err != nil {
				b.Fatal(err)
			}
			c++
		}
	})
}

func BenchmarkHOTPAppendCode(b *testing.B) {
	b.Run("twofa", func(b *testing.B) {
		h := coreHOTP(b, twofa.Options{})
		buf := make([]byte, 0, twofa.MaxDigits)
		b.ReportAllocs()
		var c uint64
		for b.Loop() {
			buf = h.AppendCode(buf[:0], c)
			c++
		}
	})
}

// BenchmarkHOTPVerify checks one counter (look-ahead 0), which is all
// pquerna's hotp.Validate does, and twofa's default look-ahead of 5.
func BenchmarkHOTPVerify(b *testing.B) {
	h := coreHOTP(b, twofa.Options{})
	secret := coreRFCSecret(b).Base32()
	const counter = 1000
	code, wrong := h.Code(counter), h.Code(counter+1000)
	for _, c := range []struct {
		name string
		code string
		ok   bool
	}{{"match", code, true}, {"fail", wrong, false}} {
		b.Run("twofa/"+c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := h.Verify(c.code, counter, 0); (err == nil) != c.ok {
					b.Fatal(err)
				}
			}
		})
		b.Run("twofa-lookahead5/"+c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := h.Verify(c.code, counter, twofa.DefaultLookAhead); (err == nil) != c.ok {
					b.Fatal(err)
				}
			}
		})
		b.Run("pquerna/"+c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if ok := photp.Validate(c.code, counter, secret); ok != c.ok {
					b.Fatal(ok)
				}
			}
		})
	}
}

// BenchmarkTOTPCodeAlgorithms shows the cost of the larger hashes.
func BenchmarkTOTPCodeAlgorithms(b *testing.B) {
	for _, alg := range []twofa.Algorithm{twofa.SHA1, twofa.SHA256, twofa.SHA512} {
		b.Run(alg.String(), func(b *testing.B) {
			tp := coreTOTP(b, twofa.Options{Algorithm: alg, Digits: 8})
			buf := make([]byte, 0, twofa.MaxDigits)
			b.ReportAllocs()
			for b.Loop() {
				buf, _ = tp.AppendCode(buf[:0], benchAt)
			}
		})
	}
}

// BenchmarkTOTPVerifyParallel measures the pooled HMAC states under
// contention.
func BenchmarkTOTPVerifyParallel(b *testing.B) {
	tp, code, _ := benchTOTP(b)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := tp.Verify(code, benchAt, 1); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
