package shopify

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// rewrite serves api_base_url: go-shopify always builds https://<shop>/admin/api/…, so the
// transport swaps scheme and host and keeps a path prefix in front (for fakes and proxies).
type rewrite struct {
	base *url.URL
	next http.RoundTripper
}

func (t rewrite) RoundTrip(r *http.Request) (*http.Response, error) {
	r2 := r.Clone(r.Context())
	r2.URL.Scheme = t.base.Scheme
	r2.URL.Host = t.base.Host
	r2.Host = t.base.Host
	if p := strings.TrimSuffix(t.base.Path, "/"); p != "" {
		r2.URL.Path = p + r.URL.Path
		if r.URL.RawPath != "" {
			r2.URL.RawPath = p + r.URL.RawPath
		}
	}
	return t.next.RoundTrip(r2)
}

// observe reports the call-limit header of responses from a bucket at least half full, and
// every 429, to the shop's limiter, and counts calls for metrics.
type observe struct {
	shop string
	lim  *Limiter
	obs  Observer
	next http.RoundTripper
}

func (t observe) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(r)
	if err != nil {
		t.obs.ShopifyCall(t.shop, r.Method, 0)
		return resp, err
	}
	t.obs.ShopifyCall(t.shop, r.Method, resp.StatusCode)
	// Shopify's count only matters once its bucket is half full: below that, a count the
	// limiter has not caught up with cannot lead to a 429 before a later reply (every reply
	// carries the count) corrects it, so the Redis round trip is saved on most calls.
	// A bucket of another size than configured (a plan changed) is always reported, so the
	// limiter learns it.
	if used, size, ok := parseCallLimit(resp.Header.Get("X-Shopify-Shop-Api-Call-Limit")); ok &&
		(2*used >= size || size != t.lim.Configured(t.shop)) {
		t.lim.Observe(r.Context(), t.shop, used, size)
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		t.lim.Throttled(r.Context(), t.shop)
	}
	return resp, nil
}

// parseCallLimit reads "32/40".
func parseCallLimit(h string) (used, size int, ok bool) {
	a, b, found := strings.Cut(h, "/")
	if !found {
		return 0, 0, false
	}
	u, err1 := strconv.Atoi(strings.TrimSpace(a))
	s, err2 := strconv.Atoi(strings.TrimSpace(b))
	if err1 != nil || err2 != nil || s <= 0 {
		return 0, 0, false
	}
	return u, s, true
}
