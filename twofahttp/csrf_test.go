package twofahttp_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twofa-go/twofa/twofahttp"
)

func TestCrossOriginProtection(t *testing.T) {
	csrf, err := twofahttp.CrossOriginProtection("https://app.example.net")
	require.NoError(t, err)
	posted := 0
	h := csrf.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		posted++
		w.WriteHeader(http.StatusNoContent)
	}))
	form := url.Values{"code": {"123456"}}.Encode()

	tests := []struct {
		name    string
		method  string
		headers map[string]string
		status  int
	}{
		{"same-origin by fetch metadata", http.MethodPost, map[string]string{"Sec-Fetch-Site": "same-origin"}, http.StatusNoContent},
		{"user typed the address", http.MethodPost, map[string]string{"Sec-Fetch-Site": "none"}, http.StatusNoContent},
		{"same origin by Origin", http.MethodPost, map[string]string{"Origin": "https://login.example.com"}, http.StatusNoContent},
		{"no browser headers (curl, a mail client)", http.MethodPost, nil, http.StatusNoContent},
		{"trusted origin", http.MethodPost, map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://app.example.net"}, http.StatusNoContent},
		{"cross-site by fetch metadata", http.MethodPost, map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}, http.StatusForbidden},
		{"same-site subdomain", http.MethodPost, map[string]string{"Sec-Fetch-Site": "same-site", "Origin": "https://blog.example.com"}, http.StatusForbidden},
		{"cross-origin by Origin (older browser)", http.MethodPost, map[string]string{"Origin": "https://evil.example"}, http.StatusForbidden},
		{"cross-site DELETE", http.MethodDelete, map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"cross-site GET is safe", http.MethodGet, map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusNoContent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			posted = 0
			r := httptest.NewRequest(tc.method, "https://login.example.com/signin/code", strings.NewReader(form))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for k, v := range tc.headers {
				r.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			require.Equal(t, tc.status, rec.Code, rec.Body.String())
			if tc.status == http.StatusForbidden {
				assert.Equal(t, 0, posted, "the handler never ran")
				assert.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
				var p twofahttp.Problem
				require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &p))
				assert.Equal(t, twofahttp.TypeCrossOrigin, p.Type)
				assert.Equal(t, http.StatusForbidden, p.Status)
				assert.NotEmpty(t, p.Detail)
			} else {
				assert.Equal(t, 1, posted)
			}
		})
	}
}

func TestCrossOriginProtectionBadOrigin(t *testing.T) {
	for _, o := range []string{"app.example.net", "https://app.example.net/path", "https://app.example.net?q"} {
		_, err := twofahttp.CrossOriginProtection(o)
		assert.Error(t, err, o)
	}
}
