// Package dashboard serves the operator's queue dashboard: asynqmon, mounted as a library
// under the admin token, with task payloads and results redacted (they hold customer data)
// and its write actions either refused (read-only) or allowed only from the dashboard's own
// pages, so that a cross-site page cannot drive an operator's logged-in browser.
package dashboard

import (
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/hibiken/asynqmon"
	"github.com/redis/go-redis/v9"

	"github.com/dropsync/dropsync/internal/httpapi"
)

// Options configure the dashboard.
type Options struct {
	// RootPath is the path the dashboard is mounted at, such as "/monitoring".
	RootPath string
	// Redis is the Redis that holds asynq's queues; the dashboard shares it and never
	// closes it.
	Redis redis.UniversalClient
	// Token is the admin token: the password of HTTP basic auth (any user name) or a bearer
	// token. An empty token refuses every request.
	Token string
	// ReadOnly refuses every request that could change a queue or a task.
	ReadOnly bool
	// PrometheusURL, when set, is the Prometheus the dashboard's charts query.
	PrometheusURL string
}

// CodeForbidden is the error code of a refused write action.
const CodeForbidden = "forbidden"

// New returns the dashboard's handler. Every request needs the admin token, including the
// UI's static files, so nothing about the installation shows before login.
func New(opts Options) http.Handler {
	mon := asynqmon.New(asynqmon.Options{
		RootPath:          opts.RootPath,
		RedisConnOpt:      sharedClient{opts.Redis},
		PayloadFormatter:  asynqmon.PayloadFormatterFunc(func(_ string, b []byte) string { return Redact(b) }),
		ResultFormatter:   asynqmon.ResultFormatterFunc(func(_ string, b []byte) string { return Redact(b) }),
		PrometheusAddress: opts.PrometheusURL,
		ReadOnly:          opts.ReadOnly,
	})
	return httpapi.RequireToken(opts.Token, guardWrites(opts.ReadOnly, mon))
}

// sharedClient hands asynqmon the program's Redis client: asynqmon only takes connection
// options, and a second pool per process would double the connections to Redis.
type sharedClient struct{ c redis.UniversalClient }

// MakeRedisClient implements asynq.RedisConnOpt.
func (s sharedClient) MakeRedisClient() any { return s.c }

// guardWrites lets reads through and decides on everything else. asynqmon's API changes
// queues with DELETE and POST (delete, run, archive, pause, cancel); a browser sends the
// operator's basic-auth credentials with any request to this origin, so a write must come
// from a page of this origin (the Origin header, or the Referer where a browser omits it).
func guardWrites(readOnly bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			next.ServeHTTP(w, r)
			return
		}
		if readOnly {
			forbid(w, "the dashboard is read-only (admin.dashboard_read_only): "+r.Method+" is not allowed")
			return
		}
		if !sameOrigin(r) {
			forbid(w, "a dashboard action must come from the dashboard's own pages (Origin or Referer must match the host)")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func forbid(w http.ResponseWriter, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusForbidden)
	_ = json.NewEncoder(w).Encode(httpapi.ErrorBody{Error: httpapi.ErrorDetail{Code: CodeForbidden, Message: msg}})
}

// sameOrigin reports whether the request names a page of its own host as its origin. A
// request that names none is refused: browsers send Origin with every cross-origin write,
// and a missing header cannot be told apart from a stripped one.
func sameOrigin(r *http.Request) bool {
	if o := r.Header.Get("Origin"); o != "" {
		return originMatches(o, r.Host)
	}
	if ref := r.Header.Get("Referer"); ref != "" {
		return originMatches(ref, r.Host)
	}
	return false
}

// originMatches compares the host and port of an origin URL with a Host header, filling in
// the scheme's default port on either side so that "https://a.example" matches
// "a.example:443".
func originMatches(origin, host string) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return false
	}
	port := "80"
	if u.Scheme == "https" {
		port = "443"
	}
	oh, op := splitHostPort(u.Host, port)
	rh, rp := splitHostPort(host, port)
	return oh != "" && strings.EqualFold(oh, rh) && op == rp
}

func splitHostPort(hostport, defaultPort string) (string, string) {
	h, p, err := net.SplitHostPort(hostport)
	if err != nil {
		return strings.Trim(hostport, "[]"), defaultPort
	}
	if p == "" {
		p = defaultPort
	}
	return h, p
}
